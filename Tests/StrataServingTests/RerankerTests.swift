import Foundation
import StrataCore
import StrataFeatures
import StrataLake
import StrataMetadata
import StrataRegistry
import StrataServing
import StrataTesting
import StrataTraining
import Testing

/// The learning-to-rank stage: trained on a point-in-time training set of impressions and
/// clicks, it learns what users click (here: items many people viewed lately), reproduces bit
/// for bit, and re-orders the live model's candidates in serving.
@Suite(.serialized) struct RerankerTests {
    @Test func learnsFromClicksReproducesAndReordersLiveAnswers() async throws {
        let directory = TemporaryDirectory("strata-reranker")
        defer { directory.remove() }
        var config = Fixtures.config
        config.serving.model = "recs"
        config.serving.precomputeIntervalMillis = 0
        config.registry.gateMargin = -1
        var reranker = try RerankerConfig(features: ["user_views_1h", "item_views_24h", "item_purchases_7d"], parameters: ["rounds": 40, "max_depth": 3])
        reranker.candidates = 40
        config.reranker = reranker
        let lake = try Fixtures.lake(directory, config: config)
        let now = SystemClock().nowMillis()
        let hot = Set((0..<20).map { "i\($0)" })
        var rng = SplitMix64(seed: 9)
        var events: [IncomingEvent] = []
        func event(_ type: String, _ user: String, _ item: String, _ at: Int64, _ extra: [(name: String, value: FieldValue?)] = []) -> IncomingEvent {
            IncomingEvent(type: type, userID: user, time: .millis(at), fields: [("item_id", .string(item))] + extra)
        }
        // Lately, many people viewed the hot items, few the others.
        for item in 0..<100 {
            for viewer in 0..<(item < 20 ? 30 : 2) {
                events.append(event("view", "viewer-\(viewer)", "i\(item)", now - 23 * 3_600_000 + Int64(rng.nextInt(below: 3_600_000))))
            }
        }
        // Slates of eight impressions; shoppers click hot items far more often.
        for slate in 0..<500 {
            let at = now - 20 * 3_600_000 + Int64(slate) * 120_000
            let user = "shopper-\(slate % 200)"
            var shown = Set<String>()
            while shown.count < 8 { shown.insert("i\(rng.nextInt(below: 100))") }
            let id: (name: String, value: FieldValue?) = ("recommendation_id", .string("default:A:recs@1:slate\(slate)"))
            for (position, item) in shown.sorted().enumerated() {
                events.append(event("impression", user, item, at, [id, ("position", .int(Int64(position)))]))
                if rng.chance(hot.contains(item) ? 0.6 : 0.05) { events.append(event("click", user, item, at + 30_000, [id])) }
            }
        }
        _ = try await lake.ingestor.ingest(events: events, source: "test", allowLate: true)
        _ = try await lake.maintain(force: true)
        _ = try await lake.compactor.snapshot()
        let store = try await MetadataStore.open(url: "sqlite:", defaultSQLitePath: directory.file("metadata.sqlite"), logger: quietLogger)
        let audit = AuditLog(store: store)
        let registry = ModelRegistry(store: store, audit: audit)
        let runs = RunStore(store: store)
        let blobs = FileBlobStore(root: directory.file("blobs"))
        let trainer = Trainer(
            runs: runs, blobs: blobs, registry: registry, audit: audit, directory: lake.directory, config: config, codeVersion: "git:test", threads: 2)
        let scientist = Principal(id: "sci", name: "sam", roles: [.scientist])
        let approver = Principal(id: "apr", name: "ann", roles: [.approver])
        let recs = try ModelSpec(name: "recs", algorithm: .als, parameters: ["factors": 8, "iterations": 3])
        let model = try #require(try await trainer.train(TrainingRequest(spec: recs, principal: scientist)).version)
        _ = try await registry.approve(model.reference, reason: "test", by: approver)
        _ = try await registry.promote(model.reference, by: approver)

        let outcome = try await trainer.trainReranker(reranker, principal: scientist)
        let version = try #require(outcome.version)
        let learned = try #require(outcome.run.metrics["ndcg@10"])
        let shownOrder = try #require(outcome.run.metrics["shown_order_ndcg@10"])
        #expect(learned > shownOrder + 0.1, "NDCG@10 \(learned) vs the order shown \(shownOrder)")
        #expect(outcome.run.algorithm == .gbdtRanker)
        _ = try await registry.approve(version.reference, reason: "learns clicks", by: approver)
        _ = try await registry.promote(version.reference, by: approver)
        let (_, _, identical) = try await trainer.reproduce(version.reference, principal: scientist)
        #expect(identical, "the same snapshot, features and seed give the same artifact")

        // Serving: a newcomer's live answer is re-ordered, towards what shoppers click.
        let features = try FeatureStore(lake: lake, definitions: config.contract.features, logger: quietLogger)
        let activity = try ServingActivity(lake: lake, settings: ServingSettings(config), logger: quietLogger)
        let cache = MemoryRecommendationCache()
        let sources = ServingSources(lake: lake)
        let service = RecommendationService(
            sources: sources, features: features, activity: activity, cache: cache, metrics: ServingMetrics())
        let controller = DeploymentController(
            store: DeploymentStore(records: DeploymentRecords(store: store)), service: service, registry: registry,
            loader: ModelLoader(registry: registry, runs: runs, blobs: blobs),
            precomputer: Precomputer(sources: sources, activity: activity, cache: cache, topN: 50, threads: 2), audit: audit,
            logger: quietLogger)
        try await controller.start()
        #expect(service.reranker?.reference == version.reference)
        _ = try await lake.ingestor.ingest(events: [event("view", "newcomer", "i50", now), event("view", "newcomer", "i61", now)], source: "test")
        try features.catchUp()
        await activity.waitUntilApplied(through: lake.log.endOffset)
        let reranked = try await service.recommend(RecommendationRequest(user: "newcomer", n: 10))
        #expect(reranked.source == .live)
        #expect(reranked.reranker == version.reference)
        #expect(!reranked.items.contains { $0.id == "i50" || $0.id == "i61" }, "the newcomer's views are not recommended back")
        // Trained shoppers who just viewed something: re-ranked live answers leave out all they
        // interacted with (the re-ranker orders the first stage's candidates, which exclude it).
        let shoppers = (0..<20).map { "shopper-\($0)" }
        _ = try await lake.ingestor.ingest(events: shoppers.map { event("view", $0, "i99", now) }, source: "test")
        try features.catchUp()
        await activity.waitUntilApplied(through: lake.log.endOffset)
        for shopper in shoppers {
            let history = Set(
                events.filter { $0.userID == shopper && $0.type != "impression" }.compactMap { event -> String? in
                    guard case .string(let item)? = event.fields.first(where: { $0.name == "item_id" })?.value else { return nil }
                    return item
                } + ["i99"])
            let answer = try await service.recommend(RecommendationRequest(user: shopper, n: 20))
            #expect(answer.reranker == version.reference)
            #expect(history.isDisjoint(with: answer.items.map(\.id)), "\(shopper)'s re-ranked answer repeats what they interacted with")
        }
        service.install(reranker: nil)
        let plain = try await service.recommend(RecommendationRequest(user: "newcomer", n: 10))
        #expect(plain.reranker == nil)
        let hotShare = { (answer: Recommendation) in answer.items.filter { hot.contains($0.id) }.count }
        #expect(hotShare(reranked) >= hotShare(plain), "hot items: \(hotShare(reranked)) re-ranked vs \(hotShare(plain)) plain")
        // The trees separate the items many people viewed: they come first.
        let count = hotShare(reranked)
        #expect(count > 0)
        #expect(reranked.items.prefix(count).allSatisfy { hot.contains($0.id) }, "\(reranked.items.map(\.id))")
        await lake.close()
        await store.close()
    }
}
