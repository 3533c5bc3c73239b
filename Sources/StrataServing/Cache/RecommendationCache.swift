import StrataCore
import Synchronization

/// A user's precomputed list for one model version: item indices best first, their scores,
/// and when it was computed (a later interaction of the user makes it stale).
public struct CachedList: Sendable, Equatable {
    public var items: [Int32]
    public var scores: [Float]
    public var computedAt: Int64

    public init(items: [Int32], scores: [Float], computedAt: Int64) {
        self.items = items
        self.scores = scores
        self.computedAt = computedAt
    }
}

/// Where the batch job puts precomputed recommendations and the serving path reads them:
/// per model version, per user. The embedded store is in memory; `StrataRedis` shares one
/// between replicas. A store that cannot be reached answers reads with nil (the serving path
/// then answers live) and throws on writes.
public protocol RecommendationCacheStore: Sendable {
    func get(model: String, user: String) async -> CachedList?
    /// Replaces the whole table of a model version at once (readers see the old or the new).
    func publish(model: String, table: [String: CachedList], computedAt: Int64) async throws
    /// When the table of a model version was computed, and for how many users.
    func tableInfo(model: String) async -> (computedAt: Int64, users: Int)?
    /// Drops tables of model versions no longer served.
    func retain(models: Set<String>) async
    /// Drops a user's lists from every table of the given models (a forgotten user).
    func forget(user: String, models: Set<String>) async throws
}

/// The embedded recommendation cache: immutable tables swapped under a lock.
public final class MemoryRecommendationCache: RecommendationCacheStore {
    final class Table: Sendable {
        let lists: [String: CachedList]
        let computedAt: Int64
        init(lists: [String: CachedList], computedAt: Int64) {
            self.lists = lists
            self.computedAt = computedAt
        }
    }
    private let tables = Mutex<[String: Table]>([:])

    public init() {}

    public func get(model: String, user: String) -> CachedList? {
        tables.withLock { $0[model] }?.lists[user]
    }

    public func publish(model: String, table: [String: CachedList], computedAt: Int64) {
        let table = Table(lists: table, computedAt: computedAt)
        tables.withLock { $0[model] = table }
    }

    public func tableInfo(model: String) -> (computedAt: Int64, users: Int)? {
        tables.withLock { $0[model] }.map { ($0.computedAt, $0.lists.count) }
    }

    public func retain(models: Set<String>) {
        tables.withLock { $0 = $0.filter { models.contains($0.key) } }
    }

    public func forget(user: String, models: Set<String>) {
        tables.withLock { tables in
            for model in models {
                guard let table = tables[model], table.lists[user] != nil else { continue }
                var lists = table.lists
                lists[user] = nil
                tables[model] = Table(lists: lists, computedAt: table.computedAt)
            }
        }
    }
}
