import Foundation
import StrataCore
import StrataTesting
import Testing

@testable import StrataLake

/// The catalog view: last writer by (event time, offset), deletions, what is recommendable, and
/// checkpoints across a restart.
@Suite struct CatalogViewTests {
    static let now: Int64 = 1_795_953_600_000

    static func upsert(_ lake: Lake, _ id: String, _ properties: JSONValue, kind: CatalogKind = .item)
        async throws -> IngestResult
    {
        try await lake.ingestor.upsertCatalog(
            kind, [CatalogUpsert(id: id, properties: properties)], source: "test")
    }

    @Test func anUpsertIsReadBackWithItsTimeAndOffset() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let lake = try Fixtures.lake(directory, clock: ManualClock(Self.now))
        let result = try await Self.upsert(
            lake, "i1", ["category": "shoes", "price": 40, "timestamp": "2026-11-01T00:00:00Z"])
        #expect(result.accepted == 1)
        #expect(result.offsets == 0..<1)
        // Without a timestamp the change takes the clock's time.
        _ = try await Self.upsert(lake, "i2", ["category": "hats"])
        try lake.catalog.catchUp()
        let entry = try #require(lake.catalog.item("i1"))
        #expect(entry.id == "i1")
        #expect(entry.properties == ["category": .string("shoes"), "price": .double(40)])
        #expect(entry.hidden == false)
        #expect(entry.updatedAt == EventTime.parse("2026-11-01T00:00:00Z"))
        #expect(entry.offset == 0)
        #expect(lake.catalog.item("i2")?.updatedAt == Self.now)
        #expect(lake.catalog.item("i2")?.offset == 1)
        #expect(lake.catalog.entry(.item, id: "i1") == entry)
        #expect(lake.catalog.item("missing") == nil)
        #expect(lake.catalog.itemCount == 2)
        #expect(lake.catalog.appliedThrough == 2)
        await lake.close()
    }

    @Test func anOlderUpsertDoesNotWinAndTiesGoToTheLaterOffset() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let lake = try Fixtures.lake(directory, clock: ManualClock(Self.now))
        _ = try await Self.upsert(lake, "i1", ["category": "new", "timestamp": "2026-11-10T00:00:00Z"])
        _ = try await Self.upsert(lake, "i1", ["category": "old", "timestamp": "2026-11-09T00:00:00Z"])
        try lake.catalog.catchUp()
        #expect(lake.catalog.item("i1")?.properties["category"] == .string("new"))
        #expect(lake.catalog.item("i1")?.offset == 0)
        // Same event time: the later offset wins, and the whole entry is replaced.
        _ = try await Self.upsert(
            lake, "i1", ["category": "tied", "price": 5, "timestamp": "2026-11-10T00:00:00Z"])
        try lake.catalog.catchUp()
        #expect(
            lake.catalog.item("i1")?.properties == ["category": .string("tied"), "price": .double(5)])
        #expect(lake.catalog.item("i1")?.offset == 2)
        // Both orders within one catch-up give the same answer.
        _ = try await Self.upsert(
            lake, "i2", ["category": "older", "timestamp": "2026-11-01T00:00:00Z"])
        _ = try await Self.upsert(
            lake, "i2", ["category": "newer", "timestamp": "2026-11-02T00:00:00Z"])
        _ = try await Self.upsert(
            lake, "i3", ["category": "newer", "timestamp": "2026-11-02T00:00:00Z"])
        _ = try await Self.upsert(
            lake, "i3", ["category": "older", "timestamp": "2026-11-01T00:00:00Z"])
        try lake.catalog.catchUp()
        #expect(lake.catalog.item("i2")?.properties["category"] == .string("newer"))
        #expect(lake.catalog.item("i3")?.properties["category"] == .string("newer"))
        await lake.close()
    }

    @Test func deletedAndHiddenItemsAreNotRecommendable() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let lake = try Fixtures.lake(directory, clock: ManualClock(Self.now))
        for id in ["a", "b", "c", "d"] {
            _ = try await Self.upsert(
                lake, id, ["category": "shoes", "timestamp": "2026-11-01T00:00:00Z"])
        }
        try lake.catalog.catchUp()
        #expect(lake.catalog.recommendableItemIDs().sorted() == ["a", "b", "c", "d"])
        let revision = lake.catalog.revision

        _ = try await Self.upsert(lake, "b", ["deleted": true, "timestamp": "2026-11-02T00:00:00Z"])
        _ = try await Self.upsert(
            lake, "c", ["category": "shoes", "hidden": true, "timestamp": "2026-11-02T00:00:00Z"])
        // A deletion older than the current state does not remove it.
        _ = try await Self.upsert(lake, "d", ["deleted": true, "timestamp": "2026-10-01T00:00:00Z"])
        try lake.catalog.catchUp()
        #expect(lake.catalog.revision > revision)
        #expect(lake.catalog.item("b") == nil)
        #expect(lake.catalog.item("c")?.hidden == true)
        #expect(lake.catalog.item("c")?.isRecommendable == false)
        #expect(lake.catalog.item("d")?.isRecommendable == true)
        #expect(lake.catalog.itemCount == 3)
        #expect(lake.catalog.recommendableItemIDs().sorted() == ["a", "d"])
        let serving = lake.catalog.itemsForServing(["a", "b", "c", "zz"])
        #expect(serving.map { $0?.isRecommendable } == [true, false, false, nil])
        #expect(serving[1]?.properties == [:])
        #expect(serving[1]?.updatedAt == EventTime.parse("2026-11-02T00:00:00Z"))
        await lake.close()
    }

    @Test func aCheckpointAndRestartKeepEntriesDeletionsAndUsers() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var lake = try Fixtures.lake(directory, clock: ManualClock(Self.now))
        _ = try await Self.upsert(
            lake, "i1", ["category": "shoes", "tags": ["a", "b"], "timestamp": "2026-11-01T00:00:00Z"])
        _ = try await Self.upsert(
            lake, "i2", ["category": "hats", "hidden": true, "timestamp": "2026-11-01T00:00:00Z"])
        _ = try await Self.upsert(
            lake, "i3", ["category": "gone", "timestamp": "2026-11-01T00:00:00Z"])
        _ = try await Self.upsert(lake, "i3", ["deleted": true, "timestamp": "2026-11-02T00:00:00Z"])
        _ = try await Self.upsert(
            lake, "u1", ["segment": "vip", "timestamp": "2026-11-01T00:00:00Z"], kind: .user)
        try lake.catalog.catchUp()
        let through = try lake.catalog.checkpoint()
        #expect(through == 5)
        #expect(lake.catalog.checkpointedThrough == 5)
        let before = (
            i1: lake.catalog.item("i1"), i2: lake.catalog.item("i2"), u1: lake.catalog.user("u1")
        )
        #expect(before.i1 != nil && before.i2 != nil && before.u1 != nil)
        await lake.close()

        lake = try Fixtures.lake(directory, clock: ManualClock(Self.now))
        #expect(lake.catalog.checkpointedThrough >= 5)
        #expect(lake.catalog.item("i1") == before.i1)
        #expect(lake.catalog.item("i2") == before.i2)
        #expect(lake.catalog.user("u1") == before.u1)
        #expect(lake.catalog.item("i1")?.properties["tags"] == .stringList(["a", "b"]))
        #expect(lake.catalog.item("i3") == nil)
        #expect(lake.catalog.itemsForServing(["i3"]).first??.isRecommendable == false)
        #expect(lake.catalog.itemCount == 2)
        #expect(lake.catalog.userCount == 1)
        #expect(lake.catalog.recommendableItemIDs() == ["i1"])
        // The deletion is still remembered: an upsert older than it stays out.
        _ = try await Self.upsert(
            lake, "i3", ["category": "stale", "timestamp": "2026-11-01T12:00:00Z"])
        try lake.catalog.catchUp()
        #expect(lake.catalog.item("i3") == nil)
        await lake.close()
    }

    @Test func unusableCatalogEntriesAreDeadLetteredAndTheRestApplied() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let lake = try Fixtures.lake(directory, clock: ManualClock(Self.now))
        let result = try await lake.ingestor.upsertCatalog(
            .item,
            [
                CatalogUpsert(id: "i1", properties: "not an object"),
                CatalogUpsert(id: "i2", properties: ["category": "shoes", "timestamp": true]),
                CatalogUpsert(id: "i3", properties: ["category": "shoes", "timestamp": 1_795_000_000_000]),
            ], source: "catalog-api")
        #expect(result.accepted == 1)
        #expect(result.rejected.map(\.index) == [0, 1])
        #expect(result.rejected.map(\.code) == ["not_an_object", "wrong_type"])
        let letters = try lake.deadLetters.list()
        #expect(letters.map(\.rejection.code) == ["not_an_object", "wrong_type"])
        #expect(letters.allSatisfy { $0.source == "catalog-api" && $0.receivedAt == Self.now })
        #expect(try JSONValue.parse(letters[0].raw)["id"] == .string("i1"))
        try lake.catalog.catchUp()
        #expect(lake.catalog.item("i3")?.updatedAt == 1_795_000_000_000)
        #expect(lake.catalog.itemCount == 1)
        await lake.close()
    }
}
