import Foundation
import StrataCore

/// Model artifacts and checkpoints in an S3-compatible bucket under `blobs/sha256/`, shared by
/// every replica; a local folder keeps the blobs a replica has already fetched (they are
/// immutable, named by their hash, so a cached copy can never be stale).
public struct S3BlobStore: BlobStore {
    public let client: S3Client
    let cacheDirectory: String?

    public init(client: S3Client, cacheDirectory: String?) {
        self.client = client
        self.cacheDirectory = cacheDirectory
    }

    func key(_ hash: String) -> String { "blobs/sha256/\(hash.prefix(2))/\(hash)" }
    func cachePath(_ hash: String) -> String? { cacheDirectory.map { "\($0)/\(hash)" } }

    public func put(_ bytes: [UInt8]) async throws -> String {
        let hash = SHA256Hex.of(bytes)
        try await client.put(key(hash), Data(bytes))
        remember(bytes, as: hash)
        return hash
    }

    public func get(_ hash: String) async throws -> [UInt8] {
        guard SHA256Hex.isDigest(hash) else { throw StrataError.notFound("blob_not_found", "'\(hash)' is not a blob name") }
        if let path = cachePath(hash), let data = FileManager.default.contents(atPath: path), SHA256Hex.of(data) == hash { return [UInt8](data) }
        guard let data = try await client.get(key(hash)) else {
            throw StrataError.notFound("blob_not_found", "no blob \(hash) in s3://\(client.location.bucket)/\(client.location.prefix)")
        }
        let bytes = try verified([UInt8](data), as: hash, from: "s3://\(client.location.bucket)/\(client.location.prefix)")
        remember(bytes, as: hash)
        return bytes
    }

    /// Keeps a copy for the next load (best effort: the bucket stays the truth).
    func remember(_ bytes: [UInt8], as hash: String) {
        guard let path = cachePath(hash) else { return }
        try? FileManager.default.createDirectory(atPath: cacheDirectory!, withIntermediateDirectories: true)
        let temporary = "\(path).\(UUID().uuidString).tmp"
        if FileManager.default.createFile(atPath: temporary, contents: Data(bytes)) { _ = rename(temporary, path) }
    }
}
