import StrataCore
import StrataFeatures
import StrataLake
import Testing

/// What every online feature store answers (the embedded `FeatureStore`, and Redis, which a
/// worker's store publishes to and API replicas read), checked the same way over each against a
/// `FeatureEngine` fed the same events here: every value of every entity of both kinds, one row
/// per id asked in the order asked (duplicates included), the defaults for unknown entities,
/// exactly the features asked in the order asked, an empty request answered empty, unknown
/// features refused as the engine refuses them, and later events replacing the values read.
public enum OnlineFeatureStoreConformance {
    /// Checks `reader`, whose store computes `definitions` (over the contract of `Fixtures.config`)
    /// and reads at `now` (its clock stands still there). `feed` stores events where that store
    /// computes from them and returns once `reader` answers with them applied; it is called
    /// twice (a history, then later events for some of the same entities).
    public static func check(
        definitions: [FeatureDefinition] = Fixtures.config.contract.features, now: Int64, reader: any OnlineFeatureReader,
        feed: ([IncomingEvent]) async throws -> Void
    ) async throws {
        let reference = Reference(definitions: definitions, now: now)
        let earlier = history(endingBefore: now)
        try await feed(earlier)
        reference.apply(earlier)

        var known: [FeatureDefinition.Entity: [String]] = [:]
        for entity in FeatureDefinition.Entity.allCases {
            let ids = reference.engine.entityKeys()[entity] ?? []
            known[entity] = ids
            try #require(ids.count >= 10, "the generated events reach a few dozen \(entity.rawValue)s")
            try await expectSame(reader, reference, entity, ids: ids, "every \(entity.rawValue)'s values")
            #expect(try reference.rows(entity, ids: ids).contains { $0.contains { !$0.isDefault } }, "the history gives computed values")
            try await checkRequestShapes(reader, reference, entity, known: ids)
            try await checkRefusals(reader, reference, entity, known: ids)
        }

        // Later events replace the values of the entities they touch (and add one of each kind).
        let touched = known.mapValues { Array($0.prefix(4)) }
        var before: [FeatureDefinition.Entity: [[FeatureReading]]] = [:]
        for (entity, ids) in touched { before[entity] = try await reader.read(entity, ids: ids, features: nil) }
        let later = updates(users: touched[.user] ?? [], items: touched[.item] ?? [], now: now)
        try await feed(later)
        reference.apply(later)
        for entity in FeatureDefinition.Entity.allCases {
            let ids = touched[entity] ?? []
            let after = try await reader.read(entity, ids: ids, features: nil)
            #expect(after.count == ids.count && zip(after, before[entity] ?? []).allSatisfy { $0 != $1 }, "every touched \(entity.rawValue)'s values change")
            let all = reference.engine.entityKeys()[entity] ?? []
            #expect(all.count == (known[entity]?.count ?? 0) + 1, "the later events add a \(entity.rawValue)")
            try await expectSame(reader, reference, entity, ids: all, "every \(entity.rawValue)'s values after later events")
        }
    }

    /// The order of the ids, duplicates, unknown entities, subsets of features, empty requests.
    static func checkRequestShapes(
        _ reader: any OnlineFeatureReader, _ reference: Reference, _ entity: FeatureDefinition.Entity, known ids: [String]
    ) async throws {
        let unknown = "no-such-\(entity.rawValue)"
        let asked = [ids[2], unknown, ids[0], ids[2], ids[1], ids[0]]
        try await expectSame(reader, reference, entity, ids: asked, "rows in the order of the ids asked, duplicates included")

        let defaults = try await reader.read(entity, ids: [unknown], features: nil)
        #expect(defaults.count == 1 && defaults[0].allSatisfy(\.isDefault), "an unknown \(entity.rawValue) has only defaults")
        try await expectSame(reader, reference, entity, ids: [unknown], "an unknown \(entity.rawValue)'s defaults")

        let names = reference.engine.features.map(\.definition).filter { $0.entity == entity }.map(\.name)
        let subset = [names[names.count - 1], names[0]]
        let rows = try await reader.read(entity, ids: [ids[1], unknown, ids[0]], features: subset)
        #expect(rows.allSatisfy { $0.map(\.name) == subset }, "exactly the \(entity.rawValue) features asked, in the order asked")
        try await expectSame(reader, reference, entity, ids: [ids[1], unknown, ids[0]], features: subset, "a subset of features")
        try await expectSame(reader, reference, entity, ids: [ids[0], unknown], features: [], "no features asked: an empty row per id")

        #expect(try await reader.read(entity, ids: [], features: nil).isEmpty, "no ids asked: no rows")
        #expect(try await reader.read(entity, ids: [], features: subset).isEmpty, "no ids asked: no rows")
    }

    /// Unknown features, and features of the other kind, are refused as the engine refuses them.
    static func checkRefusals(
        _ reader: any OnlineFeatureReader, _ reference: Reference, _ entity: FeatureDefinition.Entity, known ids: [String]
    ) async throws {
        let definitions = reference.engine.features.map(\.definition)
        let own = definitions.first { $0.entity == entity }!.name
        let other = definitions.first { $0.entity != entity }!.name
        let cases: [(features: [String], ids: [String], comment: String)] = [
            (["no_such_feature"], [ids[0]], "an unknown feature is refused as the engine refuses it"),
            ([own, "no_such_feature"], [ids[0], ids[1]], "a request with one unknown feature among known ones is refused"),
            ([other], [ids[0]], "a feature of the other entity kind is refused as the engine refuses it (wrong_entity)"),
            (["no_such_feature"], [], "an unknown feature is refused even when no ids are asked"),
        ]
        for (features, asked, comment) in cases {
            let expected = await outcome { _ = try reference.engine.read(entity, id: ids[0], features: features, at: reference.now) }
            #expect(expected.hasPrefix("refused"), "the engine refuses \(features) for \(entity.rawValue)s")
            let actual = await outcome { _ = try await reader.read(entity, ids: asked, features: features) }
            #expect(actual == expected, Comment(rawValue: comment))
        }
    }

    /// What a read did: refused (with the error's kind and code) or answered.
    static func outcome(_ read: () async throws -> Void) async -> String {
        do {
            try await read()
            return "answered"
        } catch let error as StrataError {
            return "refused: \(error.kind.rawValue) \(error.code)"
        } catch {
            return "refused: \(error)"
        }
    }

    /// Expects `reader` to answer exactly what the reference does for `ids`, naming the first
    /// ids that differ.
    static func expectSame(
        _ reader: any OnlineFeatureReader, _ reference: Reference, _ entity: FeatureDefinition.Entity, ids: [String], features: [String]? = nil,
        _ what: String
    ) async throws {
        let expected = try reference.rows(entity, ids: ids, features: features)
        let actual = try await reader.read(entity, ids: ids, features: features)
        #expect(actual.count == ids.count, "\(what): one row per id asked")
        let differing = zip(ids, zip(actual, expected)).filter { $1.0 != $1.1 }
        if case let (id, rows)? = differing.first {
            Issue.record("\(what): \(differing.count) of \(ids.count) rows differ from the engine's; \(entity.rawValue) '\(id)': \(rows.0) ≠ \(rows.1)")
        }
    }

    /// The engine computed here, on the events fed, read at the store's time.
    final class Reference {
        let engine: FeatureEngine
        let now: Int64
        private var applied: Int64 = 0

        init(definitions: [FeatureDefinition], now: Int64) {
            engine = FeatureEngine(definitions: definitions)
            self.now = now
        }

        /// Applies events as a store that ingests them at `now` does: in order, one offset each.
        func apply(_ events: [IncomingEvent]) {
            for incoming in events {
                guard case .millis(let time) = incoming.time else { preconditionFailure("the suite's events carry epoch milliseconds") }
                let event = Event(
                    type: incoming.type, eventID: incoming.eventID, userID: incoming.userID, timestamp: time, ingestedAt: now,
                    fields: incoming.fields.compactMap { field in field.value.map { (name: field.name, value: $0) } })
                engine.apply(event, offset: applied, now: now)
                applied += 1
            }
        }

        func rows(_ entity: FeatureDefinition.Entity, ids: [String], features: [String]? = nil) throws -> [[FeatureReading]] {
            try ids.map { id in try engine.read(entity, id: id, features: features, at: now) }
        }
    }

    /// Two days of generated behaviour by a few dozen users over a few dozen items, the last
    /// events shortly before `now` (so that hour-long windows hold some).
    static func history(endingBefore now: Int64) -> [IncomingEvent] {
        var config = GeneratorConfig(endMillis: now + 40 * 60_000)
        config.seed = 11
        config.users = 40
        config.items = 60
        config.categories = 6
        config.days = 2
        config.sessionsPerUserPerDay = 0.5
        var generator = SyntheticGenerator(contract: Fixtures.config.contract, config: config)
        return generator.history().filter { event in
            guard case .millis(let time) = event.time else { return false }
            return time < now
        }
    }

    /// In the last minutes before `now`: a view and a purchase by each of `users` of the item at
    /// the same position in `items`, and a view by a user and of an item never seen before.
    static func updates(users: [String], items: [String], now: Int64) -> [IncomingEvent] {
        var events: [IncomingEvent] = []
        for (index, (user, item)) in zip(users, items).enumerated() {
            let time = now - Int64(10 - index) * 60_000
            events.append(
                IncomingEvent(type: "view", eventID: "later-view-\(index)", userID: user, time: .millis(time), fields: [("item_id", .string(item))]))
            events.append(
                IncomingEvent(
                    type: "purchase", eventID: "later-purchase-\(index)", userID: user, time: .millis(time + 1000),
                    fields: [
                        ("item_id", .string(item)), ("order_id", .string("later-\(index)")), ("price", .double(10.5 + Double(index))),
                        ("category", .string("later")),
                    ]))
        }
        events.append(
            IncomingEvent(type: "view", eventID: "later-newcomer", userID: "newcomer", time: .millis(now - 60_000), fields: [("item_id", .string("new-item"))]))
        return events
    }
}
