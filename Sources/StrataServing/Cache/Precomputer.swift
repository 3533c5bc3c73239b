import Foundation
import StrataCore
import StrataLake
import StrataML
import StrataTraining
import Synchronization

/// The batch half of serving: the top-N of every user a model version was trained on,
/// excluding what they interacted with in its training snapshot, written to the cache as one
/// table. `strata serve` runs it after each promotion, on `serving.precompute_interval`, and on
/// request (`strata deploy precompute`).
public struct Precomputer: Sendable {
    let lake: Lake
    let cache: any RecommendationCacheStore
    let topN: Int
    let threads: Int

    public init(lake: Lake, cache: any RecommendationCacheStore, topN: Int, threads: Int = Parallel.coreCount) {
        self.lake = lake
        self.cache = cache
        self.topN = topN
        self.threads = threads
    }

    /// Computes the table of `model` (on threads of its own; call it from one, see
    /// `OwnThread.run`) and publishes it; returns the users written.
    @discardableResult
    public func run(_ model: ServedModel) async throws -> Int {
        let (table, computedAt) = try await OwnThread.run { try compute(model) }
        try await cache.publish(model: model.key, table: table, computedAt: computedAt)
        return table.count
    }

    /// The top-N of every training user of `model`, and when it was computed.
    public func compute(_ model: ServedModel) throws -> (table: [String: CachedList], computedAt: Int64) {
        let computedAt = lake.clock.nowMillis()
        let seen = try seenItems(model)
        let recommender = model.recommender
        let users = recommender.users.ids
        let lists = Mutex<[String: CachedList]>([:])
        let topN = self.topN
        Self.onOwnThreads(users.count, chunkSize: 256, threads: threads) { range in
            var local: [String: CachedList] = [:]
            local.reserveCapacity(range.count)
            for index in range {
                let history = seen[index]
                let query = UserQuery(userIndex: index, items: history, weights: [Float](repeating: 1, count: history.count))
                let top = recommender.recommend(query, n: topN)
                local[users[index]] = CachedList(items: top.map(\.index), scores: top.map(\.score), computedAt: computedAt)
            }
            lists.withLock { $0.merge(local) { a, _ in a } }
        }
        var table = lists.withLock { $0 }
        // Users forgotten after this model was trained get no list from their trained vector.
        if !lake.forgets.isEmpty {
            for user in table.keys where lake.forgets.forgot(userID: user, after: model.version.createdAt) { table[user] = nil }
        }
        return (table, computedAt)
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

    /// Per training user (by the model's index), the items of the model's snapshot they
    /// interacted with (positively or not): never recommended back from the cache.
    func seenItems(_ model: ServedModel) throws -> [[Int32]] {
        let recommender = model.recommender
        var seen = [[Int32]](repeating: [], count: recommender.users.count)
        guard let manifest = try? lake.snapshots.manifest(model.lineage.dataVersion) else { return seen }
        for row in try TrainingData.interactions(manifest, lakeRoot: lake.directory.lake, policy: lake.config.training.interactions) {
            guard let user = recommender.users.index(of: row.user), let item = recommender.items.index(of: row.item) else { continue }
            seen[Int(user)].append(item)
        }
        return seen
    }
}
