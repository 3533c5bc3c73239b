import Foundation
import Logging
import ServiceLifecycle
import StrataCore
import StrataLake
import Synchronization

/// Reading features for entities, the contract with the serving path: batched, so a remote
/// store (Redis, with the scale-out work) can answer many entities in one round trip.
public protocol OnlineFeatureReader: Sendable {
    /// Features of many entities of one kind as of now; unknown entities get defaults.
    func read(_ entity: FeatureDefinition.Entity, ids: [String], features: [String]?) async throws -> [[FeatureReading]]
    /// Applies every event of the local log below `offset` before answering (read-your-writes
    /// after an acknowledged event); false when that failed.
    func applyThrough(_ offset: Int64) async -> Bool
}

extension OnlineFeatureReader {
    /// A store another process feeds (Redis, read by API replicas) has no local log to apply:
    /// read-your-writes across processes is not provided by it.
    public func applyThrough(_ offset: Int64) async -> Bool { true }
}

/// The embedded online store: the engine in memory, fed by tailing the event log within
/// milliseconds of ingestion, snapshotted to disk (with the log offset it covers) so a restart
/// loads the snapshot and replays only the log after it.
public final class FeatureStore: Service, LogConsumer, OnlineFeatureReader, Sendable {
    public let consumerName = "features"
    public let engine: FeatureEngine
    /// The project's events, lake then log (the store keeps its own position in them).
    let events: EventStream
    let clock: any WallClock
    let logger: Logger
    let path: String
    /// Serialises applying and snapshotting (a snapshot must not race an apply).
    private let applying = Mutex(())
    private let snapshotOffset = Mutex<Int64>(0)
    /// How often the running store writes a snapshot.
    let snapshotInterval: Duration

    /// How often the running store samples skew (nil: never), and how many entities.
    let skewCheck: (interval: Duration, entities: Int)?
    private let skewSamples = Mutex(SkewTotals())
    /// The user of the newest event applied from the stream (the dashboard shows their values).
    private let recentUser = Mutex<String?>(nil)
    /// Entities whose values events changed since `takeChanged()` (tracked only once asked for:
    /// a publisher to a shared store turns it on).
    private let changed = Mutex<(tracking: Bool, users: Set<String>, items: Set<String>)>((false, [], []))

    /// Over an open lake: its events and clock, its project folder for the snapshot, and
    /// registered with it so that log retention keeps what a restart replays.
    public convenience init(
        lake: Lake, definitions: [FeatureDefinition], snapshotInterval: Duration = .seconds(300), skewCheck: (interval: Duration, entities: Int)? = nil,
        logger: Logger
    ) throws {
        try self.init(
            events: lake.events, clock: lake.clock, snapshotPath: "\(lake.directory.projectRoot)/features/snapshot.bin", definitions: definitions,
            snapshotInterval: snapshotInterval, skewCheck: skewCheck, logger: logger)
        lake.register(self)
    }

    /// The store over `events`, its snapshot at `snapshotPath`: restored, then the events after
    /// it replayed.
    public init(
        events: EventStream, clock: any WallClock, snapshotPath: String, definitions: [FeatureDefinition], snapshotInterval: Duration = .seconds(300),
        skewCheck: (interval: Duration, entities: Int)? = nil, logger: Logger
    ) throws {
        self.events = events
        self.clock = clock
        self.engine = FeatureEngine(definitions: definitions)
        self.logger = logger
        self.snapshotInterval = snapshotInterval
        self.skewCheck = skewCheck
        self.path = snapshotPath
        let start = MonotonicClock.nanoseconds()
        // Without a usable snapshot the catch-up below replays everything: the lake's files
        // for what the log no longer holds, then the log.
        if try engine.restore(from: path) {
            snapshotOffset.withLock { $0 = engine.appliedThrough }
            dropForgottenUsers(snapshotThrough: engine.appliedThrough)
        }
        let replayedFrom = engine.appliedThrough
        try catchUp()
        logger.info(
            "feature store ready",
            metadata: [
                "features": "\(definitions.count)", "snapshot_offset": "\(snapshotOffset.withLock { $0 })",
                "replayed": "\(engine.appliedThrough - replayedFrom)",
                "ms": "\((MonotonicClock.nanoseconds() - start) / 1_000_000)",
            ])
    }

    /// A snapshot taken before a forget covered the user's events still holds their state.
    private func dropForgottenUsers(snapshotThrough: Int64) {
        let stale = events.usersForgotten(after: snapshotThrough)
        guard !stale.isEmpty else { return }
        for user in engine.entityKeys()[.user] ?? [] where stale.contains(ForgetRecord.hash(of: user)) { engine.remove(.user, id: user) }
    }

    /// Drops a forgotten user's values (after `Lake.forget`, whose record makes the tailer skip
    /// their earlier events) and writes a snapshot without them.
    public func forget(userID: String) throws {
        applying.withLock { _ in _ = engine.remove(.user, id: userID) }
        changed.withLock { state in if state.tracking { state.users.insert(userID) } }
        try checkpoint()
    }

    /// Every event at offsets below `end` (the lake's files, then the log).
    func history(through end: Int64) throws -> [(offset: Int64, event: Event)] {
        var history: [(offset: Int64, event: Event)] = []
        try events.replay(from: 0, to: end) { offset, event in history.append((offset, event)) }
        return history
    }

    /// Runs `body` while no event is applied.
    func withApplyingPaused<T>(_ body: () throws(StrataError) -> T) throws(StrataError) -> T {
        try applying.withLock { _ throws(StrataError) in try body() }
    }

    /// Applies the log below `offset` now, on the caller's task, if the tail has not yet.
    public func applyThrough(_ offset: Int64) async -> Bool {
        if engine.appliedThrough < offset { try? catchUp() }
        return engine.appliedThrough >= offset
    }

    /// Applies every durable log record not applied yet.
    public func catchUp() throws {
        try applying.withLock { _ in
            let now = clock.nowMillis()
            var lastUser: String?
            let tracking = changed.withLock { $0.tracking }
            var users = Set<String>()
            var items = Set<String>()
            let end = try events.replay(from: engine.appliedThrough) { offset, event in
                engine.apply(event, offset: offset, now: now)
                if let user = event.userID { lastUser = user }
                if tracking {
                    if let user = event.userID { users.insert(user) }
                    if let item = event.itemID { items.insert(item) }
                }
            }
            // Past any forgotten user's events at the end, which were skipped, not applied.
            engine.advance(through: end)
            if let lastUser { recentUser.withLock { $0 = lastUser } }
            if tracking, !users.isEmpty || !items.isEmpty {
                changed.withLock {
                    $0.users.formUnion(users)
                    $0.items.formUnion(items)
                }
            }
        }
    }

    /// The entities events touched since the last call (the first call starts tracking and
    /// returns every entity the store knows).
    public func takeChanged() -> [FeatureDefinition.Entity: [String]] {
        let wasTracking = changed.withLock { state in
            defer { state.tracking = true }
            return state.tracking
        }
        guard wasTracking else { return engine.entityKeys() }
        return changed.withLock { state in
            defer { (state.users, state.items) = ([], []) }
            return [.user: Array(state.users), .item: Array(state.items)]
        }
    }

    // MARK: - Reading

    public func read(_ entity: FeatureDefinition.Entity, ids: [String], features: [String]?) throws(StrataError) -> [[FeatureReading]] {
        // The names are checked even when no ids are asked: a wrong request is refused whatever its ids.
        if ids.isEmpty {
            _ = try engine.resolve(features, entity: entity)
            return []
        }
        let now = clock.nowMillis()
        var result: [[FeatureReading]] = []
        result.reserveCapacity(ids.count)
        for id in ids { result.append(try engine.read(entity, id: id, features: features, at: now)) }
        return result
    }

    public func read(_ entity: FeatureDefinition.Entity, id: String, features: [String]? = nil) throws(StrataError) -> [FeatureReading] {
        try engine.read(entity, id: id, features: features, at: clock.nowMillis())
    }

    // MARK: - Running

    /// Tails the log until graceful shutdown, snapshotting every `snapshotInterval`, and once
    /// more at the end.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.tail() }
                group.addTask { await self.settleEverySecond() }
                if let skewCheck = self.skewCheck { group.addTask { await self.sampleSkew(every: skewCheck.interval, entities: skewCheck.entities) } }
            }
        }
        do {
            try catchUp()
            _ = try checkpoint()
        } catch {
            logger.error("could not snapshot the feature store at shutdown", metadata: ["error": "\(error)"])
        }
    }

    private func tail() async {
        var lastSnapshot = ContinuousClock.now
        while !Task.isCancelled {
            do {
                try catchUp()
                if ContinuousClock.now - lastSnapshot >= snapshotInterval {
                    // Encoding every state and an fsync: off the cooperative pool requests run on.
                    _ = try await OwnThread.run { try self.checkpoint() }
                    lastSnapshot = ContinuousClock.now
                }
            } catch {
                logger.error("the feature store could not read the log", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
            await events.waitForEvents(from: engine.appliedThrough)
        }
    }

    /// Slides windows forward as the clock moves even when no events come, so reads answer
    /// from remembered values.
    private func settleEverySecond() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            engine.settle(at: clock.nowMillis())
        }
    }

    /// Compares a sample of live values with a batch recomputation now and then; the latest
    /// sample and running totals are in `status()`.
    private func sampleSkew(every interval: Duration, entities: Int) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            guard !Task.isCancelled else { return }
            do {
                let sample = try sampleSkew(entities: entities)
                skewSamples.withLock { $0.add(sample) }
                if sample.mismatches > 0 {
                    logger.error(
                        "online features differ from their batch recomputation",
                        metadata: ["mismatches": "\(sample.mismatches)", "examples": "\(sample.examples.prefix(3))"])
                }
            } catch {
                logger.error("the skew sample failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Records a sample taken on request (`strata features check-skew --live`, tests).
    public func record(_ sample: LiveSkewSample) {
        skewSamples.withLock { $0.add(sample) }
    }

    public var checkpointedThrough: Int64 { snapshotOffset.withLock { $0 } }

    /// Writes a snapshot of every state; returns the log offset it covers.
    @discardableResult
    public func checkpoint() throws -> Int64 {
        let (bytes, through) = applying.withLock { _ in engine.snapshotBytes() }
        try AtomicFile.write(bytes, to: path)
        snapshotOffset.withLock { $0 = through }
        return through
    }

    /// Status for the API and the dashboard.
    public func status() -> JSONValue {
        let counts = engine.entityCounts
        return [
            "features": .int(engine.features.count), "applied_through": .int(engine.appliedThrough), "log_end": .int(events.end),
            "snapshot_offset": .int(checkpointedThrough), "users": .int(counts[.user] ?? 0), "items": .int(counts[.item] ?? 0),
            "freshness": .array(engine.freshness(now: clock.nowMillis())),
            "skew": skewSamples.withLock { $0.json },
            "recent_user": recentUser.withLock { $0 }.map(JSONValue.string) ?? .null,
        ]
    }
}

/// Every skew sample since start, summed, and the latest.
struct SkewTotals: Sendable {
    var samples = 0
    var comparedValues = 0
    var mismatches = 0
    var latest: LiveSkewSample?

    mutating func add(_ sample: LiveSkewSample) {
        samples += 1
        comparedValues += sample.comparedValues
        mismatches += sample.mismatches
        latest = sample
    }

    var json: JSONValue {
        [
            "samples": .int(samples), "compared_values": .int(comparedValues), "mismatches": .int(mismatches),
            "latest": latest?.json ?? .null,
        ]
    }
}
