import Foundation
import StrataCore
import Testing

/// Feature definitions in strata.yaml: what is accepted, what errors say, and how changes show
/// in the contract version and `features diff`.
@Suite struct FeatureDefinitionTests {
    static let events = """
        events:
          view:
            fields:
              item_id: {type: string, required: true}
          purchase:
            fields:
              item_id: {type: string, required: true}
              price: {type: double, required: true}
              category: {type: string}
              tags: {type: string_list}
          search:
            fields:
              query: {type: string, required: true}

        """

    static func parse(_ features: String) throws(StrataError) -> StrataConfig {
        try StrataConfig.parse(yaml: events + "features:\n" + features, file: "f.yaml")
    }

    @Test func exampleFeaturesParseWithTheirWindowsAndDefaults() throws {
        let features = StrataConfig.example().contract.features
        #expect(features.count == 12)
        let spend = try #require(features.first { $0.name == "user_spend_30d" })
        #expect(spend.entity == .user && spend.aggregation == .sum && spend.field == "price")
        #expect(spend.window == .sliding(lengthMillis: 30 * 86_400_000))
        #expect(spend.defaultValue == .double(0))
        #expect(spend.filters.count == 1)
        let views = try #require(features.first { $0.name == "item_views_7d" })
        #expect(views.window == .bucketed(lengthMillis: 7 * 86_400_000, bucketMillis: 3_600_000))
        #expect(features.first { $0.name == "user_views_1h" }?.freshnessMillis == 300_000)
        #expect(features.first { $0.name == "item_conversion_7d" }?.valueType == .double)
        #expect(features.first { $0.name == "user_recent_items" }?.recentCount == 20)
    }

    @Test(arguments: [
        ("x: {entity: user, source: [click], aggregation: count, window: 1h}", "x", "'click' is not a declared event type"),
        ("x: {entity: user, source: [view], aggregation: sum, field: item_id, window: 1h}", "x", "sum needs a numeric field; 'item_id' is string"),
        ("x: {entity: user, source: [view], aggregation: mean, field: price, window: 1h}", "x", "view events have no field 'price'"),
        ("x: {entity: item, source: [search], aggregation: count, window: 1h}", "x", "search events have no item_id"),
        ("x: {entity: user, source: [view], aggregation: count, window: 1h, filter: \"price > 0\"}", "x", "price"),
        ("x: {entity: user, source: [purchase], aggregation: count, window: 1h, filter: \"price > 'a'\"}", "x", "does not compare with price"),
        ("x: {entity: user, source: [purchase], aggregation: count, window: 1h, filter: \"price ~ 3\"}", "x", "expected ==, !="),
        ("x: {entity: user, source: [view], aggregation: median, window: 1h}", "x", "median"),
        ("x: {entity: user, source: [view], aggregation: count}", "x", "needs a window"),
        ("x: {entity: user, source: [view], aggregation: count, window: 7d, bucket: 5h}", "x", "bucket"),
        ("x: {entity: user, source: [view], aggregation: count, window: lifetime, bucket: 1h}", "x", "a lifetime window has no buckets"),
        ("x: {entity: user, source: [purchase], aggregation: distinct_count, field: tags, window: 1d}", "x", "distinct_count needs a scalar field"),
        ("x: {entity: user, source: [view], aggregation: recent_items, field: item_id, n: 0, window: lifetime}", "x", "n must be in 1...1000"),
        ("x: {entity: user, source: [view], aggregation: count, window: 1h, n: 3}", "x", "n applies to recent_items only"),
        ("x: {entity: user, source: [view], aggregation: count, window: 1h, type: double}", "x", "count gives int, not double"),
        ("x: {entity: user, aggregation: ratio, numerator: a, denominator: b}", "x", "'a' is not a feature of this contract"),
        (
            "x: {entity: user, source: [view], aggregation: count, window: 1h}\n  y: {entity: item, source: [view], aggregation: count, window: 1h}\n  r: {entity: user, aggregation: ratio, numerator: x, denominator: y}",
            "r", "'y' describes items, not users"
        ),
        ("x: {entity: shop, source: [view], aggregation: count, window: 1h}", "x", "shop"),
        ("x: {entity: user, source: [view], aggregation: count, window: 1h, colour: red}", "x", "unknown key 'colour'"),
    ])
    func invalidDefinitionsNameTheFeatureAndTheProblem(yaml: String, feature: String, problem: String) {
        do {
            _ = try Self.parse("  " + yaml + "\n")
            Issue.record("expected an error about \(feature): \(problem)")
        } catch {
            #expect(error.message.contains("f.yaml:"), "got: \(error.message)")
            #expect(error.message.contains("features.\(feature)") || error.message.contains("feature '\(feature)'"), "got: \(error.message)")
            #expect(error.message.contains(problem), "got: \(error.message)")
        }
    }

    @Test func changingAFeatureChangesTheContractVersionAndShowsInTheDiff() throws {
        let base =
            "  views: {entity: user, source: [view], aggregation: count, window: 1h}\n  spend: {entity: user, source: [purchase], aggregation: sum, field: price, window: 7d}\n"
        let a = try Self.parse(base)
        let reformatted = try Self.parse(
            "  spend:\n    entity: user\n    source: [purchase]\n    aggregation: sum\n    field: price\n    window: 7d\n  views: {entity: user, source: [view], aggregation: count, window: 1h}\n"
        )
        #expect(a.contract.version == reformatted.contract.version)
        let b = try Self.parse(
            base.replacingOccurrences(of: "window: 1h", with: "window: 24h")
                + "  buyers: {entity: item, source: [purchase], aggregation: distinct_count, field: user_id, window: 30d}\n")
        #expect(a.contract.version != b.contract.version)
        let changes = FeatureDiff.compare(old: a.contract.canonicalJSON, new: b.contract.canonicalJSON)
        #expect(changes.map(\.feature) == ["buyers", "views"])
        #expect(changes.first { $0.feature == "views" }?.kind == .changed)
        #expect(changes.first { $0.feature == "buyers" }?.kind == .added)
        let text = FeatureDiff.describe(changes)
        #expect(text.contains("+ buyers"))
        #expect(text.contains("~ views"))
        #expect(text.contains("window"))
        let c = try Self.parse("  views: {entity: user, source: [view], aggregation: count, window: 1h}\n")
        #expect(FeatureDiff.compare(old: a.contract.canonicalJSON, new: c.contract.canonicalJSON).map(\.kind) == [.removed])
    }
}
