import Foundation
import Logging
import StrataCore
import StrataParquet

/// What one compaction did.
public struct CompactionReport: Sendable {
    public var segments = 0
    public var files: [LakeFile] = []
    public var rows: Int { files.reduce(0) { $0 + $1.rows } }
    public var compactedThrough: Int64 = 0
}

/// Turns closed log segments into immutable Parquet files, partitioned by event type and day
/// and named by the SHA-256 of their content; takes snapshots of the committed files.
///
/// Each segment is compacted on its own and the writer is deterministic, so re-running a
/// compaction interrupted by a crash rewrites byte-identical files under the same names.
public actor Compactor {
    public let directory: DataDirectory
    let log: SegmentedLog
    let contract: Contract
    let config: LakeConfig
    let logConfig: LogConfig
    let clock: any WallClock
    let logger: Logger
    public internal(set) var state: LakeState
    let snapshots: SnapshotStore
    let forgets: ForgetList

    public init(
        directory: DataDirectory, log: SegmentedLog, contract: Contract, config: LakeConfig, logConfig: LogConfig, forgets: ForgetList, clock: any WallClock,
        logger: Logger
    ) throws {
        self.directory = directory
        self.log = log
        self.contract = contract
        self.config = config
        self.logConfig = logConfig
        self.clock = clock
        self.logger = logger
        self.snapshots = SnapshotStore(directory: directory)
        self.forgets = forgets
        let state = try LakeState.load(path: "\(directory.lakeState)/state.json")
        self.state = state
        Self.removeUncommittedFiles(directory: directory, committed: state, snapshots: snapshots, logger: logger)
    }

    var statePath: String { "\(directory.lakeState)/state.json" }

    /// Compacts every closed segment not yet in the lake. With `force`, first closes the active
    /// segment so that everything acknowledged so far is included; otherwise closes it only
    /// once it is older than `log.segment_max_age`.
    @discardableResult
    public func compact(force: Bool = false) async throws -> CompactionReport {
        if let active = log.segments.last, !active.isClosed, active.endOffset > active.baseOffset {
            let age = clock.nowMillis() - (active.firstWriteMillis ?? clock.nowMillis())
            if force || age >= logConfig.segmentMaxAgeMillis { try await log.roll() }
        }
        var report = CompactionReport(compactedThrough: state.compactedThrough)
        for segment in log.segments where segment.isClosed && segment.endOffset > state.compactedThrough {
            let start = max(segment.baseOffset, state.compactedThrough)
            // Seconds of decoding and encoding for a large segment: off the cooperative pool,
            // where it would hold up every request.
            let files = try await OwnThread.run { try self.compactRange(start..<segment.endOffset) }
            state.files += files
            state.compactedThrough = segment.endOffset
            try state.save(path: statePath)
            report.segments += 1
            report.files += files
            report.compactedThrough = segment.endOffset
            logger.info(
                "compacted log segment into the lake",
                metadata: [
                    "from_offset": "\(start)", "to_offset": "\(segment.endOffset)", "files": "\(files.count)", "rows": "\(files.reduce(0) { $0 + $1.rows })",
                ])
        }
        // A forget a crash interrupted is finished before anything reads the files again.
        if !forgets.pending.isEmpty { _ = try purgeForgotten() }
        return report
    }

    /// Deletes compacted segments older than the retention, never past `floor` (the lowest
    /// offset a consumer still needs to replay from).
    public func applyRetention(floor: Int64) {
        let through = min(state.compactedThrough, floor)
        log.deleteSegments(endingAtOrBefore: through, lastWriteBefore: clock.nowMillis() - logConfig.retentionMillis)
    }

    /// Closed, compacted segments older than the retention: what retention would delete.
    public func retentionCandidates() -> [SegmentInfo] {
        let horizon = clock.nowMillis() - logConfig.retentionMillis
        return log.segments.dropLast().filter { $0.isClosed && $0.endOffset <= state.compactedThrough && ($0.lastWriteMillis ?? 0) < horizon }
    }

    /// Compacts everything acknowledged so far and records a snapshot of the lake.
    public func snapshot() async throws -> SnapshotSummary {
        try await compact(force: true)
        let manifest = SnapshotManifest(project: directory.project, contractVersion: contract.version, files: state.files)
        return try snapshots.save(manifest, at: clock.nowMillis())
    }

    // MARK: - Writing files

    nonisolated private func compactRange(_ range: Range<Int64>) throws -> [LakeFile] {
        struct GroupKey: Hashable {
            var type: String
            var day: Int64
        }
        var groups: [GroupKey: [(offset: Int64, event: Event)]] = [:]
        var forgotten = forgets.makeFilter()
        try log.scan(from: range.lowerBound, to: range.upperBound) { offset, payload in
            let event = try EventCodec.decode(payload)
            if forgotten.excludes(userID: event.userID, offset: offset) { return true }
            groups[GroupKey(type: event.type, day: event.timestamp.floorDivided(by: 86_400_000).quotient), default: []].append((offset, event))
            return true
        }
        var files: [LakeFile] = []
        for key in groups.keys.sorted(by: { ($0.type, $0.day) < ($1.type, $1.day) }) {
            let events = groups[key]!
            let schema = contract.storedSchema(for: key.type) ?? EventTypeSchema(name: key.type, fields: [])
            files.append(try write(events, schema: schema, date: EventTime.day(millis: key.day * 86_400_000)))
        }
        return files
    }

    nonisolated func write(_ events: [(offset: Int64, event: Event)], schema: EventTypeSchema, date: String) throws -> LakeFile {
        let columns = LakeSchema(type: schema).columns(for: events)
        let first = events.first!.offset
        let last = events.last!.offset
        let metadata = [
            "strata.format": "1", "strata.event_type": schema.name, "strata.contract_version": contract.version, "strata.first_offset": String(first),
            "strata.last_offset": String(last),
        ]
        let codec: CompressionCodec
        switch config.compression {
        case .none: codec = .uncompressed
        case .snappy: codec = .snappy
        case .zstd: codec = .zstd
        }
        let bytes = try ParquetWriter.write(
            columns: columns, rowCount: events.count, metadata: metadata,
            options: ParquetWriteOptions(codec: codec, rowGroupRows: config.rowGroupRows, createdBy: "strata \(StrataVersion.current)"))
        let sha = SHA256Hex.of(bytes)
        let relative = LakeFile.path(type: schema.name, date: date, sha256: sha)
        let path = "\(directory.lake)/\(relative)"
        if !FileManager.default.fileExists(atPath: path) { try AtomicFile.write(bytes, to: path) }
        return LakeFile(
            path: relative, sha256: sha, type: schema.name, date: date, rows: events.count, bytes: bytes.count, firstOffset: first, lastOffset: last,
            contractVersion: contract.version)
    }

    /// Deletes Parquet files a crash left behind before their compaction was committed, and
    /// temporary files, so that readers globbing the lake see committed files only. Files that
    /// a forget replaced stay while a snapshot still names them (snapshots are immutable).
    static func removeUncommittedFiles(directory: DataDirectory, committed: LakeState, snapshots: SnapshotStore, logger: Logger) {
        let known = Set(committed.files.map(\.path))
        var uncommitted: [String] = []
        guard let walker = FileManager.default.enumerator(atPath: directory.lakeEvents) else { return }
        while let relative = walker.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            if name.hasPrefix(".tmp-") {
                unlink("\(directory.lakeEvents)/\(relative)")
            } else if name.hasSuffix(".parquet"), !known.contains("events/\(relative)") {
                uncommitted.append(relative)
            }
        }
        // Only then the manifests, and only when there is something to decide: a normal start
        // reads none.
        guard !uncommitted.isEmpty else { return }
        guard let manifests = try? snapshots.allManifests() else {
            logger.warning("a snapshot manifest is unreadable; uncommitted lake files are left in place")
            return
        }
        let named = Set(manifests.flatMap { $0.manifest.files.map(\.path) })
        for relative in uncommitted where !named.contains("events/\(relative)") {
            unlink("\(directory.lakeEvents)/\(relative)")
            logger.info("removed an uncommitted lake file", metadata: ["file": "\(relative)"])
        }
    }
}
