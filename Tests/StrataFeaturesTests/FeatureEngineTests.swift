import Foundation
import StrataCore
import StrataTesting
import Testing

@testable import StrataFeatures

/// The engine's aggregations at a fixed moment, computed by hand: windows, filters, ratios,
/// defaults and errors.
@Suite struct FeatureEngineTests {
    static let hour: Int64 = 3_600_000
    static let minute: Int64 = 60_000
    /// A whole hour, so bucket edges are easy to place.
    static let base: Int64 = 497_222 * hour
    /// The reading time: half past.
    static let now = base + 30 * minute

    static func feature(
        _ name: String, _ aggregation: FeatureDefinition.Aggregation, field: String? = nil, entity: FeatureDefinition.Entity = .user,
        sources: [String] = ["purchase"], window: FeatureDefinition.Window = .sliding(lengthMillis: hour), filters: [FeatureFilter] = [],
        type: FieldType = .double, defaultValue: FieldValue? = nil, recentCount: Int = 20, freshness: Int64? = nil
    ) -> FeatureDefinition {
        FeatureDefinition(
            name: name, entity: entity, sources: sources, filters: filters, aggregation: aggregation, field: field, window: window, recentCount: recentCount,
            valueType: type, defaultValue: defaultValue, freshnessMillis: freshness)
    }

    static func purchase(_ user: String, item: String, price: Double, category: String, at time: Int64) -> Event {
        Event(
            type: "purchase", userID: user, timestamp: time, ingestedAt: time,
            fields: [("item_id", .string(item)), ("price", .double(price)), ("category", .string(category))])
    }

    /// A user's purchases around `now`: one older than the hour, three in it, one at `now`.
    static let purchases: [Event] = [
        purchase("u", item: "i1", price: 10, category: "a", at: now - 90 * minute),
        purchase("u", item: "i2", price: 20, category: "b", at: now - 50 * minute),
        purchase("u", item: "i3", price: 5, category: "a", at: now - 30 * minute),
        purchase("u", item: "i2", price: 40, category: "b", at: now - 10 * minute),
        purchase("u", item: "i4", price: 100, category: "c", at: now),
    ]

    static func engine(_ definitions: [FeatureDefinition], events: [Event] = purchases, appliedAt: Int64 = base - 2 * hour) -> FeatureEngine {
        let engine = FeatureEngine(definitions: definitions)
        for (offset, event) in events.enumerated() { engine.apply(event, offset: Int64(offset), now: appliedAt) }
        return engine
    }

    static func values(_ engine: FeatureEngine, _ entity: FeatureDefinition.Entity = .user, id: String = "u", at time: Int64 = now) throws
        -> [String: FieldValue?]
    {
        Dictionary(uniqueKeysWithValues: try engine.read(entity, id: id, at: time).map { ($0.name, $0.value) })
    }

    @Test func everyAggregationOverTheLastHour() throws {
        let engine = Self.engine([
            Self.feature("count", .count, type: .int), Self.feature("sum", .sum, field: "price"), Self.feature("mean", .mean, field: "price"),
            Self.feature("min", .min, field: "price"), Self.feature("max", .max, field: "price"), Self.feature("last", .last, field: "price"),
            Self.feature("categories", .distinctCount, field: "category", type: .int),
            Self.feature("recent", .recentItems, field: "item_id", type: .stringList),
        ])
        let values = try Self.values(engine)
        // In [now − 1h, now): the purchases 50, 30 and 10 minutes ago.
        #expect(values["count"] == .int(3))
        #expect(values["sum"] == .double(65))
        #expect(values["mean"] == .double(65.0 / 3))
        #expect(values["min"] == .double(5))
        #expect(values["max"] == .double(40))
        #expect(values["last"] == .double(40))
        #expect(values["categories"] == .int(2))
        #expect(values["recent"] == .stringList(["i2", "i3"]), "most recent first, each item once")
    }

    @Test func theWindowIncludesItsStartAndExcludesItsEnd() throws {
        let engine = Self.engine([Self.feature("count", .count, type: .int), Self.feature("sum", .sum, field: "price")])
        // At now + 10 min the window starts exactly at the purchase 50 minutes before now.
        #expect(try Self.values(engine, at: Self.now + 10 * Self.minute)["count"] == .int(4))
        #expect(try Self.values(engine, at: Self.now + 10 * Self.minute)["sum"] == .double(165))
        #expect(try Self.values(engine, at: Self.now + 10 * Self.minute + 1)["count"] == .int(3), "one millisecond later it has left")
        #expect(try Self.values(engine, at: Self.now + 10 * Self.minute + 1)["sum"] == .double(145))
        // Long after: everything left; a count is 0 and a sum has nothing to add.
        let later = try engine.read(.user, id: "u", at: Self.now + 5 * Self.hour)
        #expect(later.map(\.value) == [.int(0), nil])
        #expect(later.map(\.isDefault) == [false, true])
    }

    @Test func lifetimeAndBucketedWindowsCountWhatTheyShould() throws {
        let engine = Self.engine([
            Self.feature("lifetime", .count, window: .lifetime, type: .int),
            Self.feature("sliding_2h", .count, window: .sliding(lengthMillis: 2 * Self.hour), type: .int),
            // The bucket of `now` and the one before it: from base − 1h.
            Self.feature("bucketed_2h", .count, window: .bucketed(lengthMillis: 2 * Self.hour, bucketMillis: Self.hour), type: .int),
        ])
        let values = try Self.values(engine)
        #expect(values["lifetime"] == .int(4), "every purchase before now")
        #expect(values["sliding_2h"] == .int(4), "from now − 2h: 90 minutes ago is in")
        #expect(values["bucketed_2h"] == .int(4), "90 minutes ago is base − 60 min: the earlier bucket")
        // At base + 90 min the sliding window starts at base − 30 min and still holds the
        // purchase at base − 20 min, while the buckets start at base and do not.
        let later = try Self.values(engine, at: Self.base + 90 * Self.minute)
        #expect(later["sliding_2h"] == .int(4))
        #expect(later["bucketed_2h"] == .int(3))
        #expect(later["lifetime"] == .int(5))
        let next = try Self.values(engine, at: Self.base + 2 * Self.hour)
        #expect(next["sliding_2h"] == .int(3))
        #expect(next["bucketed_2h"] == .int(0), "base's whole bucket has left")
    }

    @Test func filtersSelectTheEventsThatFeedAFeature() throws {
        let engine = Self.engine([
            Self.feature("over_10", .count, filters: [FeatureFilter(field: "price", op: .greater, values: [.int(10)])], type: .int),
            Self.feature("at_least_20", .sum, field: "price", filters: [FeatureFilter(field: "price", op: .greaterOrEqual, values: [.double(20)])]),
            Self.feature(
                "cat_a_or_c", .count, window: .lifetime, filters: [FeatureFilter(field: "category", op: .among, values: [.string("a"), .string("c")])],
                type: .int),
            Self.feature("not_b", .count, window: .lifetime, filters: [FeatureFilter(field: "category", op: .notEqual, values: [.string("b")])], type: .int),
            Self.feature(
                "cheap_a", .count, window: .lifetime,
                filters: [FeatureFilter(field: "category", op: .equal, values: [.string("a")]), FeatureFilter(field: "price", op: .less, values: [.int(10)])],
                type: .int),
            Self.feature(
                "no_such_field", .count, window: .lifetime, filters: [FeatureFilter(field: "colour", op: .equal, values: [.string("red")])], type: .int),
        ])
        let values = try Self.values(engine, at: Self.now + 1)
        #expect(values["over_10"] == .int(3), "20, 40 and 100 (5 is not over 10)")
        #expect(values["at_least_20"] == .double(160))
        #expect(values["cat_a_or_c"] == .int(3))
        #expect(values["not_b"] == .int(3))
        #expect(values["cheap_a"] == .int(1), "every filter must hold")
        let absent = try engine.read(.user, id: "u", features: ["no_such_field"], at: Self.now + 1)
        #expect(absent[0].isDefault && absent[0].value == nil, "an absent field never matches")
    }

    @Test func filterOperatorsCompareNumbersStringsAndBooleans() {
        let over = FeatureFilter(field: "x", op: .greater, values: [.int(3)])
        #expect(over.matches(.double(3.5)) && !over.matches(.int(3)) && !over.matches(nil))
        #expect(!over.matches(.string("4")), "values of other kinds do not compare")
        #expect(FeatureFilter(field: "x", op: .lessOrEqual, values: [.double(2.5)]).matches(.int(2)))
        #expect(FeatureFilter(field: "x", op: .equal, values: [.bool(true)]).matches(.bool(true)))
        #expect(!FeatureFilter(field: "x", op: .equal, values: [.bool(true)]).matches(.bool(false)))
        #expect(FeatureFilter(field: "x", op: .notEqual, values: [.string("a")]).matches(.string("b")))
        #expect(FeatureFilter(field: "t", op: .greaterOrEqual, values: [.timestamp(100)]).matches(.timestamp(100)))
        #expect(FeatureFilter(field: "x", op: .among, values: [.string("a"), .string("b")]).description == "x in ['a', 'b']")
        #expect(FeatureFilter(field: "price", op: .greater, values: [.double(0.5)]).description == "price > 0.5")
    }

    @Test func lastAndRecentItemsFollowEventTimeNotArrival() throws {
        let definitions = [
            Self.feature("last_viewer", .last, field: "user_id", entity: .item, sources: ["view"], window: .lifetime, type: .string),
            Self.feature("recent", .recentItems, field: "item_id", sources: ["view"], window: .lifetime, type: .stringList, recentCount: 2),
        ]
        func view(_ user: String, _ item: String, at time: Int64) -> Event {
            Event(type: "view", userID: user, timestamp: time, ingestedAt: time, fields: [("item_id", .string(item))])
        }
        // Arrival order differs from time order; two views share a time (the later offset wins).
        let events = [view("u2", "i1", at: 300), view("u1", "i1", at: 100), view("u3", "i1", at: 300), view("u1", "i2", at: 200), view("u1", "i3", at: 50)]
        let engine = Self.engine(definitions, events: events, appliedAt: 0)
        #expect(try engine.read(.item, id: "i1", at: 1000).first?.value == .string("u3"))
        #expect(try engine.read(.user, id: "u1", features: ["recent"], at: 1000).first?.value == .stringList(["i2", "i1"]))
        // As of 150 only the first view of i1 and the one of i3 had happened.
        let early = Self.engine(definitions, events: events, appliedAt: 0)
        #expect(try early.read(.item, id: "i1", at: 150).first?.value == .string("u1"))
        #expect(try early.read(.user, id: "u1", features: ["recent"], at: 150).first?.value == .stringList(["i1", "i3"]))
    }

    @Test func ratiosDivideTwoFeaturesAndHaveNoValueWithoutADenominator() throws {
        let definitions = [
            Self.feature("views", .count, entity: .item, sources: ["view"], window: .lifetime, type: .int, defaultValue: .int(0)),
            Self.feature("buys", .count, entity: .item, sources: ["purchase"], window: .lifetime, type: .int, defaultValue: .int(0)),
            FeatureDefinition(
                name: "conversion", entity: .item, sources: [], aggregation: .ratio, window: .lifetime, numerator: "buys", denominator: "views",
                valueType: .double),
        ]
        var events = (0..<8).map { Event(type: "view", userID: "u\($0)", timestamp: Int64($0), ingestedAt: 0, fields: [("item_id", .string("i"))]) }
        events += (0..<2).map { Self.purchase("u\($0)", item: "i", price: 1, category: "a", at: 10 + Int64($0)) }
        events.append(Self.purchase("u9", item: "only-bought", price: 1, category: "a", at: 5))
        let engine = Self.engine(definitions, events: events, appliedAt: 0)
        let item = try Self.values(engine, .item, id: "i", at: 100)
        #expect(item["conversion"] == .double(0.25))
        let noViews = try engine.read(.item, id: "only-bought", at: 100)
        #expect(noViews.first { $0.name == "conversion" }?.value == nil)
        #expect(noViews.first { $0.name == "conversion" }?.isDefault == true, "nothing to divide by")
        #expect(noViews.first { $0.name == "views" }?.isDefault == true, "never fed: the default")
        #expect(noViews.first { $0.name == "views" }?.value == .int(0))
        #expect(noViews.first { $0.name == "buys" }?.value == .int(1))
    }

    @Test func unknownEntitiesGetDefaultsAndBadNamesAreRefused() throws {
        let engine = Self.engine([
            Self.feature("count", .count, type: .int, defaultValue: .int(0)), Self.feature("sum", .sum, field: "price", defaultValue: .double(0)),
            Self.feature("max", .max, field: "price"), Self.feature("item_count", .count, entity: .item, type: .int),
        ])
        let unknown = try engine.read(.user, id: "nobody", at: Self.now)
        #expect(unknown.map(\.name) == ["count", "sum", "max"], "all of the entity's features, in definition order")
        #expect(unknown.map(\.value) == [.int(0), .double(0), nil])
        #expect(unknown.allSatisfy { $0.isDefault })
        #expect(unknown.map(\.json) == [.int(0), .double(0), .null])
        #expect(try engine.read(.user, id: "u", features: ["max", "count"], at: Self.now).map(\.name) == ["max", "count"], "in the order asked")
        do {
            _ = try engine.read(.user, id: "u", features: ["nope"], at: Self.now)
            Issue.record("an unknown feature must be refused")
        } catch {
            #expect(error.code == "unknown_feature" && error.kind == .notFound)
        }
        do {
            _ = try engine.read(.user, id: "u", features: ["item_count"], at: Self.now)
            Issue.record("a feature of another entity must be refused")
        } catch {
            #expect(error.code == "wrong_entity" && error.kind == .invalidInput)
        }
    }

    @Test func entitiesAreListedCountedAndForgotten() throws {
        let engine = Self.engine(
            [Self.feature("count", .count, type: .int), Self.feature("item_count", .count, entity: .item, type: .int)],
            events: [
                Self.purchase("u1", item: "a", price: 1, category: "x", at: 1), Self.purchase("u2", item: "a", price: 1, category: "x", at: 2),
                Self.purchase("u2", item: "b", price: 1, category: "x", at: 3),
            ], appliedAt: 0)
        #expect(engine.entityKeys()[.user] == ["u1", "u2"])
        #expect(engine.entityKeys()[.item] == ["a", "b"])
        #expect(engine.entityCounts[.user] == 2 && engine.entityCounts[.item] == 2)
        #expect(engine.appliedThrough == 3)
        #expect(engine.remove(.user, id: "u2"))
        #expect(!engine.remove(.user, id: "u2"), "already gone")
        #expect(try engine.read(.user, id: "u2", at: 10).allSatisfy { $0.isDefault })
        #expect(try engine.read(.item, id: "b", at: 10).first?.value == .int(1), "items keep what the user did")
    }

    @Test func settlingChangesNoAnswer() throws {
        let definitions = [
            Self.feature("count", .count, type: .int), Self.feature("max", .max, field: "price"),
            Self.feature("bucketed", .sum, field: "price", window: .bucketed(lengthMillis: Self.hour, bucketMillis: 10 * Self.minute)),
        ]
        let settled = Self.engine(definitions)
        let plain = Self.engine(definitions)
        for step in 0..<20 {
            let time = Self.now - Self.hour + Int64(step) * 7 * Self.minute
            settled.settle(at: time)
            #expect(try settled.read(.user, id: "u", at: time) == plain.read(.user, id: "u", at: time), "at step \(step)")
        }
    }

    @Test func freshnessReportsTheNewestEventAndTheSLA() throws {
        let definitions = [
            Self.feature("views", .count, sources: ["view"], type: .int, freshness: 5 * Self.minute), Self.feature("buys", .count, type: .int),
        ]
        let engine = FeatureEngine(definitions: definitions)
        let untouched = engine.freshness(now: Self.now)
        #expect(untouched[0]["feature"] == .string("views") && untouched[0]["newest_event_time"] == nil)
        #expect(untouched[0]["freshness_sla_seconds"] == .double(300))
        engine.apply(
            Event(type: "view", userID: "u", timestamp: Self.now - 2 * Self.minute, ingestedAt: Self.now - Self.minute, fields: [("item_id", .string("i"))]),
            offset: 0, now: Self.now)
        let fresh = engine.freshness(now: Self.now)
        #expect(fresh[0]["newest_event_time"] == .string(EventTime.format(millis: Self.now - 2 * Self.minute)))
        #expect(fresh[0]["lag_seconds"] == .double(60), "lag is measured from ingestion")
        #expect(fresh[0]["within_sla"] == .bool(true))
        #expect(engine.freshness(now: Self.now + 10 * Self.minute)[0]["within_sla"] == .bool(false))
        #expect(fresh[1]["within_sla"] == nil && fresh[1]["freshness_sla_seconds"] == nil, "no SLA, no verdict")
    }
}
