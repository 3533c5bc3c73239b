import Foundation
import StrataCore
import StrataFeatures
import StrataLake
import StrataTesting
import Testing

/// The embedded online store passes the conformance suite every online feature store runs: fed
/// through a lake in a temporary folder, applied before each read (read-your-writes), read on
/// its own clock, which stands still.
@Suite struct OnlineFeatureStoreConformanceTests {
    @Test func theEmbeddedStoreConforms() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let now: Int64 = 1_790_000_000_000
        let lake = try Fixtures.lake(directory, clock: ManualClock(now))
        let store = try FeatureStore(lake: lake, definitions: Fixtures.config.contract.features, logger: quietLogger)
        try await OnlineFeatureStoreConformance.check(now: now, reader: store) { events in
            let result = try await lake.ingestor.ingest(events: events, source: "conformance", allowLate: true)
            #expect(result.rejected.isEmpty && result.accepted == events.count)
            let offsets = try #require(result.offsets)
            #expect(await store.applyThrough(offsets.upperBound))
        }
        await lake.close()
    }
}
