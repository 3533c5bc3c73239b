import Foundation
import StrataCore
import StrataTesting
import Testing

@testable import StrataLake

@Suite struct CatalogTests {
    @Test func upsertsAreEventsAndTheViewKeepsTheLatestState() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var lake = try Fixtures.lake(directory)
        let result = try await lake.ingestor.upsertCatalog(
            .item,
            [
                CatalogUpsert(id: "i1", properties: ["category": "shoes", "price": 40, "tags": ["a", "b"], "timestamp": "2026-11-01T00:00:00Z"]),
                CatalogUpsert(id: "i2", properties: ["category": "hats", "hidden": true]),
                CatalogUpsert(id: "i3", properties: ["price": "cheap"]),
                CatalogUpsert(id: "i4", properties: ["colour": "red"]),
            ], source: "test")
        #expect(result.accepted == 2)
        #expect(result.rejected.map(\.index) == [2, 3])
        #expect(result.rejected.map(\.code) == ["wrong_type", "unknown_field"])
        try lake.catalog.catchUp()
        #expect(lake.catalog.item("i1")?.properties["price"] == .double(40))
        #expect(lake.catalog.item("i1")?.properties["tags"] == .stringList(["a", "b"]))
        #expect(lake.catalog.item("i2")?.hidden == true)
        #expect(lake.catalog.recommendableItemIDs() == ["i1"])
        // An older change arriving late does not undo a newer one.
        _ = try await lake.ingestor.upsertCatalog(
            .item, [CatalogUpsert(id: "i1", properties: ["category": "old", "timestamp": "2026-10-01T00:00:00Z"])], source: "test")
        _ = try await lake.ingestor.upsertCatalog(.user, [CatalogUpsert(id: "u1", properties: ["segment": "vip", "country": "DE"])], source: "test")
        _ = try await lake.ingestor.upsertCatalog(.item, [CatalogUpsert(id: "i2", properties: ["deleted": true])], source: "test")
        try lake.catalog.catchUp()
        #expect(lake.catalog.item("i1")?.properties["category"] == .string("shoes"))
        #expect(lake.catalog.item("i2") == nil)
        #expect(lake.catalog.user("u1")?.properties["segment"] == .string("vip"))
        await lake.close()
        // The checkpoint and the log tail rebuild the same state.
        lake = try Fixtures.lake(directory)
        #expect(lake.catalog.item("i1")?.properties["category"] == .string("shoes"))
        #expect(lake.catalog.itemCount == 1)
        #expect(lake.catalog.userCount == 1)
        // Catalog changes are in the lake like every event.
        let report = try await lake.maintain(force: true)
        #expect(Set(report.files.map(\.type)) == [CatalogEventType.item, CatalogEventType.user])
        await lake.close()
    }

    @Test func aDeletionIsRememberedSoServingSkipsTheItemAndALateUpsertCannotUndoIt() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var lake = try Fixtures.lake(directory)
        _ = try await lake.ingestor.upsertCatalog(
            .item, [CatalogUpsert(id: "i1", properties: ["category": "shoes", "timestamp": "2026-11-01T00:00:00Z"])], source: "test")
        _ = try await lake.ingestor.upsertCatalog(
            .item, [CatalogUpsert(id: "i1", properties: ["deleted": true, "timestamp": "2026-11-02T00:00:00Z"])], source: "test")
        // An upsert older than the deletion arrives late.
        _ = try await lake.ingestor.upsertCatalog(
            .item, [CatalogUpsert(id: "i1", properties: ["category": "stale", "timestamp": "2026-11-01T12:00:00Z"])], source: "test")
        try lake.catalog.catchUp()
        #expect(lake.catalog.item("i1") == nil, "the deletion is newer than the late upsert")
        // Serving sees a deleted item as hidden (never recommended) and an unknown one as absent.
        #expect(lake.catalog.itemsForServing(["i1", "never-heard-of"]).map { $0?.isRecommendable } == [false, nil])
        _ = try lake.catalog.checkpoint()
        await lake.close()
        lake = try Fixtures.lake(directory)
        #expect(lake.catalog.itemsForServing(["i1"]).first??.isRecommendable == false, "the checkpoint keeps the deletion")
        // A newer upsert brings the item back.
        _ = try await lake.ingestor.upsertCatalog(
            .item, [CatalogUpsert(id: "i1", properties: ["category": "boots", "timestamp": "2026-11-03T00:00:00Z"])], source: "test")
        try lake.catalog.catchUp()
        #expect(lake.catalog.itemsForServing(["i1"]).first??.isRecommendable == true)
        await lake.close()
    }
}
