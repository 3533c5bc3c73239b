import Foundation
import Logging
import ServiceLifecycle
import StrataCore
import StrataLake
import StrataRegistry
import StrataServing

/// The demo's serving story: once the first models are trained, a stand-in approver approves
/// and promotes the serving model (in production a person does this), an A/B test puts a
/// second model beside it, and simulated users ask for recommendations, see them
/// (impressions) and click the ones in their planted favourite categories more often, so the
/// dashboard shows live CTR per variant converging.
struct DemoServing: Service {
    let lake: Lake
    /// strata.yaml: the models, the deployment, the contract and the re-ranker the demo drives.
    let strata: StrataConfig
    let registry: ModelRegistry
    let controller: DeploymentController
    let generator: GeneratorConfig
    let requestsPerSecond: Double
    let shift: DemoShift
    let logger: Logger

    static let approver = Principal(id: "demo-approver", name: "demo approver", roles: [.approver])

    func run() async throws {
        await cancelWhenGracefulShutdown {
            do {
                try await deploy()
            } catch is CancellationError {
                return
            } catch {
                logger.warning("the demo deployment failed", metadata: ["error": "\(error)"])
                return
            }
            await simulateTraffic()
        }
    }

    /// Waits for the demo's first version of the serving model and promotes it.
    func deploy() async throws {
        guard let model = controller.defaultModel else { return }
        var candidate: ModelVersion?
        while candidate == nil {
            try Task.checkCancellation()
            if (try? await registry.resolve("\(model)@production")) != nil { break }
            candidate = try? await registry.versions(model: model).last { $0.stage == .candidate }
            if candidate == nil { try await Task.sleep(for: .seconds(1)) }
        }
        if let candidate {
            _ = try await registry.approve(candidate.reference, reason: "demo: approved at first start", by: Self.approver)
            _ = try await registry.promote(candidate.reference, by: Self.approver)
            await controller.watchOnce()
            logger.info("demo: promoted the first model", metadata: ["version": "\(candidate.reference)"])
        }
    }

    /// Puts item-kNN beside the serving model in an A/B test once its first version is trained,
    /// whichever finishes training first (checked until it has happened; a restart keeps the
    /// test it finds). Answers whether there is nothing more to wait for.
    func startABTestWhenReady() async -> Bool {
        guard let model = controller.defaultModel,
            let challengerModel = strata.training.models.first(where: { $0.name != model && $0.algorithm == .itemKNN })?.name
        else { return true }
        let name = strata.serving.deployment
        do {
            guard (try? await registry.resolve("\(model)@production")) != nil, let deployment = try await controller.store.get(name) else { return false }
            guard deployment.variants.count == 1, deployment.canary == nil else { return true }
            guard let challenger = try await registry.versions(model: challengerModel).last(where: { $0.stage == .candidate || $0.stage == .approved })
            else { return false }
            if challenger.stage == .candidate {
                _ = try await registry.approve(challenger.reference, reason: "demo: approved for an A/B test", by: Self.approver)
            }
            _ = try await controller.update(
                name,
                variants: [
                    VariantSpec(name: "A", model: model, weight: 50), VariantSpec(name: "B", model: challenger.model, version: challenger.version, weight: 50),
                ], shadow: nil, salt: nil, principal: Self.approver)
            logger.info("demo: A/B test started", metadata: ["A": "\(model)@production", "B": "\(challenger.reference)"])
            return true
        } catch {
            logger.warning("the demo A/B test did not start yet", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Simulated page views: recommendations shown as impressions, clicks on liked items
    /// (12%) far more often than on others (2%), and now and then a purchase
    /// (`SyntheticGenerator.respond`). After the planted shift, the shifted users like other
    /// categories than the served model learned, so its CTR falls.
    func simulateTraffic() async {
        var truth = SyntheticGenerator(contract: strata.contract, config: generator)
        var rng = SplitMix64(seed: generator.seed &+ UInt64(lake.clock.nowMillis()))
        var shifted = false
        var batch = 0
        var abTestReady = false
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: .milliseconds(250))
            } catch {
                return
            }
            var events: [IncomingEvent] = []
            let now = lake.clock.nowMillis()
            if !shifted, shift.isDue(now) {
                truth.shiftTastes(fraction: shift.fraction)
                shifted = true
            }
            for _ in 0..<max(1, Int(requestsPerSecond / 4)) {
                let user = SyntheticGenerator.userID(rng.nextInt(below: generator.users))
                guard let answer = try? await controller.service.recommend(RecommendationRequest(user: user, n: 5, context: ["surface": "home"])) else {
                    continue
                }
                events += truth.respond(user: user, to: answer.items.map(\.id), recommendationID: answer.id.text, at: now)
            }
            batch += 1
            if batch % 20 == 1 { await promoteReranker() }
            if !abTestReady, batch % 4 == 1 { abTestReady = await startABTestWhenReady() }
            guard !events.isEmpty else { continue }
            do {
                _ = try await lake.ingestor.ingest(events: events, source: "demo-traffic")
            } catch {
                logger.warning("demo traffic was not stored", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Once the demo's re-ranker is trained, the stand-in approver puts it into production.
    func promoteReranker() async {
        guard let name = strata.reranker?.name, (try? await registry.resolve("\(name)@production")) == nil,
            let candidate = try? await registry.versions(model: name).last(where: { $0.stage == .candidate })
        else { return }
        do {
            _ = try await registry.approve(candidate.reference, reason: "demo: re-ranks the live model's candidates", by: Self.approver)
            _ = try await registry.promote(candidate.reference, by: Self.approver)
            await controller.watchOnce()
            logger.info("demo: promoted the re-ranker", metadata: ["version": "\(candidate.reference)"])
        } catch {
            logger.warning("the demo re-ranker was not promoted", metadata: ["error": "\(error)"])
        }
    }
}
