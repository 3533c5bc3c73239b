import Foundation
import StrataCore
import StrataLake
import StrataRegistry
import StrataServing
import StrataTesting
import Synchronization
import Testing

/// Deployments inside a running serving layer: atomic swaps on promotion and rollback, sticky
/// assignment across restarts, canaries rolled back by their guardrails.
@Suite(.serialized) struct DeploymentTests {
    @Test("promotion and rollback swap the served version; rollback takes effect at once")
    func promotionAndRollbackSwap() async throws {
        let fixture = try await ServingFixture()
        defer { Task { await fixture.close() } }
        let users = Array(fixture.knownUsers.prefix(50))
        _ = try await fixture.controller.precompute()
        for user in users {
            let answer = try await fixture.service.recommend(RecommendationRequest(user: user))
            #expect(answer.lineage?.version == fixture.versions[0].version)
            #expect(answer.source == .cache)
            #expect(answer.items.count == 10)
            #expect(answer.lineage?.dataVersion == (try fixture.lake.snapshots.manifest("latest").version))
        }
        _ = try await fixture.registry.promote(fixture.versions[1].reference, by: ServingFixture.approver)
        await fixture.controller.watchOnce()
        for user in users { #expect(try await fixture.service.recommend(RecommendationRequest(user: user)).lineage?.version == fixture.versions[1].version) }
        let outcome = try await fixture.controller.rollback("default", principal: ServingFixture.approver)
        #expect(outcome.serving == ["A=\(fixture.versions[0].reference)"])
        for user in users { #expect(try await fixture.service.recommend(RecommendationRequest(user: user)).lineage?.version == fixture.versions[0].version) }
        let history = try await fixture.controller.store.history("default")
        #expect(history.contains { $0.kind == "rollback" })
    }

    @Test("the same user gets the same variant after a restart")
    func assignmentIsStickyAcrossRestarts() async throws {
        let fixture = try await ServingFixture()
        defer { Task { await fixture.close() } }
        _ = try await fixture.controller.update(
            "default",
            variants: [
                VariantSpec(name: "A", model: "recs", weight: 70), VariantSpec(name: "B", model: "recs", version: fixture.versions[1].version, weight: 30),
            ], shadow: nil, salt: "exp-7", principal: ServingFixture.approver)
        let users = fixture.knownUsers
        var before: [String] = []
        for user in users { before.append(try await fixture.service.recommend(RecommendationRequest(user: user)).variant) }
        #expect(Set(before) == ["A", "B"])
        let restarted = fixture.makeController()
        try await restarted.start()
        var after: [String] = []
        for user in users { after.append(try await restarted.service.recommend(RecommendationRequest(user: user)).variant) }
        #expect(before == after)
        // Each answer's version is the one of its variant: never mixed.
        for user in users.prefix(50) {
            let answer = try await restarted.service.recommend(RecommendationRequest(user: user))
            #expect(answer.lineage?.version == (answer.variant == "A" ? fixture.versions[0].version : fixture.versions[1].version))
        }
    }

    @Test("a canary whose model cannot be served is rolled back automatically, with the reason recorded")
    func brokenCanaryRollsBack() async throws {
        let fixture = try await ServingFixture()
        defer { Task { await fixture.close() } }
        let broken = fixture.versions[1]
        // The artifact is gone from the blob store: the canary's model fails to load.
        let path = fixture.directory.file("blobs/sha256/\(broken.artifactHash.prefix(2))/\(broken.artifactHash)")
        try FileManager.default.removeItem(atPath: path)
        _ = try await fixture.controller.startCanary(
            "default", reference: broken.reference, steps: [10, 50, 100], intervalMillis: 60_000, principal: ServingFixture.approver)
        // Users assigned to the canary are still answered (by the control).
        for user in fixture.knownUsers.prefix(200) {
            #expect(try await fixture.service.recommend(RecommendationRequest(user: user)).lineage?.version == fixture.versions[0].version)
        }
        await fixture.controller.watchOnce()
        let deployment = try #require(try await fixture.controller.store.get("default"))
        #expect(deployment.canary?.status == .rolledBack)
        #expect(deployment.canary?.reason?.contains("cannot be served") == true)
        #expect(deployment.variants.count == 1)
        #expect(try await fixture.registry.resolve("recs@production").version == fixture.versions[0].version)
        let audit = try await fixture.audit.list(action: "deploy.canary.rollback")
        #expect(audit.count == 1)
    }

    @Test("a canary with a much lower CTR than the control is rolled back once both have enough impressions")
    func lowCTRCanaryRollsBack() async throws {
        let fixture = try await ServingFixture { $0.serving.canary.minImpressions = 300 }
        defer { Task { await fixture.close() } }
        _ = try await fixture.controller.startCanary(
            "default", reference: fixture.versions[1].reference, steps: [50, 100], intervalMillis: 600_000, principal: ServingFixture.approver)
        await fixture.controller.watchOnce()  // the window starts here
        var events: [IncomingEvent] = []
        var rng = SplitMix64(seed: 5)
        for index in 0..<1200 {
            let user = "shopper-\(index)"
            let answer = try await fixture.service.recommend(RecommendationRequest(user: user, n: 1))
            guard let item = answer.items.first?.id else { continue }
            let id = ("recommendation_id", FieldValue?.some(.string(answer.id.text)))
            events.append(fixture.event("impression", user: user, item: item, [id]))
            if rng.chance(answer.variant == "canary" ? 0.01 : 0.10) { events.append(fixture.event("click", user: user, item: item, [id])) }
        }
        try await fixture.ingest(events)
        await fixture.controller.watchOnce()
        let deployment = try #require(try await fixture.controller.store.get("default"))
        #expect(deployment.canary?.status == .rolledBack)
        #expect(deployment.canary?.reason?.contains("CTR") == true, "\(deployment.canary?.reason ?? "")")
    }

    @Test("a canary whose CTR only differs by noise is not rolled back, however often the guardrail looks")
    func noisyCanaryIsNotRolledBack() async throws {
        let fixture = try await ServingFixture { $0.serving.canary.minImpressions = 300 }
        defer { Task { await fixture.close() } }
        _ = try await fixture.controller.startCanary(
            "default", reference: fixture.versions[1].reference, steps: [50, 100], intervalMillis: 86_400_000, principal: ServingFixture.approver)
        await fixture.controller.watchOnce()
        var rng = SplitMix64(seed: 8)
        for look in 0..<10 {
            var events: [IncomingEvent] = []
            for index in 0..<200 {
                // Users of both arms alike: each with a CTR of their own around 8%, a few heavy.
                let user = "visitor-\(look)-\(index)"
                let answer = try await fixture.service.recommend(RecommendationRequest(user: user, n: index % 10 == 0 ? 10 : 2))
                let id = ("recommendation_id", FieldValue?.some(.string(answer.id.text)))
                let ctr = 0.08 * (rng.chance(0.5) ? 0.5 : 1.5)
                for item in answer.items {
                    events.append(fixture.event("impression", user: user, item: item.id, [id]))
                    if rng.chance(ctr) { events.append(fixture.event("click", user: user, item: item.id, [id])) }
                }
            }
            try await fixture.ingest(events)
            await fixture.controller.watchOnce()
        }
        let deployment = try #require(try await fixture.controller.store.get("default"))
        #expect(deployment.canary?.status == .running, "\(deployment.canary?.reason ?? "")")
    }

    @Test("a healthy canary steps up and is promoted after its last step")
    func healthyCanaryPromotes() async throws {
        let fixture = try await ServingFixture()
        defer { Task { await fixture.close() } }
        _ = try await fixture.controller.startCanary(
            "default", reference: fixture.versions[1].reference, steps: [50, 100], intervalMillis: 100, principal: ServingFixture.approver)
        for _ in 0..<3 {
            try await Task.sleep(for: .milliseconds(150))
            await fixture.controller.watchOnce()
        }
        let deployment = try #require(try await fixture.controller.store.get("default"))
        #expect(deployment.canary?.status == .completed)
        #expect(try await fixture.registry.resolve("recs@production").version == fixture.versions[1].version)
        #expect(try await fixture.service.recommend(RecommendationRequest(user: "anyone")).variant == "A")
    }
}

/// Two replicas over one metadata store and lake: a change made through one is served by the
/// other after its watcher's next pass, with the same assignment.
@Suite(.serialized) struct ReplicaTests {
    @Test func replicasFollowChangesMadeElsewhere() async throws {
        let fixture = try await ServingFixture()
        defer { Task { await fixture.close() } }
        let other = fixture.makeController()
        try await other.start()
        _ = try await fixture.controller.update(
            "default",
            variants: [
                VariantSpec(name: "A", model: "recs", weight: 50), VariantSpec(name: "B", model: "recs", version: fixture.versions[1].version, weight: 50),
            ], shadow: nil, salt: "replicas", principal: ServingFixture.approver)
        await other.watchOnce()
        for user in fixture.knownUsers.prefix(100) {
            let here = try await fixture.service.recommend(RecommendationRequest(user: user))
            let there = try await other.service.recommend(RecommendationRequest(user: user))
            #expect(here.variant == there.variant)
            #expect(here.lineage?.version == there.lineage?.version)
        }
        // A promotion made through one replica's registry reaches the other's control.
        _ = try await fixture.controller.update(
            "default", variants: [VariantSpec(name: "A", model: "recs", weight: 100)], shadow: nil, salt: nil, principal: ServingFixture.approver)
        _ = try await fixture.registry.promote(fixture.versions[1].reference, by: ServingFixture.approver)
        await other.watchOnce()
        #expect(try await other.service.recommend(RecommendationRequest(user: "anyone")).variant == "A")
        #expect(other.service.state("default")?.variants[0].model?.version.version == fixture.versions[1].version)
    }

    @Test func aShadowScoresTheSameRequestsUnseen() async throws {
        let fixture = try await ServingFixture()
        defer { Task { await fixture.close() } }
        _ = try await fixture.controller.update(
            "default", variants: [VariantSpec(name: "A", model: "recs", weight: 100)],
            shadow: VariantSpec(name: "shadow", model: "recs", version: fixture.versions[1].version, weight: 0), salt: nil, principal: ServingFixture.approver)
        for user in fixture.knownUsers.prefix(40) {
            let answer = try await fixture.service.recommend(RecommendationRequest(user: user))
            #expect(answer.lineage?.version == fixture.versions[0].version, "the shadow is never shown")
        }
        // Shadow scoring runs at background priority, after the answers: wait for all 40 (the
        // deadline only bounds a hang; a loaded machine may take a while to get to them).
        var stats = fixture.service.metrics.shadow(deployment: "default")
        let deadline = ContinuousClock.now + .seconds(120)
        while (stats?.requests ?? 0) < 40, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            stats = fixture.service.metrics.shadow(deployment: "default")
        }
        let shadow = try #require(stats)
        #expect(shadow.requests == 40)
        #expect(shadow.errors == 0)
        #expect(shadow.overlapSum >= 0 && shadow.overlapSum <= 40)
        #expect(shadow.reference == fixture.versions[1].reference)
    }
}

/// Replicas connected by a change bus swap as soon as one of them changes a deployment, long
/// before their next poll (here a day away, so only the bus can explain the swap).
@Suite(.serialized) struct ChangeBusTests {
    /// An in-process bus: what `RedisDeploymentBus` does across processes.
    final class LocalBus: DeploymentChangeBus {
        private let listeners = Mutex<[AsyncStream<Void>.Continuation]>([])
        var listenerCount: Int { listeners.withLock { $0.count } }
        func announce() async { for listener in listeners.withLock({ $0 }) { listener.yield() } }
        func changes() -> AsyncStream<Void> {
            let (stream, continuation) = AsyncStream.makeStream(of: Void.self)
            listeners.withLock { $0.append(continuation) }
            return stream
        }
    }

    @Test func anAnnouncedChangeIsServedBeforeTheNextPoll() async throws {
        let fixture = try await ServingFixture { $0.serving.watchIntervalMillis = 86_400_000 }
        defer { Task { await fixture.close() } }
        let bus = LocalBus()
        let here = fixture.makeController(bus: bus)
        try await here.start()
        let there = fixture.makeController(bus: bus)
        try await there.start()
        let running = Task { try await there.run() }
        defer { running.cancel() }
        // The running replica listens before anything is announced (however late its task starts).
        let listening = ContinuousClock.now + .seconds(120)
        while bus.listenerCount == 0, ContinuousClock.now < listening { try await Task.sleep(for: .milliseconds(10)) }
        #expect(bus.listenerCount == 1)
        #expect(there.service.state("default")?.variants.count == 1)
        _ = try await here.update(
            "default",
            variants: [
                VariantSpec(name: "A", model: "recs", weight: 50), VariantSpec(name: "B", model: "recs", version: fixture.versions[1].version, weight: 50),
            ], shadow: nil, salt: "bus", principal: ServingFixture.approver)
        let swapped = ContinuousClock.now + .seconds(120)
        while there.service.state("default")?.variants.count != 2, ContinuousClock.now < swapped { try await Task.sleep(for: .milliseconds(20)) }
        #expect(there.service.state("default")?.variants.count == 2)
    }
}
