import StrataCore
import Testing

/// What every `BlobStore` does, checked the same way over each implementation (the project
/// folder's `FileBlobStore`, the bucket's `S3BlobStore`): content-addressed round trips, storing
/// twice is free and gives the same name, an unknown or malformed name is refused, and bytes
/// damaged where the store keeps them are never handed out.
public enum BlobStoreConformance {
    /// `corrupt`, when given, damages the stored bytes of a blob (by its hash) where the store
    /// keeps them, so the check can see the store refuse them.
    public static func check(_ store: any BlobStore, corrupt: (@Sendable (String) async throws -> Void)? = nil) async throws {
        let small: [UInt8] = Array("a model artifact".utf8)
        let hash = try await store.put(small)
        #expect(hash == SHA256Hex.of(small), "blobs are named by the SHA-256 of their bytes")
        #expect(try await store.get(hash) == small)
        #expect(try await store.put(small) == hash, "storing the same bytes again gives the same name")
        #expect(try await store.get(hash) == small)

        let empty = try await store.put([])
        #expect(try await store.get(empty) == [])

        // A megabyte of pseudo-random bytes (an LCG: quick in a debug build).
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        let large = (0..<(1 << 20)).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
        let largeHash = try await store.put(large)
        #expect(try await store.get(largeHash) == large)

        await #expect(throws: (any Error).self, "an unknown blob is refused") {
            _ = try await store.get(SHA256Hex.of(Array("never stored".utf8)))
        }
        await #expect(throws: (any Error).self, "a name that is not a SHA-256 is refused") { _ = try await store.get("../../etc/passwd") }

        if let corrupt {
            let victim = try await store.put(Array("bytes that will be damaged".utf8))
            try await corrupt(victim)
            await #expect(throws: (any Error).self, "damaged bytes are never handed out") { _ = try await store.get(victim) }
        }
    }
}
