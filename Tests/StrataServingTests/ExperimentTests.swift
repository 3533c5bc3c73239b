import Foundation
import StrataCore
import StrataLake
import StrataTesting
import Testing

@testable import StrataServing

/// A/B analysis: attribution through recommendation ids, and a test that finds a real
/// difference and keeps its false-positive rate on an A/A test.
@Suite(.serialized) struct ExperimentTests {
    /// Clicks of `impressions` Bernoulli trials.
    static func clicks(_ impressions: Int, rate: Double, _ rng: inout SplitMix64) -> Int {
        (0..<impressions).reduce(0) { count, _ in count + (rng.chance(rate) ? 1 : 0) }
    }

    @Test("an A/A test is significant at about the stated rate over repeated seeds")
    func aaFalsePositiveRate() {
        var significant = 0
        let seeds = 400
        for seed in 0..<seeds {
            var rng = SplitMix64(seed: UInt64(seed) &+ 1000)
            let a = ArmSummary(impressions: 4000, clicks: Self.clicks(4000, rate: 0.05, &rng))
            let b = ArmSummary(impressions: 4000, clicks: Self.clicks(4000, rate: 0.05, &rng))
            let report = ExperimentReport(
                deployment: "aa", variants: [("A", nil, 50), ("B", nil, 50)], counts: ["A": a, "B": b], settings: ExperimentSettings())
            if report.rows[1].significant { significant += 1 }
        }
        // α = 0.05: expect 20 of 400; a binomial 99.9% band is about 6...37.
        #expect((6...37).contains(significant), "\(significant) of \(seeds) A/A tests were significant")
    }

    @Test("a truly better variant reaches significance through attributed events")
    func betterVariantReachesSignificance() async throws {
        let fixture = try await ServingFixture()
        defer { Task { await fixture.close() } }
        _ = try await fixture.controller.update(
            "default",
            variants: [
                VariantSpec(name: "A", model: "recs", weight: 50), VariantSpec(name: "B", model: "recs", version: fixture.versions[1].version, weight: 50),
            ], shadow: nil, salt: nil, principal: ServingFixture.approver)
        var rng = SplitMix64(seed: 11)
        var events: [IncomingEvent] = []
        for index in 0..<8000 {
            let user = "sim-\(index)"
            let answer = try await fixture.service.recommend(RecommendationRequest(user: user, n: 2))
            let id = ("recommendation_id", FieldValue?.some(.string(answer.id.text)))
            for item in answer.items {
                events.append(fixture.event("impression", user: user, item: item.id, [id]))
                if rng.chance(answer.variant == "B" ? 0.07 : 0.05) {
                    events.append(fixture.event("click", user: user, item: item.id, [id]))
                    if rng.chance(0.3) {
                        events.append(
                            fixture.event("purchase", user: user, item: item.id, [id, ("order_id", .string("o\(index)")), ("price", .double(20))]))
                    }
                }
            }
            if events.count > 4000 {
                try await fixture.ingest(events)
                events = []
            }
        }
        try await fixture.ingest(events)
        let report = try await fixture.controller.experiment("default")
        #expect(report.enoughData)
        let b = try #require(report.rows.first { $0.variant == "B" })
        #expect(b.significant, "p = \(b.pValue ?? 1)")
        #expect((b.liftOverControl ?? 0) > 0)
        #expect(b.revenuePerUser > 0)
        #expect(report.verdict.contains("B is better than A"))
        let a = try #require(report.rows.first { $0.variant == "A" })
        #expect(a.counts.impressions + b.counts.impressions == 16000)
        #expect(a.ctrInterval.low < a.ctr && a.ctr < a.ctrInterval.high)
    }
}

@Suite struct RecommendationJSONTests {
    @Test("the directly written response is the same document as the JSON value")
    func serializedMatchesJSON() throws {
        let lineage = ServingLineage(
            model: "als", version: 3, runID: "r1", artifactHash: "a", dataVersion: "d", contractVersion: "c", codeVersion: "git:x")
        let answer = Recommendation(
            id: RecommendationID(deployment: "default", variant: "B", model: "als@3", nonce: "abc"), deployment: "default", variant: "B",
            lineage: lineage, source: .cache, items: [("i\"7", 0.93), ("i8", 1e-7)], nextCursor: PageCursor(offset: 2, model: "als@3", variant: "B"),
            contractVersion: "c", context: ["page": "home", "device": "m\\obile"])
        #expect(try JSONValue.parse(answer.serialized) == answer.json)
        var empty = answer
        empty.lineage = nil
        empty.items = []
        empty.nextCursor = nil
        empty.context = [:]
        #expect(try JSONValue.parse(empty.serialized) == empty.json)
    }
}
