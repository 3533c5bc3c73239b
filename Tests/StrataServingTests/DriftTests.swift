import Foundation
import StrataCore
import StrataLake
import StrataML
import StrataMonitoring
import StrataServing
import StrataTesting
import StrataTraining
import Testing

/// Drift against the training baseline: none right after training, and a planted shift in
/// user behaviour shows in the feature it moves.
@Suite(.serialized) struct DriftTests {
    @Test func psiAndKSOnKnownDistributions() {
        var rng = SplitMix64(seed: 4)
        let baseline = BinnedDistribution.baseline((0..<5000).map { _ in rng.nextDouble() })
        let same = BinnedDistribution.binned((0..<5000).map { _ in rng.nextDouble() }, edges: baseline.edges)
        let shifted = BinnedDistribution.binned((0..<5000).map { _ in rng.nextDouble() * 0.5 + 0.5 }, edges: baseline.edges)
        #expect(baseline.psi(same) < 0.02)
        #expect(baseline.ks(same) < 0.03)
        #expect(baseline.psi(shifted) > 1)
        #expect(abs(baseline.ks(shifted) - 0.5) < 0.05)
    }

    @Test func aPlantedShiftShowsInTheFeatureItMoves() async throws {
        // History up to now, so that the features as of training and now describe the same moment;
        // a clock that stands still keeps that true however long the setup takes.
        let fixture = try await ServingFixture(historyLimit: nil, clock: ManualClock(SystemClock().nowMillis()))
        defer { Task { await fixture.close() } }
        let monitor = DriftMonitor(
            controller: fixture.controller, baselines: fixture.runs.baselines, features: fixture.features, config: fixture.config.monitoring,
            clock: fixture.lake.clock)
        _ = try await fixture.controller.precompute()
        for user in fixture.knownUsers { _ = try await fixture.service.recommend(RecommendationRequest(user: user)) }
        let calm = try await monitor.report("default")
        #expect(calm.model == fixture.versions[0].reference)
        #expect(!calm.features.isEmpty)
        #expect(calm.drifting.isEmpty, "\(calm.features.map { "\($0.name) psi \($0.psi) live \($0.live.shares) n \($0.samples)" })")
        #expect((calm.scores?.samples ?? 0) >= 50)

        // Shoppers suddenly browse a lot: twenty views each in the last minutes.
        let model = try #require(fixture.service.state("default")?.variants[0].model)
        var events: [IncomingEvent] = []
        for user in fixture.knownUsers {
            for step in 0..<20 {
                events.append(
                    fixture.event("view", user: user, item: model.recommender.items.ids[step], at: fixture.lake.clock.nowMillis() - Int64(step) * 1000))
            }
        }
        try await fixture.ingest(events)
        let shifted = try await monitor.report("default")
        #expect(shifted.drifting.contains("user_views_1h"), "\(shifted.json.serialized)")
        let views = try #require(shifted.features.first { $0.name == "user_views_1h" })
        #expect(views.psi > 1)
    }
}

/// Prediction quality per variant: the window against the variant's own history.
@Suite(.serialized) struct QualityTests {
    @Test func aCTRDropInTheWindowIsDegraded() async throws {
        // The clock stands still, so that the hour-long windows below hold the same events however
        // long ingesting them takes.
        let fixture = try await ServingFixture(clock: ManualClock(SystemClock().nowMillis())) { $0.monitoring.minImpressions = 200 }
        defer { Task { await fixture.close() } }
        let now = fixture.lake.clock.nowMillis()
        var rng = SplitMix64(seed: 3)
        var events: [IncomingEvent] = []
        // Two hours ago, 10% CTR; in the last hour, 3%.
        for index in 0..<1200 {
            let recent = index >= 600
            let at = recent ? now - Int64(rng.nextInt(below: 3_000_000)) : now - 7_200_000 + Int64(rng.nextInt(below: 3_000_000))
            let id: (name: String, value: FieldValue?) = ("recommendation_id", .string("default:A:recs@1:q\(index)"))
            events.append(fixture.event("impression", user: "q\(index % 100)", item: "i\(index % 50)", at: at, [id]))
            if rng.chance(recent ? 0.03 : 0.10) { events.append(fixture.event("click", user: "q\(index % 100)", item: "i\(index % 50)", at: at + 1000, [id])) }
        }
        try await fixture.ingest(events)
        let report = QualityMonitor(
            controller: fixture.controller, config: fixture.config.monitoring, experiments: fixture.config.serving.experiments, clock: fixture.lake.clock
        ).report()
        let variant = try #require(report["deployments"]?.arrayValue?.first?["variants"]?.arrayValue?.first)
        #expect(variant["window"]?["impressions"] == 600)
        #expect(variant["baseline"]?["impressions"] == 600)
        #expect(variant["judged"] == true)
        #expect(variant["degraded"] == true, "\(variant.serialized)")
        #expect((variant["ctr_change"]?.doubleValue ?? 0) < -0.5)
    }

    @Test("one heavy user who never clicks lowers the window's CTR, but that is no significant drop among users")
    func oneHeavyUserIsNotADrop() async throws {
        let fixture = try await ServingFixture(clock: ManualClock(SystemClock().nowMillis())) { $0.monitoring.minImpressions = 200 }
        defer { Task { await fixture.close() } }
        let now = fixture.lake.clock.nowMillis()
        var rng = SplitMix64(seed: 4)
        var events: [IncomingEvent] = []
        func shown(_ user: String, at: Int64, clickRate: Double, _ index: Int) {
            let id: (name: String, value: FieldValue?) = ("recommendation_id", .string("default:A:recs@1:h\(index)"))
            events.append(fixture.event("impression", user: user, item: "i\(index % 50)", at: at, [id]))
            if rng.chance(clickRate) { events.append(fixture.event("click", user: user, item: "i\(index % 50)", at: at + 1000, [id])) }
        }
        // Before the window: 100 users, ten impressions each, 10% CTR.
        for index in 0..<1000 { shown("b\(index % 100)", at: now - 7_200_000 + Int64(index), clickRate: 0.10, index) }
        // In the window: 50 such users, and one who sees 600 items and clicks none.
        for index in 0..<500 { shown("w\(index % 50)", at: now - 1_000_000 + Int64(index), clickRate: 0.10, 1000 + index) }
        for index in 0..<600 { shown("heavy", at: now - 900_000 + Int64(index), clickRate: 0, 2000 + index) }
        try await fixture.ingest(events)
        let variant = try #require(
            QualityMonitor(
                controller: fixture.controller, config: fixture.config.monitoring, experiments: fixture.config.serving.experiments, clock: fixture.lake.clock
            ).report()["deployments"]?.arrayValue?.first?["variants"]?.arrayValue?.first)
        let window = try #require(variant["window"]?["impressions"]?.intValue)
        let clicks = try #require(variant["window"]?["clicks"]?.intValue)
        let baseline = try #require(variant["baseline"]?["ctr"]?.doubleValue)
        // Counting impressions as independent, this is a large and "significant" drop...
        #expect((variant["ctr_change"]?.doubleValue ?? 0) < -0.3)
        #expect(Proportions.twoSidedPValue(Int(clicks), Int(window), Int(baseline * 1000), 1000) < 0.01)
        // ... but per user it is one user: not degraded.
        #expect(variant["judged"] == true)
        #expect(variant["degraded"] == false, "\(variant.serialized)")
    }
}
