import Foundation
import StrataServing
import StrataTesting
import Testing

@testable import StrataRedis

/// One behaviour for every recommendation cache store (the embedded one and Redis): round trips,
/// whole-table swaps that readers see as old or new and never mixed, table info. Then what only
/// the shared store does: another replica reads the same tables, old generations are deleted,
/// keys expire, and an unreachable Redis is a miss, not a failure of the request.
@Suite(.serialized) struct RecommendationCacheTests {
    static func table(users: Int, computedAt: Int64, seed: Int32) -> [String: CachedList] {
        Dictionary(
            uniqueKeysWithValues: (0..<users).map { user in
                let items = (0..<10).map { Int32(user) &* 31 &+ seed &+ Int32($0) }
                return ("u\(user)", CachedList(items: items, scores: items.map { Float($0) / 7 + 0.25 }, computedAt: computedAt))
            })
    }

    static func conforms(_ store: any RecommendationCacheStore) async throws {
        #expect(await store.get(model: "m@1", user: "u1") == nil)
        #expect(await store.tableInfo(model: "m@1") == nil)
        let first = table(users: 300, computedAt: 1000, seed: 1)
        try await store.publish(model: "m@1", table: first, computedAt: 1000)
        for user in ["u0", "u7", "u299"] { #expect(await store.get(model: "m@1", user: user) == first[user]) }
        #expect(await store.get(model: "m@1", user: "nobody") == nil)
        #expect(await store.get(model: "m@2", user: "u1") == nil)
        #expect(await store.tableInfo(model: "m@1")?.users == 300)
        #expect(await store.tableInfo(model: "m@1")?.computedAt == 1000)
        // Readers during a swap see the old table or the new one, whole.
        let second = table(users: 200, computedAt: 2000, seed: 5)
        let reader = Task {
            var seen = Set<Int64>()
            for step in 0..<400 {
                let user = "u\(step % 200)"
                guard let list = await store.get(model: "m@1", user: user) else { continue }
                #expect(list == first[user] || list == second[user], "a mixed or damaged list")
                seen.insert(list.computedAt)
            }
            return seen
        }
        try await store.publish(model: "m@1", table: second, computedAt: 2000)
        let seen = await reader.value
        #expect(seen.isSubset(of: [1000, 2000]))
        try await Task.sleep(for: .milliseconds(1100))  // past a shared store's meta TTL
        #expect(await store.get(model: "m@1", user: "u250") == nil)
        #expect(await store.get(model: "m@1", user: "u3") == second["u3"])
        #expect(await store.tableInfo(model: "m@1")?.users == 200)
    }

    /// A forgotten user's list is gone from every named model; the others' stay.
    static func forgets(_ store: any RecommendationCacheStore) async throws {
        let first = table(users: 20, computedAt: 5000, seed: 3)
        let second = table(users: 20, computedAt: 5000, seed: 4)
        try await store.publish(model: "f@1", table: first, computedAt: 5000)
        try await store.publish(model: "f@2", table: second, computedAt: 5000)
        try await store.forget(user: "u3", models: ["f@1", "f@2"])
        #expect(await store.get(model: "f@1", user: "u3") == nil)
        #expect(await store.get(model: "f@2", user: "u3") == nil)
        #expect(await store.get(model: "f@1", user: "u4") == first["u4"])
        #expect(await store.get(model: "f@2", user: "u4") == second["u4"])
    }

    @Test func theEmbeddedStoreConforms() async throws {
        let store = MemoryRecommendationCache()
        try await Self.conforms(store)
        try await Self.forgets(store)
    }

    @Test func theRedisStoreConformsAndIsShared() async throws {
        guard let server = try RedisServer() else {
            peerMissing(RedisServer.skipMessage)
            return
        }
        let client = try RedisClient(url: server.url)
        defer { client.close() }
        let store = RedisRecommendationCache(client: client, namespace: "shop", expireMillis: 3_600_000)
        try await Self.conforms(store)
        // Another replica (its own client) reads the same table.
        let replicaClient = try RedisClient(url: server.url)
        defer { replicaClient.close() }
        let replica = RedisRecommendationCache(client: replicaClient, namespace: "shop", expireMillis: 3_600_000)
        #expect(await replica.get(model: "m@1", user: "u3") == Self.table(users: 200, computedAt: 2000, seed: 5)["u3"])
        // A third table: the first generation's keys are gone, the previous one is kept for
        // readers still holding its meta; every key expires.
        try await store.publish(model: "m@1", table: Self.table(users: 50, computedAt: 3000, seed: 9), computedAt: 3000)
        let keys = try await client.command(["DBSIZE"]).integer ?? 0
        #expect(keys == 200 + 50 + 1)
        let ttl = try await client.command(["PTTL", "strata:shop:recmeta:m@1"]).integer ?? -1
        #expect(ttl > 0 && ttl <= 3_600_000)
        // Another namespace does not see this project's tables.
        let other = RedisRecommendationCache(client: client, namespace: "blog", expireMillis: 3_600_000)
        #expect(await other.get(model: "m@1", user: "u3") == nil)
        try await Self.forgets(store)
        // Redis gone: reads are misses (the serving path answers live), writes fail clearly.
        server.kill()
        let downClient = RedisClient(endpoint: try RedisEndpoint(url: server.url), connections: 1, timeout: .milliseconds(200), connectAttempts: 1)
        let down = RedisRecommendationCache(client: downClient, namespace: "shop", expireMillis: 3_600_000)
        #expect(await down.get(model: "m@1", user: "u3") == nil)
        await #expect(throws: RedisError.self) { try await down.publish(model: "m@1", table: [:], computedAt: 4000) }
    }

    @Test func listsRoundTripTheBinaryEncoding() {
        let list = CachedList(items: [0, -1, .max, 42], scores: [0, -.infinity, .nan, 1e-30], computedAt: -5)
        let decoded = RedisRecommendationCache.decode(RedisRecommendationCache.encode(list))
        #expect(decoded?.items == list.items && decoded?.computedAt == -5)
        #expect(decoded?.scores.map(\.bitPattern) == list.scores.map(\.bitPattern))
        #expect(RedisRecommendationCache.decode([1, 2, 3]) == nil)
        #expect(RedisRecommendationCache.decode(Array(RedisRecommendationCache.encode(list).dropLast())) == nil)
    }
}
