import Foundation
import StrataCore
import StrataLake

/// Immutable blobs (model artifacts, checkpoints) named by the SHA-256 of their bytes. The
/// embedded store is a folder; an S3 store comes with the scale-out work behind the same calls.
public protocol BlobStore: Sendable {
    /// Stores `bytes` (durably) and returns their hash; storing the same bytes twice is free.
    func put(_ bytes: [UInt8]) throws -> String
    /// The bytes named `hash`, verified against it.
    func get(_ hash: String) throws -> [UInt8]
}

public struct FileBlobStore: BlobStore {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    func path(_ hash: String) -> String { "\(root)/sha256/\(hash.prefix(2))/\(hash)" }

    public func put(_ bytes: [UInt8]) throws -> String {
        let hash = SHA256Hex.of(bytes)
        if !FileManager.default.fileExists(atPath: path(hash)) { try AtomicFile.write(bytes, to: path(hash)) }
        return hash
    }

    public func get(_ hash: String) throws -> [UInt8] {
        guard SHA256Hex.isDigest(hash), let bytes = AtomicFile.read(path(hash)) else {
            throw StrataError.notFound("blob_not_found", "no blob \(hash) in \(root)")
        }
        guard SHA256Hex.of(bytes) == hash else { throw StrataError.internal("blob \(hash) is corrupt: its bytes no longer hash to its name") }
        return bytes
    }
}
