import Foundation
import StrataCore
import StrataFeatures
import StrataLake
import StrataTesting
import Testing

@testable import StrataRedis

/// Online features in a real Redis: what the worker's store publishes, an API replica's reader
/// reads back identically (one MGET for many entities); unknown entities and values of other
/// definitions answer the defaults; after new events only the touched entities are republished.
@Suite(.serialized) struct RedisFeatureStoreTests {
    @Test func publishedFeaturesReadBackAsTheStoreComputesThem() async throws {
        guard let redis = try RedisServer() else {
            peerMissing(RedisServer.skipMessage)
            return
        }
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        // A clock that stands still: sliding windows do not move between publishing and comparing.
        let clock = ManualClock(SystemClock().nowMillis())
        let lake = try Fixtures.lake(directory, clock: clock)
        _ = try await lake.ingestor.ingest(events: Fixtures.events(3000, seed: 5, endMillis: clock.nowMillis()), source: "test", allowLate: true)
        let definitions = Fixtures.config.contract.features
        let store = try FeatureStore(lake: lake, definitions: definitions, logger: quietLogger)
        let client = try RedisClient(url: redis.url, connections: 2)
        let publisher = RedisFeaturePublisher(store: store, client: client, namespace: "shop", definitions: definitions, logger: quietLogger)
        let reader = RedisFeatureReader(client: client, namespace: "shop", definitions: definitions)

        let first = store.takeChanged()  // the first call: every entity
        let users = try #require(first[.user])
        let items = try #require(first[.item])
        #expect(users.count > 100 && items.count > 100)
        try await publisher.publish(first)
        for (entity, ids) in [(FeatureDefinition.Entity.user, Array(users.prefix(200))), (.item, Array(items.prefix(200)))] {
            let local = try store.read(entity, ids: ids, features: nil)
            let remote = try await reader.read(entity, ids: ids, features: nil)
            #expect(remote == local, "\(entity) features differ between the store and Redis")
            // A subset, in the caller's order.
            let names = Array(local[0].map(\.name).reversed().prefix(2))
            #expect(try await reader.read(entity, ids: [ids[0]], features: names)[0] == (try store.read(entity, ids: [ids[0]], features: names)[0]))
        }
        // Unknown entities: the defaults, as the store answers them.
        #expect(try await reader.read(.user, ids: ["nobody"], features: nil) == (try store.read(.user, ids: ["nobody"], features: nil)))
        await #expect(throws: StrataError.self) { try await reader.read(.user, ids: [users[0]], features: ["no_such_feature"]) }
        // Values written for other definitions are not read as these.
        let other = RedisFeatureReader(client: client, namespace: "shop", definitions: Array(definitions.dropLast()))
        let foreign = try await other.read(.user, ids: [users[0]], features: nil)
        #expect(foreign[0].allSatisfy { $0.isDefault })

        // New events: only the entities they touch are republished.
        #expect(store.takeChanged().values.allSatisfy { $0.isEmpty })
        let now = clock.nowMillis()
        let fresh = (0..<5).map {
            IncomingEvent(type: "view", eventID: "fresh\($0)", userID: users[0], time: .millis(now), fields: [("item_id", .string(items[$0]))])
        }
        _ = try await lake.ingestor.ingest(events: fresh, source: "test")
        try store.catchUp()
        let touched = store.takeChanged()
        #expect(touched[.user] == [users[0]])
        #expect(Set(touched[.item] ?? []) == Set(items.prefix(5)))
        try await publisher.publish(touched)
        #expect(try await reader.read(.user, ids: [users[0]], features: nil) == (try store.read(.user, ids: [users[0]], features: nil)))
        // Redis gone: the defaults, not an error on the request path.
        redis.kill()
        let afterRedis = try await reader.read(.user, ids: [users[0]], features: nil)
        #expect(afterRedis[0].allSatisfy { $0.isDefault })
        client.close()
        await lake.close()
    }
}
