import Foundation
import StrataCore
import StrataLake
import StrataTesting
import Testing

@testable import StrataServing

/// A/B analysis: attribution through recommendation ids, and a test that finds a real
/// difference and keeps its false-positive rate on an A/A test.
@Suite(.serialized) struct ExperimentTests {
    @Test("A/A tests with heterogeneous users, checked after every batch: the per-user sequential test keeps its 5%; the impression-level test does not")
    func aaFalsePositiveRateWithPeeking() {
        var simulation = ExperimentSimulation()
        simulation.replications = 200
        simulation.usersPerArm = 2000
        simulation.looks = 20
        let aa = simulation.run(lift: 0)
        #expect(aa.sequential <= 0.05, "per-user mSPRT: \(aa.sequential) of A/A tests significant at some look")
        #expect(aa.impressionLevel > 0.05, "the impression-level z-test with peeking: \(aa.impressionLevel)")
        print("A/A with 20 looks, 2,000 users per arm: impression-level z-test \(aa.impressionLevel), per-user mSPRT \(aa.sequential)")
    }

    @Test("a planted lift is found by the sequential test")
    func plantedLiftIsFound() {
        var simulation = ExperimentSimulation()
        simulation.replications = 40
        simulation.usersPerArm = 20_000
        let found = simulation.run(lift: 0.2)
        #expect(found.sequential >= 0.8, "power for +20% at 20,000 users per arm: \(found.sequential)")
    }

    @Test("Holm keeps the family-wise rate over several treatments; the comparison is symmetric and its interval covers its difference")
    func holmAndComparisons() {
        #expect(Holm.adjust([0.01, 0.04, 0.03]) == [0.03, 0.06, 0.06])
        #expect(Holm.adjust([0.5]) == [0.5])
        var a = ArmSummary(impressions: 0, clicks: 0)
        var b = ArmSummary(impressions: 0, clicks: 0)
        for user in 0..<500 {
            a.add(impressions: 1 + user % 7, clicks: user % 11 == 0 ? 1 : 0)
            b.add(impressions: 1 + user % 5, clicks: user % 6 == 0 ? 1 : 0)
        }
        let ab = SequentialComparison(treatment: UserLevelMetrics.ctr(a), control: UserLevelMetrics.ctr(b), mixingLift: 0.1, alpha: 0.05)
        let ba = SequentialComparison(treatment: UserLevelMetrics.ctr(b), control: UserLevelMetrics.ctr(a), mixingLift: 0.1, alpha: 0.05)
        #expect(abs(ab.difference + ba.difference) < 1e-12)
        #expect(ab.interval.low < ab.difference && ab.difference < ab.interval.high)
        // The delta method on per-user ratios: one user with many impressions widens the interval.
        var heavy = a
        heavy.add(impressions: 400, clicks: 40)
        #expect(UserLevelMetrics.ctr(heavy).variance > UserLevelMetrics.ctr(a).variance)
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
        for index in 0..<4000 {
            let user = "sim-\(index)"
            let answer = try await fixture.service.recommend(RecommendationRequest(user: user, n: 2))
            let id = ("recommendation_id", FieldValue?.some(.string(answer.id.text)))
            for item in answer.items {
                events.append(fixture.event("impression", user: user, item: item.id, [id]))
                if rng.chance(answer.variant == "B" ? 0.08 : 0.05) {
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
        #expect(a.counts.impressions + b.counts.impressions == 8000)
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
