import Foundation
import StrataCore
import StrataFeatures
import StrataLake
import StrataRedis
import StrataTesting
import Testing

/// Redis passes the conformance suite every online feature store runs: the worker's store
/// computes from a lake in a temporary folder and publishes what events touched to a real
/// `redis-server`, and an API replica's reader answers from there.
@Suite struct RedisFeatureStoreConformanceTests {
    @Test func theRedisReaderConforms() async throws {
        guard let redis = try RedisServer() else {
            peerMissing(RedisServer.skipMessage)
            return
        }
        defer { redis.kill() }
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let now: Int64 = 1_790_000_000_000
        let lake = try Fixtures.lake(directory, clock: ManualClock(now))
        let definitions = Fixtures.config.contract.features
        let store = try FeatureStore(lake: lake, definitions: definitions, logger: quietLogger)
        let client = try RedisClient(url: redis.url, connections: 2)
        let publisher = RedisFeaturePublisher(store: store, client: client, namespace: "conformance", definitions: definitions, logger: quietLogger)
        let reader = RedisFeatureReader(client: client, namespace: "conformance", definitions: definitions)
        try await OnlineFeatureStoreConformance.check(now: now, reader: reader) { events in
            let result = try await lake.ingestor.ingest(events: events, source: "conformance", allowLate: true)
            #expect(result.rejected.isEmpty && result.accepted == events.count)
            try store.catchUp()
            try await publisher.publish(store.takeChanged())
        }
        client.close()
        await lake.close()
    }
}
