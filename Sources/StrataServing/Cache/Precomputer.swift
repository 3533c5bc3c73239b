import Foundation
import StrataCore
import StrataLake
import StrataML
import Synchronization

/// The batch half of serving: the top-N of every user a model version was trained on,
/// excluding what they interacted with — the serving activity's `SeenItems`, the one
/// definition every path uses (`serving.exclude_seen`), over their whole history up to the
/// moment of the run — written to the cache as one table. `strata serve` runs it after each
/// promotion, on `serving.precompute_interval`, and on request (`strata deploy precompute`).
public struct Precomputer: Sendable {
    let lake: Lake
    let activity: ServingActivity
    let cache: any RecommendationCacheStore
    let topN: Int
    let threads: Int

    public init(lake: Lake, activity: ServingActivity, cache: any RecommendationCacheStore, topN: Int, threads: Int = Parallel.coreCount) {
        self.lake = lake
        self.activity = activity
        self.cache = cache
        self.topN = topN
        self.threads = threads
    }

    /// Computes the table of `model` (on threads of its own; call it from one, see
    /// `OwnThread.run`) and publishes it; returns the users written.
    @discardableResult
    public func run(_ model: ServedModel) async throws -> Int {
        // The lists are stamped before the activity is read and the activity has applied every
        // event logged by then: an interaction that is not excluded from a list makes it stale.
        let computedAt = lake.clock.nowMillis()
        await activity.waitUntilApplied(through: lake.log.endOffset)
        let table = try await OwnThread.run { compute(model, computedAt: computedAt) }
        try await cache.publish(model: model.key, table: table, computedAt: computedAt)
        return table.count
    }

    /// The top-N of every training user of `model`, stamped `computedAt`.
    public func compute(_ model: ServedModel, computedAt: Int64) -> [String: CachedList] {
        let recommender = model.recommender
        let (history, excluded) = activity.seenIndices(users: recommender.users, items: recommender.items)
        let users = recommender.users.ids
        let factor = recommender as? any FactorRecommender
        let retrieval = factor?.retrieval
        let lists = Mutex<[String: CachedList]>([:])
        let topN = self.topN
        Self.onOwnThreads(users.count, chunkSize: 256, threads: threads) { range in
            var local: [String: CachedList] = [:]
            local.reserveCapacity(range.count)
            var scores = [Float](repeating: 0, count: retrieval == nil ? recommender.items.count : 0)
            for index in range {
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
                local[users[index]] = CachedList(items: top.map { Int32($0.index) }, scores: top.map(\.score), computedAt: computedAt)
            }
            lists.withLock { $0.merge(local) { a, _ in a } }
        }
        var table = lists.withLock { $0 }
        // Users forgotten after this model was trained get no list from their trained vector.
        if !lake.forgets.isEmpty {
            for user in table.keys where lake.forgets.forgot(userID: user, after: model.version.createdAt) { table[user] = nil }
        }
        return table
    }

    /// Runs `body` over chunks of `0..<count` on `threads` threads of its own (the calling one
    /// and new ones): a long batch job must not occupy the shared pools the server's requests
    /// run on.
    static func onOwnThreads(_ count: Int, chunkSize: Int, threads: Int, _ body: @escaping @Sendable (Range<Int>) -> Void) {
        let chunks = (count + chunkSize - 1) / chunkSize
        let next = Atomic<Int>(0)
        let work: @Sendable () -> Void = {
            while true {
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
