import Foundation
import StrataCore
import StrataTesting
import Testing

@testable import StrataFeatures
@testable import StrataLake

/// Training–serving skew is impossible by construction; these tests prove it on generated data.
@Suite(.serialized) struct SkewTests {
    static let start: Int64 = 1_795_000_000_000

    /// 100,000 generated events through the real streaming path (ingestion → event log → the
    /// store tailing it), online values captured at sampled times, compared with point-in-time
    /// batch values over the lake snapshot of the same events.
    @Test func onlineValuesEqualPointInTimeBatchValues() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let config = Fixtures.config
        let clock = ManualClock(Self.start)
        let lake = try Fixtures.lake(directory, config: config, clock: clock)
        let store = try FeatureStore(lake: lake, definitions: config.contract.features, logger: quietLogger)
        let events = Fixtures.events(30_000, seed: 21, endMillis: Self.start + 3 * 86_400_000)
        let times = events.map { event -> Int64 in if case .millis(let t) = event.time { t } else { 0 } }
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 <= $1 }, "the generated stream is in time order")

        // Capture points: 300 random (entity, time) pairs over the stream's span.
        var rng = SplitMix64(seed: 5)
        let users = Array(Set(events.compactMap(\.userID))).sorted()
        let items = Array(Set(events.compactMap { $0.fields.first { $0.name == "item_id" }?.value?.stringValue })).sorted()
        var captures: [FeatureQuery] = (0..<300).map { _ in
            let time = times.first! + Int64(rng.nextDouble() * Double(times.last! - times.first!))
            return rng.chance(0.5)
                ? FeatureQuery(entity: .user, id: users[rng.nextInt(below: users.count)], time: time)
                : FeatureQuery(entity: .item, id: items[rng.nextInt(below: items.count)], time: time)
        }
        captures.sort { $0.time < $1.time }

        var online: [[FeatureReading]] = []
        var next = 0
        for capture in captures {
            // Everything before the capture time arrives (ingested at its own time), then the
            // store catches up from the log, and the value is read at that moment.
            var batch: [IncomingEvent] = []
            while next < events.count && times[next] < capture.time {
                batch.append(events[next])
                next += 1
            }
            clock.set(capture.time)
            for chunk in stride(from: 0, to: batch.count, by: 5000) {
                let result = try await lake.ingestor.ingest(events: Array(batch[chunk..<min(chunk + 5000, batch.count)]), source: "test")
                #expect(result.rejected.isEmpty)
            }
            try store.catchUp()
            online.append(try store.read(capture.entity, id: capture.id))
        }
        clock.set(times.last! + 1)
        _ = try await lake.ingestor.ingest(events: Array(events[next...]), source: "test")
        let snapshot = try await lake.compactor.snapshot()
        let history = try PointInTime.events(
            of: try lake.snapshots.manifest(snapshot.version), lakeRoot: lake.directory.lake, definitions: config.contract.features)
        let feeding = Set(config.contract.features.flatMap(\.sources))
        #expect(history.count == events.filter { feeding.contains($0.type) }.count, "every feeding event is in the snapshot")
        let batch = try PointInTime.compute(definitions: config.contract.features, events: history, queries: captures)
        var compared = 0
        var nonDefault = 0
        for (index, capture) in captures.enumerated() {
            #expect(online[index].map(\.name) == batch[index].map(\.name))
            for (o, b) in zip(online[index], batch[index]) {
                #expect(
                    o.value == b.value,
                    "\(capture.entity) \(capture.id) at \(capture.time): \(o.name) online \(String(describing: o.value)) batch \(String(describing: b.value))")
                compared += 1
                if !o.isDefault { nonDefault += 1 }
            }
        }
        #expect(compared >= 1500)
        #expect(nonDefault > compared / 4, "the comparison covers real values, not just defaults")
        // The same comparison as a user runs it.
        let report = try SkewCheck.run(definitions: config.contract.features, events: history, samples: 500)
        #expect(report.mismatches.isEmpty)
        #expect(report.comparedValues >= 2500)
        await lake.close()
    }

    /// A restarted store (snapshot + replay of the log after it) equals a recomputation from
    /// every event.
    @Test func restartFromSnapshotEqualsRecomputation() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let config = Fixtures.config
        let clock = ManualClock(Self.start + 4 * 86_400_000)
        var lake = try Fixtures.lake(directory, config: config, clock: clock)
        var store = try FeatureStore(lake: lake, definitions: config.contract.features, logger: quietLogger)
        let events = Fixtures.events(20_000, seed: 22, endMillis: Self.start + 3 * 86_400_000)
        _ = try await lake.ingestor.ingest(events: Array(events.prefix(12_000)), source: "test")
        try store.catchUp()
        try store.checkpoint()
        _ = try await lake.ingestor.ingest(events: Array(events.dropFirst(12_000)), source: "test")
        // No clean stop: the store is dropped without a new snapshot.
        await lake.close()
        lake = try Fixtures.lake(directory, config: config, clock: clock)
        store = try FeatureStore(lake: lake, definitions: config.contract.features, logger: quietLogger)
        #expect(store.engine.appliedThrough == lake.log.endOffset)
        let scratch = FeatureEngine(definitions: config.contract.features)
        try lake.log.scan(from: 0) { offset, payload in
            scratch.apply(try EventCodec.decode(payload), offset: offset, now: clock.nowMillis())
            return true
        }
        let users = Set(events.compactMap(\.userID))
        let items = Set(events.compactMap { $0.fields.first { $0.name == "item_id" }?.value?.stringValue })
        for user in users { #expect(try store.read(.user, id: user) == scratch.read(.user, id: user, at: clock.nowMillis())) }
        for item in items { #expect(try store.read(.item, id: item) == scratch.read(.item, id: item, at: clock.nowMillis())) }
        await lake.close()
    }
}
