import Foundation
import StrataCore
import StrataLake
import StrataTesting
import Testing

@testable import StrataFeatures

/// The engine's state written and read back, and point-in-time values against the online
/// engine at the same instants.
@Suite struct SnapshotAndPointInTimeTests {
    static let start: Int64 = 1_790_000_000_000
    static let hour: Int64 = 3_600_000

    /// The example contract's features.
    static var definitions: [FeatureDefinition] { StrataConfig.example().contract.features }

    /// Shop events over three days for a few users and items, in arrival order: times mostly
    /// increase, some arrive up to ten minutes late.
    static func events(_ count: Int, seed: UInt64) -> [(offset: Int64, event: Event)] {
        var rng = SplitMix64(seed: seed)
        let types = ["view", "view", "view", "click", "add_to_cart", "purchase"]
        return (0..<count).map { index in
            let arrival = start + Int64(index) * (3 * 24 * hour / Int64(count))
            let time = arrival - (rng.chance(0.2) ? Int64(rng.nextInt(below: 600_000)) : 0)
            let type = types[rng.nextInt(below: types.count)]
            var fields: [(name: String, value: FieldValue)] = [("item_id", .string("i\(rng.nextInt(below: 25))"))]
            if type == "purchase" || type == "add_to_cart" { fields.append(("price", .double(Double(rng.nextInt(below: 20_000)) / 100))) }
            if type == "purchase" {
                fields.append(("order_id", .string("o\(index)")))
                fields.append(("category", .string(["books", "games", "music"][rng.nextInt(below: 3)])))
            }
            return (Int64(index), Event(type: type, userID: "u\(rng.nextInt(below: 12))", timestamp: time, ingestedAt: arrival, fields: fields))
        }
    }

    static func write(_ engine: FeatureEngine, to path: String) throws -> Int64 {
        let (bytes, through) = engine.snapshotBytes()
        try AtomicFile.write(bytes, to: path)
        return through
    }

    @Test func aRestoredEngineAnswersAndContinuesLikeTheOriginal() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let events = Self.events(3000, seed: 3)
        let original = FeatureEngine(definitions: Self.definitions)
        // The first half applied as a live store would: `now` is each event's arrival.
        for (offset, event) in events.prefix(1500) { original.apply(event, offset: offset, now: event.ingestedAt) }
        let through = try Self.write(original, to: directory.file("snapshot.bin"))
        #expect(through == 1500)
        let restored = FeatureEngine(definitions: Self.definitions)
        #expect(try restored.restore(from: directory.file("snapshot.bin")))
        #expect(restored.appliedThrough == 1500)
        #expect(restored.entityKeys() == original.entityKeys())
        #expect(restored.freshness(now: Self.start + 2 * Self.hour) == original.freshness(now: Self.start + 2 * Self.hour))
        // Both take the rest of the stream; reads at increasing times agree throughout,
        // including events that were still waiting (at or after `now`) when the snapshot was taken.
        let users = (0..<12).map { "u\($0)" }
        let items = (0..<25).map { "i\($0)" }
        var compared = 0
        for (offset, event) in events.dropFirst(1500) {
            original.apply(event, offset: offset, now: event.ingestedAt)
            restored.apply(event, offset: offset, now: event.ingestedAt)
            guard offset % 100 == 0 else { continue }
            let time = event.ingestedAt + 1
            for user in users { #expect(try restored.read(.user, id: user, at: time) == original.read(.user, id: user, at: time)) }
            for item in items { #expect(try restored.read(.item, id: item, at: time) == original.read(.item, id: item, at: time)) }
            compared += 1
        }
        #expect(compared == 15)
        #expect(restored.appliedThrough == original.appliedThrough)
    }

    @Test func aSnapshotOfOtherDefinitionsOrNoSnapshotLoadsNothing() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let engine = FeatureEngine(definitions: Self.definitions)
        for (offset, event) in Self.events(200, seed: 4) { engine.apply(event, offset: offset, now: event.ingestedAt) }
        _ = try Self.write(engine, to: directory.file("snapshot.bin"))
        // The same number of features, one of them changed: refused by the definitions' hash.
        var changed = Self.definitions
        changed[0].window = .sliding(lengthMillis: 2 * Self.hour)
        let other = FeatureEngine(definitions: changed)
        #expect(other.definitionsHash != engine.definitionsHash, "a changed window is other definitions")
        #expect(try !other.restore(from: directory.file("snapshot.bin")))
        #expect(other.appliedThrough == 0 && other.entityCounts.values.allSatisfy { $0 == 0 })
        #expect(FeatureEngine(definitions: Self.definitions).definitionsHash == engine.definitionsHash, "the hash depends only on the definitions")
        #expect(try !FeatureEngine(definitions: Self.definitions).restore(from: directory.file("missing.bin")))
        // A feature removed: documented to load nothing (return false) as well.
        let fewer = FeatureEngine(definitions: Array(Self.definitions.dropLast()))
        #expect(fewer.definitionsHash != engine.definitionsHash)
        // Another definitions hash: nothing is read, whatever the entities hold.
        #expect(try !fewer.restore(from: directory.file("snapshot.bin")))
        #expect(fewer.appliedThrough == 0 && fewer.entityCounts.values.allSatisfy { $0 == 0 }, "nothing was loaded either way")
    }

    @Test func anEmptyEngineRoundTrips() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let empty = FeatureEngine(definitions: Self.definitions)
        #expect(try Self.write(empty, to: directory.file("snapshot.bin")) == 0)
        let restored = FeatureEngine(definitions: Self.definitions)
        #expect(try restored.restore(from: directory.file("snapshot.bin")))
        #expect(restored.entityCounts.values.allSatisfy { $0 == 0 })
        #expect(try restored.read(.user, id: "anyone", at: Self.start).allSatisfy { $0.isDefault })
    }

    /// Every query of the batch computation answers what the online engine answered at that
    /// instant, having received every event before it (and some after it, still waiting).
    @Test func pointInTimeEqualsTheOnlineEngineAtTheSameInstant() throws {
        let events = Self.events(2500, seed: 5)
        var rng = SplitMix64(seed: 9)
        let span = 3 * 24 * Self.hour
        var queries = (0..<150).map { _ in
            let time = Self.start + Int64(rng.nextDouble() * Double(span))
            return rng.chance(0.5)
                ? FeatureQuery(entity: .user, id: "u\(rng.nextInt(below: 12))", time: time)
                : FeatureQuery(entity: .item, id: "i\(rng.nextInt(below: 25))", time: time)
        }
        queries.append(FeatureQuery(entity: .user, id: "nobody", time: Self.start + Self.hour))
        queries.append(FeatureQuery(entity: .item, id: "i1", time: Self.start - Self.hour))
        let batch = try PointInTime.compute(definitions: Self.definitions, events: events, queries: queries)
        #expect(batch.count == queries.count, "one answer per query, in query order")

        let online = FeatureEngine(definitions: Self.definitions)
        var next = 0
        var nonDefault = 0
        for index in queries.indices.sorted(by: { queries[$0].time < queries[$1].time }) {
            let query = queries[index]
            // Everything that arrived by then; nothing earlier than `time` arrives later than
            // ten minutes after it.
            while next < events.count && events[next].event.ingestedAt < query.time + 600_000 {
                online.apply(events[next].event, offset: events[next].offset, now: query.time)
                next += 1
            }
            // Values, not `isDefault`: the online engine already holds windows for events at or
            // after the query time (waiting), or that have left the window, where the batch
            // computation has none; both answer the same value.
            let live = try online.read(query.entity, id: query.id, at: query.time)
            #expect(live.map(\.name) == batch[index].map(\.name))
            #expect(live.map(\.value) == batch[index].map(\.value), "\(query.entity) \(query.id) at \(query.time)")
            nonDefault += batch[index].filter { !$0.isDefault }.count
        }
        #expect(nonDefault > 300, "the comparison covers computed values, not only defaults")
        #expect(batch[queries.count - 2].allSatisfy { $0.isDefault }, "an unknown user")
        #expect(batch[queries.count - 1].allSatisfy { $0.isDefault }, "before any event")
    }

    @Test func pointInTimeSeesOnlyEventsBeforeTheQueryTime() throws {
        let definitions = [
            FeatureDefinition(name: "views", entity: .user, sources: ["view"], aggregation: .count, window: .lifetime, valueType: .int, defaultValue: .int(0))
        ]
        let events: [(offset: Int64, event: Event)] = (0..<5).map { index in
            (Int64(index), Event(type: "view", userID: "u", timestamp: 1000 * Int64(index), ingestedAt: 0, fields: [("item_id", .string("i"))]))
        }
        let queries = [3000, 0, 3001, 1, 99_999].map { FeatureQuery(entity: .user, id: "u", time: Int64($0)) }
        let values = try PointInTime.compute(definitions: definitions, events: Array(events.reversed()), queries: queries).map { $0[0].value }
        #expect(values == [.int(3), .int(0), .int(4), .int(1), .int(5)], "an event at the query time is not yet seen")
        let onlyViews = try PointInTime.compute(definitions: definitions, events: events, queries: [queries[0]], features: ["views"])
        #expect(onlyViews[0].map(\.name) == ["views"])
    }
}
