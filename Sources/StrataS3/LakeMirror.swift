import Foundation
import Logging
import ServiceLifecycle
import StrataCore
import StrataLake
import Synchronization

/// The lake in an S3-compatible bucket: every committed Parquet file and every snapshot
/// manifest is uploaded under `lake/` with the same relative path it has locally
/// (`lake/events/type=…/date=…/<sha256>.parquet`, `lake/snapshots/<version>.json`), so
/// DuckDB, Spark or pandas read the bucket as they read the folder. Files are immutable and
/// named by their content, so each is uploaded once; `pull` fetches a snapshot's files back
/// into a local lake (a worker on a fresh disk, training elsewhere).
public final class LakeMirror: Sendable {
    public let client: S3Client
    let directory: DataDirectory
    let logger: Logger
    /// Keys known to be in the bucket (listed once, then added to as files are uploaded).
    private let uploaded = Mutex<Set<String>?>(nil)

    public init(client: S3Client, directory: DataDirectory, logger: Logger) {
        self.client = client
        self.directory = directory
        self.logger = logger
    }

    public struct Transfer: Sendable {
        public var files = 0
        public var bytes = 0
    }

    /// Uploads the committed lake files and snapshot manifests the bucket does not have yet.
    @discardableResult
    public func push(files: [LakeFile], snapshots: [String]) async throws -> Transfer {
        var known: Set<String>
        if let cached = uploaded.withLock({ $0 }) {
            known = cached
        } else {
            known = Set(try await client.list(prefix: "lake/"))
        }
        var transfer = Transfer()
        let wanted = files.map { ($0.path, "\(directory.lake)/\($0.path)") } + snapshots.map { ("snapshots/\($0).json", "\(directory.snapshots)/\($0).json") }
        for (relative, local) in wanted where !known.contains("lake/\(relative)") {
            guard let data = FileManager.default.contents(atPath: local) else {
                throw StrataError.internal("lake file \(local) is missing locally; it cannot be uploaded")
            }
            try await client.put("lake/\(relative)", data)
            known.insert("lake/\(relative)")
            transfer.files += 1
            transfer.bytes += data.count
        }
        uploaded.withLock { $0 = known }
        return transfer
    }

    /// Uploads what the lake has committed (files and snapshots) and the bucket lacks.
    @discardableResult
    public func sync(_ lake: Lake) async throws -> Transfer {
        try await push(files: try lake.committedLakeFiles(), snapshots: try lake.snapshots.list().map(\.version))
    }

    /// Downloads a snapshot's manifest and the files of it missing locally, verifying each
    /// against its hash; returns the manifest.
    public func pull(snapshot version: String) async throws -> (SnapshotManifest, Transfer) {
        guard let manifestData = try await client.get("lake/snapshots/\(version).json") else {
            throw StrataError.notFound("snapshot_not_found", "no snapshot \(version) in s3://\(client.location.bucket)/\(client.location.prefix)lake/")
        }
        guard let json = try? JSONValue.parse(String(decoding: manifestData, as: UTF8.self)), let manifest = SnapshotManifest(json: json),
            manifest.version == version
        else { throw StrataError.internal("snapshot manifest \(version) in the bucket is corrupt") }
        var transfer = Transfer()
        for file in manifest.files where !FileManager.default.fileExists(atPath: "\(directory.lake)/\(file.path)") {
            guard let data = try await client.get("lake/\(file.path)") else {
                throw StrataError.notFound("lake_file_missing", "snapshot \(version) names \(file.path), which is not in the bucket")
            }
            guard SHA256Hex.of(data) == file.sha256 else { throw StrataError.internal("lake file \(file.path) in the bucket does not match its hash") }
            try AtomicFile.write([UInt8](data), to: "\(directory.lake)/\(file.path)")
            transfer.files += 1
            transfer.bytes += data.count
        }
        if !FileManager.default.fileExists(atPath: "\(directory.snapshots)/\(version).json") {
            try AtomicFile.write([UInt8](manifestData), to: "\(directory.snapshots)/\(version).json")
        }
        return (manifest, transfer)
    }
}

/// Keeps the bucket up to date with the lake, every `lake.compact_interval` (after the
/// compaction that runs on the same schedule), until shutdown; failures are retried next time.
public struct LakeMirrorService: Service {
    let mirror: LakeMirror
    let lake: Lake

    public init(mirror: LakeMirror, lake: Lake) {
        self.mirror = mirror
        self.lake = lake
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let transfer = try await mirror.sync(lake)
                    if transfer.files > 0 {
                        mirror.logger.info("lake uploaded to S3", metadata: ["files": "\(transfer.files)", "bytes": "\(transfer.bytes)"])
                    }
                } catch {
                    mirror.logger.warning("uploading the lake to S3 failed; retrying at the next pass", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: .milliseconds(max(1000, lake.config.lake.compactIntervalMillis)))
            }
        }
    }
}
