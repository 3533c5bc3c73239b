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

    /// Requests in flight at once.
    let concurrency: Int

    public init(client: S3Client, directory: DataDirectory, concurrency: Int = 8, logger: Logger) {
        self.concurrency = max(1, concurrency)
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
        // Parquet files first, manifests last: a manifest in the bucket names only files already there.
        let files = files.map { ($0.path, "\(directory.lake)/\($0.path)") }.filter { !known.contains("lake/\($0.0)") }
        let manifests = snapshots.map { ("snapshots/\($0).json", "\(directory.snapshots)/\($0).json") }.filter { !known.contains("lake/\($0.0)") }
        var transfer = Transfer()
        for group in [files, manifests] {
            let sizes = try await Self.concurrently(group, width: concurrency) { (relative, local) -> Int in
                guard let data = FileManager.default.contents(atPath: local) else {
                    throw StrataError.internal("lake file \(local) is missing locally; it cannot be uploaded")
                }
                try await self.client.put("lake/\(relative)", data)
                return data.count
            }
            for ((relative, _), size) in zip(group, sizes) {
                known.insert("lake/\(relative)")
                transfer.files += 1
                transfer.bytes += size
            }
            uploaded.withLock { $0 = known }
        }
        return transfer
    }

    /// Runs `body` over `items` with at most `width` at a time (S3 requests are latency-bound:
    /// one at a time leaves the link idle); results in the items' order.
    static func concurrently<Item: Sendable, Result: Sendable>(
        _ items: [Item], width: Int, _ body: @escaping @Sendable (Item) async throws -> Result
    ) async throws -> [Result] {
        try await withThrowingTaskGroup(of: (Int, Result).self) { group in
            var results = [Result?](repeating: nil, count: items.count)
            var next = 0
            while next < min(width, items.count) {
                let index = next
                group.addTask { (index, try await body(items[index])) }
                next += 1
            }
            while let (index, result) = try await group.next() {
                results[index] = result
                if next < items.count {
                    let index = next
                    group.addTask { (index, try await body(items[index])) }
                    next += 1
                }
            }
            return results.map { $0! }
        }
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
        let missing = manifest.files.filter { !FileManager.default.fileExists(atPath: "\(directory.lake)/\($0.path)") }
        let lakeRoot = directory.lake
        let sizes = try await Self.concurrently(missing, width: concurrency) { file -> Int in
            guard let data = try await self.client.get("lake/\(file.path)") else {
                throw StrataError.notFound("lake_file_missing", "snapshot \(version) names \(file.path), which is not in the bucket")
            }
            guard SHA256Hex.of(data) == file.sha256 else { throw StrataError.internal("lake file \(file.path) in the bucket does not match its hash") }
            try AtomicFile.write([UInt8](data), to: "\(lakeRoot)/\(file.path)")
            return data.count
        }
        transfer.files = missing.count
        transfer.bytes = sizes.reduce(0, +)
        if !FileManager.default.fileExists(atPath: "\(directory.snapshots)/\(version).json") {
            try AtomicFile.write([UInt8](manifestData), to: "\(directory.snapshots)/\(version).json")
        }
        return (manifest, transfer)
    }
}

/// Keeps the bucket up to date with the lake, every `intervalMillis` (`lake.compact_interval`:
/// after the compaction that runs on the same schedule, at least a second), until shutdown;
/// failures are retried next time.
public struct LakeMirrorService: Service {
    let mirror: LakeMirror
    let lake: Lake
    let intervalMillis: Int64

    public init(mirror: LakeMirror, lake: Lake, intervalMillis: Int64) {
        self.mirror = mirror
        self.lake = lake
        self.intervalMillis = intervalMillis
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
                try? await Task.sleep(for: .milliseconds(max(1000, intervalMillis)))
            }
        }
    }
}
