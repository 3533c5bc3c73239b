/// Immutable blobs (model artifacts, checkpoints) named by the SHA-256 of their bytes. The
/// embedded store is a folder (`FileBlobStore`); scale-out deployments keep them in an
/// S3-compatible bucket (`S3BlobStore`) that every replica reads.
public protocol BlobStore: Sendable {
    /// Stores `bytes` (durably) and returns their hash; storing the same bytes twice is free.
    func put(_ bytes: [UInt8]) async throws -> String
    /// The bytes named `hash`, verified against it.
    func get(_ hash: String) async throws -> [UInt8]
}

extension BlobStore {
    /// Checks fetched bytes against their name: a store never hands out a corrupted blob.
    public func verified(_ bytes: [UInt8], as hash: String, from location: String) throws -> [UInt8] {
        guard SHA256Hex.of(bytes) == hash else { throw StrataError.internal("blob \(hash) in \(location) is corrupt: its bytes no longer hash to its name") }
        return bytes
    }
}
