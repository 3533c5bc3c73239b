import ArgumentParser
import CMallocStats
import Foundation
import Logging
import StrataCore
import StrataFeatures
import StrataLake
import StrataServing

/// `strata bench memory`: heap bytes per entity of each kind of state one node keeps in
/// memory — feature state per aggregation kind, the ingestion de-duplication index, the catalog
/// and serving activity — over a generated shop. What the README's per-entity table and the
/// capacity arithmetic come from.
///
/// Method: each structure is built after the previous ones, all kept alive, and charged the
/// growth of the heap in use while it was built (glibc's `malloc_info` over every arena: memory
/// taken from the system less free chunks), divided by the entities it holds. Temporary
/// allocations freed during the build do not count; allocator overhead per chunk does. The
/// process's resident size is printed beside it.
struct BenchMemory: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory", abstract: "Heap bytes per user and per item of feature state (per aggregation kind), dedupe index, catalog and serving activity."
    )

    @Option(help: "Users in the generated shop.") var users = 50_000
    @Option(help: "Items in the generated shop.") var items = 20_000
    @Option(help: "Days of history.") var days = 30
    @Option(help: "Events generated (spread over the users and days).") var events = 2_000_000

    /// One feature per aggregation and window kind, each measured in an engine of its own.
    static let kinds: [(name: String, yaml: String)] = [
        ("count, sliding 1h", "{entity: user, source: [view], aggregation: count, window: 1h}"),
        ("count, sliding 24h", "{entity: user, source: [view], aggregation: count, window: 24h}"),
        ("count, bucketed 7d by 1h", "{entity: user, source: [view], aggregation: count, window: 7d, bucket: 1h}"),
        ("count, lifetime", "{entity: user, source: [view], aggregation: count, window: lifetime}"),
        ("sum, sliding 30d", "{entity: user, source: [purchase], aggregation: sum, field: price, window: 30d}"),
        ("mean, sliding 7d", "{entity: user, source: [add_to_cart], aggregation: mean, field: price, window: 7d}"),
        ("max, sliding 30d", "{entity: user, source: [purchase, add_to_cart], aggregation: max, field: price, window: 30d}"),
        ("last, lifetime", "{entity: user, source: [view, click], aggregation: last, field: item_id, window: lifetime}"),
        ("distinct_count, sliding 30d", "{entity: user, source: [view], aggregation: distinct_count, field: item_id, window: 30d}"),
        ("recent_items 20, lifetime", "{entity: user, source: [view, click, add_to_cart, purchase], aggregation: recent_items, n: 20, window: lifetime}"),
        ("count, lifetime (item)", "{entity: item, source: [view], aggregation: count, window: lifetime}"),
        ("count, sliding 24h (item)", "{entity: item, source: [view], aggregation: count, window: 24h}"),
        ("count, bucketed 7d by 1h (item)", "{entity: item, source: [view], aggregation: count, window: 7d, bucket: 1h}"),
    ]

    struct Row {
        var state: String
        var entity: String
        var entities: Int
        var bytes: Int
        var perEntity: Double { entities > 0 ? Double(bytes) / Double(entities) : 0 }
    }

    func run() async throws {
        let endMillis = SystemClock().nowMillis()
        var generatorConfig = GeneratorConfig(endMillis: endMillis)
        generatorConfig.users = users
        generatorConfig.items = items
        generatorConfig.days = days
        let config = try StrataConfig.parse(yaml: ExampleConfig.yaml, file: "(bench)")
        var generator = SyntheticGenerator(contract: config.contract, config: generatorConfig)
        let history = generator.history(limit: events)
        let stream = BenchFeatures.logged(history)
        print("strata bench memory: \(users) users, \(items) items, \(stream.count) events over \(days) days (heap growth per structure)")

        var rows: [Row] = []
        var kept: [AnyObject] = []
        // Feature state, one aggregation kind at a time.
        for kind in Self.kinds {
            let definitions = try BenchFeatures.config(features: "features:\n  f: \(kind.yaml)").contract.features
            let before = Self.heap()
            let engine = FeatureEngine(definitions: definitions)
            for (offset, event) in stream.enumerated() { engine.apply(event, offset: Int64(offset), now: event.timestamp) }
            let grown = Self.heap() - before
            let entity = definitions[0].entity
            rows.append(Row(state: "feature: \(kind.name)", entity: entity.rawValue, entities: engine.entityCounts[entity] ?? 0, bytes: grown))
            kept.append(engine)
        }

        // The lake's in-memory parts: the dedupe index (ingest), the catalog, serving activity.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("strata-bench-memory-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let quiet = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        let lake = try Lake(config: config, dataDirectory: folder, logger: quiet)
        var before = Self.heap()
        for start in stride(from: 0, to: history.count, by: 10_000) {
            _ = try await lake.ingestor.ingest(events: Array(history[start..<min(history.count, start + 10_000)]), source: "bench", allowLate: true)
        }
        rows.append(
            Row(
                state: "ingestion: dedupe index (\(config.ingest.dedupeWindowMillis / 3_600_000) h window)", entity: "event", entities: history.count,
                bytes: Self.heap() - before))

        before = Self.heap()
        // The upserts are freed before the growth is read: only what the catalog keeps counts.
        do {
            let upserts = generator.catalog().items
            _ = try await lake.ingestor.upsertCatalog(.item, upserts, source: "bench")
        }
        try lake.catalog.catchUp()
        rows.append(
            Row(
                state: "catalog (\(config.contract.item.properties.count) item properties)", entity: "item", entities: lake.catalog.itemCount,
                bytes: Self.heap() - before))

        before = Self.heap()
        let activity = try ServingActivity(lake: lake, settings: ServingSettings(config), logger: quiet)
        await activity.waitUntilApplied(through: lake.events.end)
        let active = Set(history.compactMap(\.userID)).count
        rows.append(Row(state: "serving activity (seen items, trending)", entity: "user", entities: active, bytes: Self.heap() - before))
        kept.append(activity)

        // An engine with one lifetime count is an entity's entry (its id, table slot and state
        // array) plus one counter: the cost every further feature of the entity shares.
        let entries = Dictionary(uniqueKeysWithValues: rows.filter { $0.state.hasPrefix("feature: count, lifetime") }.map { ($0.entity, $0.perEntity) })
        print("| state | entity | entities | heap growth | bytes per entity | beyond the entity's entry |")
        print("| --- | --- | --- | --- | --- | --- |")
        for row in rows {
            let beyond = (row.state.hasPrefix("feature:") ? entries[row.entity] : nil).map { String(format: "%.0f", row.perEntity - $0) } ?? "—"
            print(String(format: "| %@ | %@ | %d | %.1f MB | %.0f | %@ |", row.state, row.entity, row.entities, Double(row.bytes) / 1e6, row.perEntity, beyond))
        }
        print(
            "events per user: \(String(format: "%.1f", Double(stream.count) / Double(max(1, active)))); heap in use: \(String(format: "%.0f", Double(Self.heap()) / 1e6)) MB, resident: \(String(format: "%.0f", Double(MemoryProbe.residentBytes()) / 1e6)) MB"
        )
        withExtendedLifetime(kept) {}
        await lake.close()
    }

    /// Heap bytes in use now.
    static func heap() -> Int { Int(strata_heap_in_use()) }
}
