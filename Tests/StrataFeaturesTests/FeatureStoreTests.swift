import Foundation
import StrataCore
import StrataLake
import StrataTesting
import Testing

@testable import StrataFeatures

/// The embedded online store over a lake: reading after ingest, restart from its snapshot,
/// forgetting a user, and what it reports.
@Suite(.serialized) struct FeatureStoreTests {
    static let start: Int64 = 1_790_000_000_000
    static let minute: Int64 = 60_000

    static func view(_ user: String, _ item: String, at time: Int64) -> IncomingEvent {
        IncomingEvent(type: "view", userID: user, time: .millis(time), fields: [("item_id", .string(item))])
    }

    static func purchase(_ user: String, _ item: String, price: Double, at time: Int64) -> IncomingEvent {
        IncomingEvent(
            type: "purchase", userID: user, time: .millis(time),
            fields: [("item_id", .string(item)), ("order_id", .string("o-\(user)-\(time)")), ("price", .double(price)), ("category", .string("books"))])
    }

    static func value(_ readings: [FeatureReading], _ name: String) -> FieldValue? {
        readings.first { $0.name == name }?.value
    }

    @Test func valuesReflectIngestedEventsOnceApplied() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualClock(Self.start)
        let lake = try Fixtures.lake(directory, clock: clock)
        let store = try FeatureStore(lake: lake, definitions: Fixtures.config.contract.features, logger: quietLogger)
        let now = Self.start
        let result = try await lake.ingestor.ingest(
            events: [
                Self.view("alice", "i1", at: now - 70 * Self.minute), Self.view("alice", "i2", at: now - 20 * Self.minute),
                Self.view("alice", "i1", at: now - 10 * Self.minute), Self.view("bob", "i1", at: now - 5 * Self.minute),
                Self.purchase("alice", "i2", price: 12.5, at: now - 15 * Self.minute), Self.purchase("alice", "i3", price: 30, at: now - 2 * Self.minute),
            ], source: "test", allowLate: true)
        #expect(result.rejected.isEmpty && result.accepted == 6)
        let end = try #require(result.offsets).upperBound
        // The tail has not run: apply through the acknowledged offsets first (read-your-writes).
        #expect(await store.applyThrough(end))
        #expect(store.engine.appliedThrough >= end)
        clock.advance(1)
        let alice = try store.read(.user, id: "alice")
        #expect(Self.value(alice, "user_views_1h") == .int(2), "the view 70 minutes ago is out of the hour")
        #expect(Self.value(alice, "user_spend_30d") == .double(42.5))
        #expect(Self.value(alice, "user_avg_price_7d") == .double(21.25))
        #expect(Self.value(alice, "user_recent_items") == .stringList(["i3", "i1", "i2"]))
        #expect(Self.value(alice, "user_categories_30d") == .int(1))
        let item = try store.read(.item, id: "i1")
        #expect(Self.value(item, "item_views_24h") == .int(3))
        #expect(Self.value(item, "item_last_viewer") == .string("bob"))
        let i2 = try store.read(.item, id: "i2")
        #expect(Self.value(i2, "item_conversion_7d") == .double(1), "one purchase for one view")
        #expect(Self.value(i2, "item_max_price_30d") == .double(12.5))
        // Batched reads keep the order of the ids, unknown ones with defaults.
        let batch = try store.read(.user, ids: ["bob", "nobody", "alice"], features: ["user_views_1h", "user_spend_30d"])
        #expect(batch.map { $0.map(\.value) } == [[.int(1), .double(0)], [.int(0), .double(0)], [.int(2), .double(42.5)]])
        #expect(batch[1].allSatisfy { $0.isDefault })
        #expect(!batch[0][0].isDefault && batch[0][1].isDefault, "bob bought nothing: the default 0")
        // As time passes the windows slide without new events.
        clock.advance(60 * Self.minute)
        #expect(Self.value(try store.read(.user, id: "alice"), "user_views_1h") == .int(0))
        let status = store.status()
        #expect(status["features"] == .int(Int64(Fixtures.config.contract.features.count)))
        #expect(status["users"] == .int(2) && status["items"] == .int(3))
        #expect(status["applied_through"] == .int(end))
        #expect(status["recent_user"] == .string("alice"))
        await lake.close()
    }

    @Test func aRestartLoadsTheSnapshotAndReplaysOnlyWhatFollows() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualClock(Self.start + 4 * 86_400_000)
        let definitions = Fixtures.config.contract.features
        var lake = try Fixtures.lake(directory, clock: clock)
        var store = try FeatureStore(lake: lake, definitions: definitions, logger: quietLogger)
        let events = Fixtures.events(3000, seed: 31, endMillis: Self.start + 3 * 86_400_000)
        _ = try await lake.ingestor.ingest(events: Array(events.prefix(2000)), source: "test", allowLate: true)
        try store.catchUp()
        let covered = try store.checkpoint()
        #expect(covered == store.engine.appliedThrough && store.checkpointedThrough == covered)
        let users = Array(Set(events.compactMap(\.userID))).sorted().prefix(40)
        let before = try users.map { try store.read(.user, id: $0) }
        await lake.close()

        // The same definitions: the snapshot is loaded and nothing is replayed.
        lake = try Fixtures.lake(directory, clock: clock)
        store = try FeatureStore(lake: lake, definitions: definitions, logger: quietLogger)
        #expect(store.checkpointedThrough == covered)
        #expect(store.engine.appliedThrough == covered)
        #expect(try users.map { try store.read(.user, id: $0) } == before)
        // More events after the restart are applied on top.
        _ = try await lake.ingestor.ingest(events: Array(events.dropFirst(2000)), source: "test", allowLate: true)
        try store.catchUp()
        #expect(store.engine.appliedThrough == lake.log.endOffset)
        let after = try users.map { try store.read(.user, id: $0) }
        await lake.close()

        // Other definitions (the same number, one window changed): the snapshot is not
        // theirs, so everything is replayed from the log.
        var changed = definitions
        let index = try #require(changed.firstIndex { $0.name == "user_clicks_24h" })
        changed[index].window = .sliding(lengthMillis: 48 * 3_600_000)
        lake = try Fixtures.lake(directory, clock: clock)
        let other = try FeatureStore(lake: lake, definitions: changed, logger: quietLogger)
        #expect(other.checkpointedThrough == 0)
        #expect(other.engine.appliedThrough == lake.log.endOffset)
        for (position, user) in users.enumerated() {
            let readings = try other.read(.user, id: user)
            #expect(
                readings.filter { $0.name != "user_clicks_24h" } == after[position].filter { $0.name != "user_clicks_24h" }, "\(user)")
        }
        await lake.close()

        // A feature removed from strata.yaml after a snapshot: the store should replay instead.
        let fewer = Array(definitions.dropLast())
        lake = try Fixtures.lake(directory, clock: clock)
        // A snapshot of other definitions is set aside: the store rebuilds from the lake and the log.
        let smaller = try FeatureStore(lake: lake, definitions: fewer, logger: quietLogger)
        #expect(smaller.engine.appliedThrough == lake.log.endOffset)
        await lake.close()
    }

    @Test func aForgottenUsersValuesAreGoneAndStayGoneAfterARestart() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualClock(Self.start)
        var lake = try Fixtures.lake(directory, clock: clock)
        var store = try FeatureStore(lake: lake, definitions: Fixtures.config.contract.features, logger: quietLogger)
        _ = try await lake.ingestor.ingest(
            events: [Self.view("alice", "i1", at: Self.start - 1000), Self.view("bob", "i1", at: Self.start - 500)], source: "test", allowLate: true)
        try store.catchUp()
        #expect(!(try store.read(.user, id: "alice")).allSatisfy { $0.isDefault })
        _ = try await lake.forget(userID: "alice", requestedBy: "test")
        try store.forget(userID: "alice")
        #expect(try store.read(.user, id: "alice").allSatisfy { $0.isDefault })
        #expect(Self.value(try store.read(.user, id: "bob"), "user_views_1h") == .int(1), "others keep their values")
        await lake.close()
        lake = try Fixtures.lake(directory, clock: clock)
        store = try FeatureStore(lake: lake, definitions: Fixtures.config.contract.features, logger: quietLogger)
        #expect(try store.read(.user, id: "alice").allSatisfy { $0.isDefault }, "neither the snapshot nor the replay brings them back")
        #expect(Self.value(try store.read(.user, id: "bob"), "user_views_1h") == .int(1))
        await lake.close()
    }

    @Test func changedEntitiesAreTrackedOnceAsked() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualClock(Self.start)
        let lake = try Fixtures.lake(directory, clock: clock)
        let store = try FeatureStore(lake: lake, definitions: Fixtures.config.contract.features, logger: quietLogger)
        _ = try await lake.ingestor.ingest(events: [Self.view("alice", "i1", at: Self.start - 10)], source: "test", allowLate: true)
        try store.catchUp()
        // The first call starts tracking and returns every entity known.
        let all = store.takeChanged()
        #expect(all[.user] == ["alice"] && all[.item] == ["i1"])
        #expect(store.takeChanged()[.user]?.isEmpty == true, "nothing changed since")
        _ = try await lake.ingestor.ingest(events: [Self.view("bob", "i2", at: Self.start - 5)], source: "test", allowLate: true)
        try store.catchUp()
        let changed = store.takeChanged()
        #expect(changed[.user] == ["bob"] && changed[.item] == ["i2"])
        try store.forget(userID: "bob")
        #expect(store.takeChanged()[.user] == ["bob"], "a forgotten user changed too")
        await lake.close()
    }
}
