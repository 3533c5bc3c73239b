import StrataCore
import StrataServing
import Testing

/// What every `RecommendationCacheStore` does (the embedded one and Redis), checked the same way
/// over each: round trips, whole-table swaps that readers see as old or new and never mixed,
/// table info, and forgetting a user in every named model.
public enum RecommendationCacheConformance {
    public static func table(users: Int, computedAt: Int64, seed: Int32) -> [String: CachedList] {
        Dictionary(
            uniqueKeysWithValues: (0..<users).map { user in
                let items = (0..<10).map { Int32(user) &* 31 &+ seed &+ Int32($0) }
                return ("u\(user)", CachedList(items: items, scores: items.map { Float($0) / 7 + 0.25 }, computedAt: computedAt))
            })
    }

    public static func conforms(_ store: any RecommendationCacheStore) async throws {
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
    public static func forgets(_ store: any RecommendationCacheStore) async throws {
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

}
