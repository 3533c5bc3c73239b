import Foundation
import StrataCore
import StrataLake

/// The embedded blob store: a folder, one file per blob under `sha256/<first two hex digits>/`.
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
        return try verified(bytes, as: hash, from: root)
    }
}
