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
    @Test func theEmbeddedStoreConforms() async throws {
        let store = MemoryRecommendationCache()
        try await RecommendationCacheConformance.conforms(store)
        try await RecommendationCacheConformance.forgets(store)
    }

    @Test func theRedisStoreConformsAndIsShared() async throws {
        guard let server = try RedisServer() else {
            peerMissing(RedisServer.skipMessage)
            return
        }
        let client = try RedisClient(url: server.url)
        defer { client.close() }
        let store = RedisRecommendationCache(client: client, namespace: "shop", expireMillis: 3_600_000)
        try await RecommendationCacheConformance.conforms(store)
        // Another replica (its own client) reads the same table.
        let replicaClient = try RedisClient(url: server.url)
        defer { replicaClient.close() }
        let replica = RedisRecommendationCache(client: replicaClient, namespace: "shop", expireMillis: 3_600_000)
        #expect(await replica.get(model: "m@1", user: "u3") == RecommendationCacheConformance.table(users: 200, computedAt: 2000, seed: 5)["u3"])
        // A third table: the first generation's keys are gone, the previous one is kept for
        // readers still holding its meta; every key expires.
        try await store.publish(model: "m@1", table: RecommendationCacheConformance.table(users: 50, computedAt: 3000, seed: 9), computedAt: 3000)
        let keys = try await client.command(["DBSIZE"]).integer ?? 0
        #expect(keys == 200 + 50 + 1)
        let ttl = try await client.command(["PTTL", "strata:shop:recmeta:m@1"]).integer ?? -1
        #expect(ttl > 0 && ttl <= 3_600_000)
        // Another namespace does not see this project's tables.
        let other = RedisRecommendationCache(client: client, namespace: "blog", expireMillis: 3_600_000)
        #expect(await other.get(model: "m@1", user: "u3") == nil)
        try await RecommendationCacheConformance.forgets(store)
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
