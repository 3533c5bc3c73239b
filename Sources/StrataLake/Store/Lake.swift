import Foundation
import Logging
import ServiceLifecycle
import StrataCore
import Synchronization

/// Layer 1 of one project, opened on its data directory: the event log, the dead-letter
/// store, the ingestor, the catalog, the compactor and the snapshots. Holds the directory's
/// lock while open.
public final class Lake: Sendable {
    /// strata.yaml as the lake was opened with: read inside StrataLake only; every other
    /// module is handed the sections it needs by whoever wires it.
    let config: StrataConfig
    public let directory: DataDirectory
    public let log: SegmentedLog
    public let deadLetters: DeadLetterStore
    public let ingestor: EventIngestor
    public let catalog: CatalogView
    public let compactor: Compactor
    public let snapshots: SnapshotStore
    /// Users whose events were forgotten (`strata lake forget`).
    public let forgets: ForgetList
    /// The events in offset order, lake then log, forgotten users left out: what consumers replay.
    public let events: EventStream
    public let clock: any WallClock
    let logger: Logger
    private let lock: DirectoryLock
    private let consumers = Mutex<[any LogConsumer]>([])

    /// Opens (creating if needed) the project's data in `dataDirectory`.
    public init(config: StrataConfig, dataDirectory: String, clock: any WallClock = SystemClock(), logger: Logger) throws {
        let directory = DataDirectory(root: dataDirectory, project: config.project)
        self.config = config
        self.directory = directory
        self.clock = clock
        self.logger = logger
        self.lock = try DirectoryLock(path: directory.lockFile)
        let log = try SegmentedLog(
            directory: directory.log, options: LogOptions(segmentBytes: config.log.segmentBytes), clock: clock, logger: logger.with("component", "event-log"))
        self.log = log
        self.deadLetters = try DeadLetterStore(directory: directory.deadLetters, clock: clock, logger: logger.with("component", "dead-letters"))
        self.ingestor = try EventIngestor(
            contract: CompiledContract(config.contract), config: config.ingest, log: log, deadLetters: deadLetters, clock: clock,
            logger: logger.with("component", "ingest"))
        let forgets = try ForgetList(directory: directory)
        self.forgets = forgets
        let events = EventStream(log: log, directory: directory, forgets: forgets)
        self.events = events
        self.catalog = try CatalogView(events: events, directory: directory, forgets: forgets, logger: logger.with("component", "catalog"))
        self.compactor = try Compactor(
            directory: directory, log: log, contract: config.contract, config: config.lake, logConfig: config.log, forgets: forgets, clock: clock,
            logger: logger.with("component", "compactor"))
        self.snapshots = SnapshotStore(directory: directory)
        try ContractHistory(directory: directory).record(config.contract)
    }

    /// Registers a consumer whose restart replays the log from its checkpoint: retention
    /// never deletes what it still needs.
    public func register(_ consumer: any LogConsumer) {
        consumers.withLock { $0.append(consumer) }
    }

    /// The long-running parts, for a service group: the catalog tailer and periodic compaction.
    public var services: [any Service] {
        [catalog, CompactionService(lake: self)]
    }

    /// Flushes and closes everything (after the services stopped).
    public func close() async {
        do {
            try catalog.catchUp()
            try catalog.checkpoint()
        } catch {
            logger.error("could not checkpoint the catalog at shutdown", metadata: ["error": "\(error)"])
        }
        await log.close()
        await deadLetters.close()
        lock.release()
    }

    /// One compaction and retention pass (the service runs this periodically).
    public func maintain(force: Bool = false) async throws -> CompactionReport {
        let report = try await compactor.compact(force: force)
        try catalog.catchUp()
        // Consumers replay the log from their checkpoints, so segments are deleted only below
        // all of them; a checkpoint is rewritten only when retention has segments to delete.
        let all: [any LogConsumer] = [catalog] + consumers.withLock { $0 }
        if let deletable = await compactor.retentionCandidates().last {
            for consumer in all where consumer.checkpointedThrough < deletable.endOffset { _ = try consumer.checkpoint() }
        }
        await compactor.applyRetention(floor: all.map(\.checkpointedThrough).min() ?? 0)
        return report
    }

    /// The lake files compaction has committed (read from its state file, so callers need not
    /// wait for the compactor).
    public func committedLakeFiles() throws -> [LakeFile] { try events.committedFiles() }

    /// Forgets a user (see `Compactor.forget`): their events leave the lake's current files and
    /// every reader of the log skips them; the catalog drops their entry.
    public func forget(userID: String, requestedBy: String) async throws -> ForgetOutcome {
        let outcome = try await compactor.forget(userID: userID, requestedBy: requestedBy)
        try catalog.forget(userID: userID)
        return outcome
    }

    /// A summary of layer 1 for status pages and `strata lake status`.
    public func status() async -> JSONValue {
        let counts = ingestor.counts
        let state = await compactor.state
        let snapshots = (try? snapshots.list()) ?? []
        let segments = log.segments
        return [
            "project": .string(config.project),
            "contract_version": .string(ingestor.contract.version),
            "log": [
                "start_offset": .int(log.startOffset), "end_offset": .int(log.endOffset), "segments": .int(segments.count),
            ],
            "ingest": [
                "accepted": .int(counts.accepted), "rejected": .int(counts.rejected), "duplicates": .int(counts.duplicates),
                "accepted_by_type": .object(counts.acceptedByType.mapValues { .int($0) }),
                "rejected_by_code": .object(counts.rejectedByCode.mapValues { .int($0) }),
                "dedupe_ids": .int(ingestor.dedupeSize),
            ],
            "dead_letters": .int(deadLetters.count),
            "lake": [
                "compacted_through": .int(state.compactedThrough), "files": .int(state.files.count), "rows": .int(state.files.reduce(0) { $0 + $1.rows }),
                "bytes": .int(state.files.reduce(0) { $0 + $1.bytes }),
            ],
            "snapshots": .int(snapshots.count),
            "latest_snapshot": snapshots.last?.json ?? .null,
            "catalog": ["items": .int(catalog.itemCount), "users": .int(catalog.userCount), "applied_through": .int(catalog.appliedThrough)],
        ]
    }
}

/// A reader of the log whose state survives restarts as a checkpoint plus a replay of the log
/// after it (the catalog view, the feature store).
public protocol LogConsumer: Sendable {
    var consumerName: String { get }
    /// The offset a restart replays the log from.
    var checkpointedThrough: Int64 { get }
    /// Writes a checkpoint; returns the offset it covers.
    func checkpoint() throws -> Int64
}

/// Compacts closed segments into the lake and applies log retention, every
/// `lake.compact_interval`, until graceful shutdown.
struct CompactionService: Service {
    let lake: Lake

    func run() async throws {
        let interval = Duration.milliseconds(lake.config.lake.compactIntervalMillis)
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    return
                }
                do {
                    _ = try await lake.maintain()
                } catch {
                    lake.logger.error("compaction failed; it will be retried", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}

extension Logger {
    /// A copy with one more metadata entry.
    public func with(_ key: String, _ value: String) -> Logger {
        var copy = self
        copy[metadataKey: key] = .string(value)
        return copy
    }
}
