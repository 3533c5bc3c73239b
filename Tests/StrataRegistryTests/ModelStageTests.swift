import Foundation
import StrataCore
import StrataMetadata
import StrataTesting
import Testing

@testable import StrataRegistry

/// A model version's life: candidate → approved → production → archived, the aliases that
/// follow it, and the references that name it.
@Suite struct ModelStageTests {
    @Test func versionsAreNumberedPerModelAndStartAsCandidatesOrRejected() async throws {
        try await RegistryFixture.with { fixture in
            let registry = fixture.registry()
            let first = try await fixture.registerRun(registry, runID: "r1", model: "als")
            let other = try await fixture.registerRun(registry, runID: "r2", model: "knn")
            let second = try await fixture.registerRun(registry, runID: "r3", model: "als", candidate: 0.05, production: 0.1)
            #expect(first.version == 1 && first.stage == .candidate)
            #expect(other.version == 1 && other.model == "knn", "each model counts its own versions")
            #expect(second.version == 2 && second.stage == .rejected)
            #expect(first.reference == "als@1")
            #expect(first.createdAt == RegistryFixture.start)
            #expect(try await registry.versions(model: "als").map(\.version) == [1, 2])
            #expect(try await registry.versions().map(\.reference) == ["als@1", "als@2", "knn@1"])
            #expect(try await registry.versions(model: "missing").isEmpty)
            // What was registered reads back as it was written, gate included.
            let read = try await registry.resolve("als@2")
            #expect(read == second)
            #expect(read.gate?.production == 0.1)
            #expect(read.runID == "r3" && read.artifactHash == "artifact-r3")
        }
    }

    @Test func theFullLifeCycleMovesTheAliases() async throws {
        try await RegistryFixture.with { fixture in
            let registry = fixture.registry()
            _ = try await fixture.registerRun(registry, runID: "r1")
            #expect(try await registry.aliases(model: "als").isEmpty)
            fixture.clock.advance(1000)
            let approved = try await registry.approve("als@1", reason: "holdout looks good", by: RegistryFixture.approver)
            #expect(approved.stage == .approved)
            let approvals = try await registry.approvals(approved)
            #expect(approvals == [Approval(principal: RegistryFixture.approver.label, reason: "holdout looks good", at: RegistryFixture.start + 1000)])
            let production = try await registry.promote("als@1", by: RegistryFixture.approver)
            #expect(production.stage == .production)
            #expect(try await registry.aliases(model: "als") == ["production": 1])

            _ = try await fixture.registerRun(registry, runID: "r2", candidate: 0.2, production: 0.1)
            _ = try await registry.approve("als@2", reason: "better", by: RegistryFixture.approver)
            _ = try await registry.promote("als@2", by: RegistryFixture.approver)
            #expect(try await registry.aliases(model: "als") == ["production": 2, "previous": 1])
            #expect(try await registry.resolve("als@1").stage == .archived)
            #expect(try await registry.resolve("als@production").version == 2)
            #expect(try await registry.resolve("als@previous").version == 1)

            _ = try await fixture.registerRun(registry, runID: "r3", candidate: 0.3, production: 0.2)
            _ = try await registry.approve("als@3", reason: "better still", by: RegistryFixture.admin)
            _ = try await registry.promote("als@3", by: RegistryFixture.admin)
            #expect(try await registry.aliases(model: "als") == ["production": 3, "previous": 2])
            let stages = try await registry.versions(model: "als").map(\.stage)
            #expect(stages == [.archived, .archived, .production])
            #expect(stages.filter { $0 == .production }.count == 1, "one production version per model")
        }
    }

    @Test func rollbackSwapsProductionAndPreviousAndNeedsAPrevious() async throws {
        try await RegistryFixture.with { fixture in
            let registry = fixture.registry()
            let approver = RegistryFixture.approver
            let nothing = await strataError { _ = try await registry.rollback(model: "als", by: approver) }
            #expect(nothing?.code == "nothing_to_roll_back")
            #expect(nothing?.kind == .conflict)

            for (run, score) in [("r1", 0.1), ("r2", 0.2)] {
                let version = try await fixture.registerRun(registry, runID: run, candidate: score)
                _ = try await registry.approve(version.reference, reason: "ok", by: approver)
                _ = try await registry.promote(version.reference, by: approver)
            }
            let rolledBack = try await registry.rollback(model: "als", by: approver)
            #expect(rolledBack.version == 1 && rolledBack.stage == .production)
            #expect(try await registry.resolve("als@2").stage == .archived)
            #expect(try await registry.aliases(model: "als") == ["production": 1, "previous": 2])
            // A second rollback undoes the first.
            #expect(try await registry.rollback(model: "als", by: approver).version == 2)
            #expect(try await registry.aliases(model: "als") == ["production": 2, "previous": 1])
            // Without the approver role, refused and audited.
            let denied = await strataError { _ = try await registry.rollback(model: "als", by: RegistryFixture.scientist) }
            #expect(denied?.code == "approver_role_required")
            #expect(denied?.kind == .forbidden)
            #expect(try await registry.resolve("als@production").version == 2, "a refused rollback changes nothing")
            let rollbacks = try await fixture.audit.list(action: "model.rollback")
            // Every refusal is audited, the one with nothing to roll back included.
            #expect(rollbacks.map(\.outcome) == ["denied", "ok", "ok", "denied"])
            #expect(rollbacks.map(\.target) == ["als", "als@1", "als@2", "als"])
        }
    }

    @Test func approvalNeedsTheRoleAReasonACandidateAndAnotherPrincipal() async throws {
        try await RegistryFixture.with { fixture in
            let registry = fixture.registry()
            // The approver started the run themselves.
            _ = try await fixture.registerRun(registry, runID: "r1", by: RegistryFixture.approver)
            let reader = await strataError { _ = try await registry.approve("als@1", reason: "ok", by: RegistryFixture.reader) }
            #expect(reader?.code == "approver_role_required" && reader?.kind == .forbidden)
            let noReason = await strataError { _ = try await registry.approve("als@1", reason: "  ", by: RegistryFixture.secondApprover) }
            #expect(noReason?.code == "reason_required" && noReason?.kind == .invalidInput)
            let own = await strataError { _ = try await registry.approve("als@1", reason: "mine", by: RegistryFixture.approver) }
            #expect(own?.code == "self_approval" && own?.kind == .forbidden)
            #expect(own?.message.contains("allow_self_approval") == true)
            #expect(try await registry.resolve("als@1").stage == .candidate, "refusals change nothing")
            #expect(try await registry.approvals(try await registry.resolve("als@1")).isEmpty)

            _ = try await registry.approve("als@1", reason: "reviewed", by: RegistryFixture.secondApprover)
            let again = await strataError { _ = try await registry.approve("als@1", reason: "twice", by: RegistryFixture.admin) }
            #expect(again?.code == "not_a_candidate" && again?.kind == .conflict)

            // A rejected version can never be approved.
            _ = try await fixture.registerRun(registry, runID: "r2", candidate: 0.01, production: 0.5)
            let rejected = await strataError { _ = try await registry.approve("als@2", reason: "please", by: RegistryFixture.secondApprover) }
            #expect(rejected?.code == "not_a_candidate")

            let denials = try await fixture.audit.list(action: "model.approve").filter { $0.outcome == "denied" }
            #expect(denials.count == 5, "every refusal is audited")
            #expect(denials.allSatisfy { !$0.detail.isEmpty })
            #expect(try await fixture.audit.list(action: "model.approve").filter { $0.outcome == "ok" }.map(\.detail) == ["reviewed"])
        }
    }

    @Test func selfApprovalIsAllowedOnlyWhenTheRulesSaySo() async throws {
        try await RegistryFixture.with { fixture in
            let strict = fixture.registry()
            let relaxed = fixture.registry(GovernanceRules(allowSelfApproval: true))
            let both = Principal(id: "sci2", name: "pat", roles: [.scientist, .approver])
            _ = try await fixture.registerRun(strict, runID: "r1", by: both)
            #expect(await strataError { _ = try await strict.approve("als@1", reason: "mine", by: both) }?.code == "self_approval")
            #expect(try await relaxed.approve("als@1", reason: "mine, allowed", by: both).stage == .approved)
            // Even with the rule relaxed, the approver role is still needed.
            _ = try await fixture.registerRun(relaxed, runID: "r2", by: RegistryFixture.scientist)
            #expect(
                await strataError { _ = try await relaxed.approve("als@2", reason: "mine", by: RegistryFixture.scientist) }?.code == "approver_role_required")
        }
    }

    @Test func onlyApprovedVersionsArePromoted() async throws {
        try await RegistryFixture.with { fixture in
            let registry = fixture.registry()
            _ = try await fixture.registerRun(registry, runID: "r1")
            let candidate = await strataError { _ = try await registry.promote("als@1", by: RegistryFixture.approver) }
            #expect(candidate?.code == "approval_required" && candidate?.kind == .conflict)
            _ = try await registry.approve("als@1", reason: "ok", by: RegistryFixture.approver)
            let role = await strataError { _ = try await registry.promote("als@1", by: RegistryFixture.scientist) }
            #expect(role?.code == "approver_role_required")
            _ = try await registry.promote("als@1", by: RegistryFixture.approver)
            // Production is not "approved": promoting it again is refused and changes nothing.
            #expect(await strataError { _ = try await registry.promote("als@1", by: RegistryFixture.approver) }?.code == "approval_required")
            #expect(try await registry.aliases(model: "als") == ["production": 1])
            let promotions = try await fixture.audit.list(action: "model.promote")
            #expect(promotions.map(\.outcome) == ["denied", "denied", "ok", "denied"])
            #expect(try await fixture.audit.verify().isIntact)
        }
    }

    @Test func referencesResolveByNumberAliasOrNewest() async throws {
        try await RegistryFixture.with { fixture in
            let registry = fixture.registry()
            for index in 1...3 { _ = try await fixture.registerRun(registry, runID: "r\(index)", candidate: Double(index) / 10) }
            _ = try await registry.approve("als@2", reason: "ok", by: RegistryFixture.approver)
            _ = try await registry.promote("als@2", by: RegistryFixture.approver)
            #expect(try await registry.resolve("als").version == 3, "a bare name is the newest version")
            #expect(try await registry.resolve("als@3").runID == "r3")
            #expect(try await registry.resolve("als@production").version == 2)
            #expect(await strataError { _ = try await registry.resolve("als@previous") }?.code == "model_version_not_found", "no previous yet")
            for missing in ["als@9", "als@staging", "nope", "nope@1", "als@-1"] {
                let error = await strataError { _ = try await registry.resolve(missing) }
                #expect(error?.code == "model_version_not_found", "\(missing)")
                #expect(error?.kind == .notFound, "\(missing)")
            }
            for invalid in ["", "@1", "als@", "@"] {
                let error = await strataError { _ = try await registry.resolve(invalid) }
                #expect(error?.code == "invalid_reference", "'\(invalid)'")
                #expect(error?.kind == .invalidInput, "'\(invalid)'")
            }
        }
    }

    @Test func modelReferencesParse() {
        #expect(ModelReference("als") == ModelReference("als"))
        #expect(ModelReference("als")?.qualifier == nil)
        #expect(ModelReference("als@3")?.version == 3)
        #expect(ModelReference("als@production")?.qualifier == "production")
        #expect(ModelReference("als@production")?.version == nil)
        #expect(ModelReference("my-model@previous")?.model == "my-model")
        // Only the first `@` separates.
        #expect(ModelReference("a@b@c")?.model == "a")
        #expect(ModelReference("a@b@c")?.qualifier == "b@c")
        for invalid in ["", "@", "@3", "als@"] { #expect(ModelReference(invalid) == nil, "'\(invalid)'") }
    }

    @Test func theGatePassesOnlyAboveProductionByTheMarginAndWithEnoughRecall() {
        let first = GateResult(metric: "ndcg@10", margin: 0.01, candidate: 0.05, production: nil, productionVersion: nil)
        #expect(first.passed, "with nothing in production, any candidate passes")
        #expect(first.message.contains("no production version") && first.message.contains("accepted"))
        let equal = GateResult(metric: "ndcg@10", margin: 0.01, candidate: 0.11, production: 0.1, productionVersion: 4)
        #expect(equal.passed, "candidate = production + margin passes")
        #expect(equal.message.contains("v4") && equal.message.hasSuffix("passed"))
        let short = GateResult(metric: "ndcg@10", margin: 0.01, candidate: 0.1099, production: 0.1, productionVersion: 4)
        #expect(!short.passed)
        #expect(short.message.hasSuffix("rejected"))
        let noMargin = GateResult(metric: "ndcg@10", margin: 0, candidate: 0.1, production: 0.1, productionVersion: 4)
        #expect(noMargin.passed, "margin 0: not worse is enough")
        var lowRecall = first
        lowRecall.annRecall = 0.8
        lowRecall.minRecall = 0.9
        #expect(!lowRecall.passed, "an index that misses too much fails even without production")
        #expect(lowRecall.message.contains("is below serving.ann.min_recall") && lowRecall.message.contains("raise serving.ann.m"))
        lowRecall.annRecall = 0.9
        #expect(lowRecall.passed, "recall equal to the minimum passes")
        #expect(lowRecall.message.contains("meets"))
        #expect(first.json["passed"] == .bool(true))
        #expect(short.json["production_version"] == .int(4))
        #expect(first.json["production"] == .null)
    }

    @Test func gatesAndVersionsSurviveTheStoreUnchanged() async throws {
        try await RegistryFixture.with { fixture in
            let registry = fixture.registry()
            try await fixture.runs.insert(RegistryFixture.run("r1"))
            let gate = GateResult(
                metric: "recall@10", margin: 0.0125, candidate: 0.123456789012, production: 0.1, productionVersion: 7, annRecall: 0.987654321, minRecall: 0.95)
            let registered = try await registry.register(model: "als", runID: "r1", artifactHash: "abc", gate: gate, by: RegistryFixture.scientist)
            let read = try await registry.resolve("als@1")
            #expect(read.gate == gate)
            #expect(read == registered)
            #expect(GateResult(json: gate.json) == gate)
            #expect(read.json["reference"] == .string("als@1"))
            #expect(read.json["stage"] == .string("candidate"))
            #expect(read.json["created_at"] == .string(EventTime.format(millis: RegistryFixture.start)))
            let register = try #require(try await fixture.audit.list(action: "model.register").first)
            #expect(register.target == "als@1" && register.outcome == "ok" && register.detail == gate.message)
            #expect(register.principal == "key:sci(sam)")
        }
    }
}
