import Foundation
import Logging
import StrataCore
import StrataLake
import StrataML
import Synchronization

/// The batch half of serving: the top-N of the users a model version was trained on who were
/// active within `serving.precompute.active_window`, excluding what they interacted with — the
/// serving activity's `SeenItems`, the one definition every path uses (`serving.exclude_seen`),
/// over their whole history up to the moment of the run — written to the cache as one table.
/// `strata serve` runs it after each promotion, on `serving.precompute_interval`, and on request
/// (`strata deploy precompute`).
///
/// A run is incremental: a list from an earlier run of the same version is kept while it is
/// fresh (no interaction of the user since, and younger than half `serving.cache_ttl`); stale
/// and missing lists are computed, most recently active users first. Each chunk of computed
/// lists is checkpointed durably before it counts, so a run killed half-way (or a restarted
/// server) starts from what was finished. Cost: O(trained users) to plan, O(stale users ×
/// (retrieval + n log n)) to compute — with the index, independent of the catalogue's size.
public struct Precomputer: Sendable {
    let sources: ServingSources
    let activity: ServingActivity
    let cache: any RecommendationCacheStore
    let topN: Int
    let threads: Int
    let activeWindowMillis: Int64
    /// A kept list older than this is recomputed (it would expire before the next run).
    let maxReuseAgeMillis: Int64
    let logger: Logger
    let board = PrecomputeBoard()
    /// Set when the server shuts down (`stop()`).
    let stopping = StopFlag()

    public init(
        sources: ServingSources, activity: ServingActivity, cache: any RecommendationCacheStore, topN: Int, threads: Int = Parallel.coreCount,
        logger: Logger = Logger(label: "strata.precompute")
    ) {
        self.sources = sources
        self.activity = activity
        self.cache = cache
        self.topN = topN
        self.threads = threads
        self.activeWindowMillis = activity.settings.serving.precompute.activeWindowMillis
        self.maxReuseAgeMillis = activity.settings.serving.cacheTTLMillis / 2
        self.logger = logger
    }

    /// Stops the batch job for good (the server is shutting down): a run in progress stops
    /// after the chunks in hand, and none starts again. A thread still scoring when the process
    /// exits would run into libraries already torn down (seen: OpenBLAS crashing at exit).
    public func stop() { stopping.set() }

    /// The latest run of every model version (for `/metrics`).
    public var progress: [PrecomputeProgress] { board.all }

    /// Computes the table of `model` (on threads of its own) and publishes it; returns the
    /// users written.
    @discardableResult
    public func run(_ model: ServedModel) async throws -> Int {
        guard !stopping.isSet else { throw CancellationError() }
        // The lists are stamped before the activity is read and the activity has applied every
        // event logged by then: an interaction that is not excluded from a list makes it stale.
        let computedAt = sources.clock.nowMillis()
        await activity.waitUntilApplied(through: sources.events.end)
        let table = try await OwnThread.run { ComputationsAtExit.run(stopping) { compute(model, computedAt: computedAt) } }
        // Stopped half-way: the finished lists are checkpointed for the next run; none is published.
        guard !stopping.isSet else { throw CancellationError() }
        try await cache.publish(model: model.key, table: table, computedAt: computedAt)
        // The checkpoint becomes the published table: what the next run starts from.
        do {
            try PrecomputeCheckpoint(directory: sources.precomputeDirectory, model: model).rewrite(table)
        } catch {
            logger.warning("could not checkpoint the precomputed table", metadata: ["model": "\(model.key)", "error": "\(error)"])
        }
        // A user forgotten after `compute` filtered the table, whose forget ran before this
        // publish and rewrite, would be back in both: drop them again.
        for user in forgottenUsers(in: table, by: model) {
            try await cache.forget(user: user, models: [model.key])
            try forget(user: user, models: [model.key])
        }
        return table.count
    }

    /// The lists of `model`'s active training users, stamped `computedAt` when computed now.
    public func compute(_ model: ServedModel, computedAt: Int64) -> [String: CachedList] {
        let recommender = model.recommender
        let users = recommender.users.ids
        let lastInteractions = activity.lastInteractions(users)
        let since = activeWindowMillis > 0 ? computedAt - activeWindowMillis : Int64.min
        let checkpoint = PrecomputeCheckpoint(directory: sources.precomputeDirectory, model: model)
        // Users forgotten after this model was trained get no list from their trained vector.
        let forgotten = { (user: String) in !sources.forgets.isEmpty && sources.forgets.forgot(userID: user, after: model.version.createdAt) }

        // The plan: keep what is fresh, compute the rest most recently active first.
        var stored = checkpoint.load()
        var kept: [String: CachedList] = [:]
        var plan: [Int] = []
        for (index, user) in users.enumerated() where (lastInteractions[index] >= since || activeWindowMillis <= 0) && !forgotten(user) {
            if let list = stored.removeValue(forKey: user), list.computedAt >= lastInteractions[index], computedAt - list.computedAt < maxReuseAgeMillis {
                kept[user] = list
            } else {
                plan.append(index)
            }
        }
        stored = [:]
        plan.sort { lastInteractions[$0] != lastInteractions[$1] ? lastInteractions[$0] > lastInteractions[$1] : $0 < $1 }
        let order = plan
        board.start(model.key, active: kept.count + order.count, reused: kept.count, toCompute: order.count)

        let (history, excluded) = activity.seenIndices(users: recommender.users, items: recommender.items)
        let factor = recommender as? any FactorRecommender
        let retrieval = factor?.retrieval
        let lists = Mutex(kept)
        let checkpointing = Mutex<(any Error)?>(nil)
        let topN = self.topN
        let (board, logger) = (self.board, self.logger)
        let stopping = self.stopping
        Self.onOwnThreads(order.count, chunkSize: 256, threads: threads, until: stopping) { range in
            var local: [(user: String, list: CachedList)] = []
            local.reserveCapacity(range.count)
            var scores = [Float](repeating: 0, count: retrieval == nil ? recommender.items.count : 0)
            for position in range {
                let index = order[position]
                let query = UserQuery(userIndex: index, items: history[index], weights: [Float](repeating: 1, count: history[index].count))
                let top: [(index: Int, score: Float)]
                if let factor, let retrieval {
                    // A large catalogue: the index, not a scan of every item.
                    let left = Set(excluded[index])
                    top = retrieval.recommend(factor.userVector(query), n: topN) { left.contains(Int32($0)) }
                } else {
                    top = scores.withUnsafeMutableBufferPointer { buffer in
                        recommender.score(query, into: buffer)
                        for item in excluded[index] { buffer[Int(item)] = -.infinity }
                        return TopK.select(UnsafeBufferPointer(buffer), n: topN)
                    }
                }
                local.append((users[index], CachedList(items: top.map { Int32($0.index) }, scores: top.map(\.score), computedAt: computedAt)))
            }
            // Durable before it counts as done (one writer at a time: a record is one append).
            checkpointing.withLock { failure in
                guard failure == nil else { return }
                do { try checkpoint.append(local) } catch { failure = error }
            }
            lists.withLock { table in for (user, list) in local { table[user] = list } }
            if let report = board.advance(model.key, by: local.count) {
                logger.info(
                    "precompute progress",
                    metadata: [
                        "model": "\(model.key)", "computed": "\(report.computed)", "to_compute": "\(report.toCompute)", "reused": "\(report.reused)",
                        "users_per_second": "\(Int(report.usersPerSecond))",
                    ])
            }
        }
        if let failure = checkpointing.withLock({ $0 }) {
            logger.warning("precompute is not checkpointed: an interrupted run starts over", metadata: ["model": "\(model.key)", "error": "\(failure)"])
        }
        _ = board.finish(model.key)
        var table = lists.withLock { $0 }
        // A user forgotten while the run went gets no list either.
        for user in forgottenUsers(in: table, by: model) { table[user] = nil }
        return table
    }

    /// The users of `table` forgotten after `model` was trained (their trained vector must not
    /// give them a list); none without a pass over the table when nobody was forgotten.
    func forgottenUsers(in table: [String: CachedList], by model: ServedModel) -> [String] {
        guard !sources.forgets.isEmpty else { return [] }
        return table.keys.filter { sources.forgets.forgot(userID: $0, after: model.version.createdAt) }
    }

    /// Drops a forgotten user's lists from the checkpoints of `models`.
    public func forget(user: String, models: Set<String>) throws {
        try PrecomputeCheckpoint.forget(user: user, directory: sources.precomputeDirectory, keys: models)
    }

    /// Drops the checkpoints and progress of versions whose tables are no longer kept.
    public func retain(models: Set<String>) {
        PrecomputeCheckpoint.retain(directory: sources.precomputeDirectory, keep: models)
        board.retain(models)
    }

    /// Runs `body` over chunks of `0..<count` on `threads` threads of its own (the calling one
    /// and new ones): a long batch job must not occupy the shared pools the server's requests
    /// run on.
    /// Once `stop` is set, no chunk starts.
    static func onOwnThreads(
        _ count: Int, chunkSize: Int, threads: Int, until stop: StopFlag = StopFlag(), _ body: @escaping @Sendable (Range<Int>) -> Void
    ) {
        let chunks = (count + chunkSize - 1) / chunkSize
        let next = Atomic<Int>(0)
        let work: @Sendable () -> Void = {
            while !stop.isSet {
                let chunk = next.add(1, ordering: .relaxed).oldValue
                guard chunk < chunks else { return }
                body((chunk * chunkSize)..<min(count, (chunk + 1) * chunkSize))
            }
        }
        let helpers = max(0, min(threads, chunks) - 1)
        let done = DispatchSemaphore(value: 0)
        for _ in 0..<helpers {
            let thread = Thread {
                work()
                done.signal()
            }
            thread.start()
        }
        work()
        for _ in 0..<helpers { done.wait() }
    }
}

/// A flag set once, read from any thread.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .releasing) }
    var isSet: Bool { flag.load(ordering: .acquiring) }
}
