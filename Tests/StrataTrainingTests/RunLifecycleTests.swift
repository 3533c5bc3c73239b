import Foundation
import StrataCore
import StrataLake
import StrataML
import StrataMetadata
import StrataRegistry
import StrataTesting
import Synchronization
import Testing

@testable import StrataTraining

/// A training run's life as the run store and the audit log record it: finished with its
/// artifact and metrics, failed with its error, resumed, refused.
@Suite(.serialized) struct RunLifecycleTests {
    static let scientist = Principal(id: "sci", name: "sam", roles: [.scientist])

    @Test func aFinishedRunRecordsItsInputsArtifactMetricsAndAudit() async throws {
        let stages = Mutex<[String]>([])
        let setup = try await TrainingProject(
            seed: 41, snapshot: true, codeVersion: "git:lifecycle",
            observer: { _, stage, seconds in
                stages.withLock { $0.append(stage) }
                #expect(seconds >= 0)
            })
        let spec = try ModelSpec(name: "als", algorithm: .als, parameters: ["factors": 8, "iterations": 3])
        let outcome = try await setup.trainer.train(TrainingRequest(spec: spec, principal: Self.scientist))
        let run = outcome.run
        #expect(run.status == .finished && run.error == nil)
        #expect(run.dataVersion == setup.snapshot, "`latest` resolves to the snapshot's version")
        #expect(run.contractVersion == setup.config.contract.version)
        #expect(run.codeVersion == "git:lifecycle" && run.strataVersion == StrataVersion.current)
        #expect(run.principal == Self.scientist.label && run.model == "als" && run.experiment == "als" && run.algorithm == .als)
        #expect(run.parameters == spec.parameters && run.seed == 42)
        #expect(run.inputs.interactions == setup.config.training.interactions)
        let finishedAt = try #require(run.finishedAt)
        #expect(finishedAt >= run.startedAt)
        // The artifact is stored under its hash and loads as the model.
        let artifact = try #require(run.artifactHash)
        let bytes = try await setup.trainer.blobs.get(artifact)
        #expect(SHA256Hex.of(bytes) == artifact)
        #expect(try ModelTrainer.load(try ModelArtifact(decoding: bytes)) is any FactorRecommender)
        // Holdout metrics, data sizes and where the time went.
        for key in ["ndcg@10", "recall@10", "precision@10", "map@10", "hit_rate@10", "coverage", "evaluated_users"] {
            #expect(run.metrics[key] != nil, "\(key)")
        }
        #expect((run.metrics["train_interactions"] ?? 0) > 0 && (run.metrics["test_interactions"] ?? 0) > 0)
        #expect((run.metrics["users"] ?? 0) > 0 && (run.metrics["items"] ?? 0) > 0)
        for stage in ["read", "fit", "index", "evaluate", "baseline", "artifact", "gate"] { #expect(run.metrics["seconds_\(stage)"] != nil, "\(stage)") }
        #expect(stages.withLock { $0 } == ["read", "fit", "index", "evaluate", "baseline", "artifact", "gate"])
        // One `iteration_seconds` per ALS iteration.
        let iterations = try await setup.trainer.runs.iterationMetrics(run.id)
        let steps = iterations.filter { $0.name == "iteration_seconds" }.map(\.step)
        #expect(steps.count == 3 && steps == steps.sorted() && Set(steps).count == 3)
        // The drift baseline of what the model saw.
        let baseline = try #require(try await setup.trainer.runs.baselines.get(runID: run.id))
        #expect(baseline.users > 0 && baseline.scores.count > 0)
        // The version it became, and the audit trail.
        let version = try #require(outcome.version)
        #expect(version.runID == run.id && version.artifactHash == artifact && version.stage == .candidate)
        #expect(version.gate?.production == nil && version.gate?.candidate == run.metrics["ndcg@10"])
        let trail = try await setup.audit.list().filter { $0.target == "run:\(run.id)" || $0.target == version.reference }
        #expect(trail.map(\.action) == ["training.start", "training.finish", "model.register"])
        #expect(trail.allSatisfy { $0.outcome == "ok" && $0.principal == Self.scientist.label })
        #expect(trail[1].detail == "artifact \(artifact)")
        #expect(try await setup.trainer.runs.get(run.id) == run, "the outcome is what the store holds")
        await setup.close()
    }

    @Test func aRunThatCannotReadItsDataIsMarkedFailedAndAudited() async throws {
        let setup = try await TrainingProject(seed: 41, snapshot: true, codeVersion: "git:lifecycle")
        let spec = try ModelSpec(name: "pop", algorithm: .popularity)
        // Interactions of a type no event has: nothing to train on.
        let policy = InteractionPolicy(weights: ["no_such_type": 1])
        var thrown: StrataError?
        do {
            _ = try await setup.trainer.train(TrainingRequest(spec: spec, principal: Self.scientist, interactions: policy))
        } catch let error as StrataError {
            thrown = error
        }
        #expect(thrown?.code == "no_interactions")
        let runs = try await setup.trainer.runs.list()
        #expect(runs.count == 1)
        let run = try #require(runs.first)
        #expect(run.status == .failed)
        #expect(run.error?.contains("no_interactions") == true)
        #expect(run.finishedAt != nil && run.artifactHash == nil)
        #expect(run.inputs.interactions == policy, "the failed run records what it tried")
        let finish = try await setup.audit.list(action: "training.finish")
        #expect(finish.map(\.outcome) == ["failed"])
        #expect(finish.first?.target == "run:\(run.id)" && finish.first?.detail.contains("no_interactions") == true)
        #expect(try await setup.registry.versions().isEmpty, "a failed run registers nothing")
        #expect(try await setup.trainer.runs.summary().map(\.status) == [.failed])
        // Resuming it fails the same way (it reads with the recorded policy) and stays failed.
        await #expect(throws: StrataError.self) { _ = try await setup.trainer.resume(runID: run.id, principal: Self.scientist) }
        #expect(try await setup.trainer.runs.get(run.id).status == .failed)
        #expect(try await setup.audit.list(action: "training.resume").count == 1)
        await setup.close()
    }

    @Test func anUnknownSnapshotIsRefusedBeforeARunStarts() async throws {
        let setup = try await TrainingProject(seed: 41, snapshot: true, codeVersion: "git:lifecycle")
        let spec = try ModelSpec(name: "pop", algorithm: .popularity)
        var thrown: StrataError?
        do {
            _ = try await setup.trainer.train(TrainingRequest(spec: spec, snapshot: "ffffffffffff", principal: Self.scientist))
        } catch let error as StrataError {
            thrown = error
        }
        #expect(thrown?.kind == .notFound)
        #expect(try await setup.trainer.runs.list().isEmpty, "no run is recorded for data that does not exist")
        #expect(try await setup.audit.list(action: "training.start").isEmpty)
        await setup.close()
    }

    @Test func finishedRunsCannotBeResumedAndUnknownOnesAreNotFound() async throws {
        let setup = try await TrainingProject(seed: 41, snapshot: true, codeVersion: "git:lifecycle")
        let outcome = try await setup.trainer.train(TrainingRequest(spec: try ModelSpec(name: "pop", algorithm: .popularity), principal: Self.scientist))
        var finished: StrataError?
        do {
            _ = try await setup.trainer.resume(runID: outcome.run.id, principal: Self.scientist)
        } catch let error as StrataError {
            finished = error
        }
        #expect(finished?.code == "run_finished" && finished?.kind == .conflict)
        #expect(try await setup.audit.list(action: "training.resume").isEmpty, "a refused resume changes nothing")
        var unknown: StrataError?
        do {
            _ = try await setup.trainer.resume(runID: "r-none", principal: Self.scientist)
        } catch let error as StrataError {
            unknown = error
        }
        #expect(unknown?.code == "run_not_found")
        #expect(try await setup.trainer.runs.list().count == 1)
        await setup.close()
    }

    /// A run that stopped before finishing (its process killed before any checkpoint) resumes
    /// on its recorded data and inputs, and produces the artifact a fresh run produces.
    @Test func anInterruptedRunResumesToTheSameArtifact() async throws {
        let setup = try await TrainingProject(seed: 41, snapshot: true, codeVersion: "git:lifecycle")
        let spec = try ModelSpec(name: "knn", algorithm: .itemKNN, parameters: ["neighbors": 10])
        let interrupted = RunRecord(
            id: "r-interrupted", experiment: "knn", model: "knn", algorithm: .itemKNN, dataVersion: setup.snapshot ?? "",
            contractVersion: setup.config.contract.version, codeVersion: "git:lifecycle", parameters: spec.parameters, seed: 0, host: "h",
            principal: Self.scientist.label, startedAt: 1, reproduces: nil, inputs: RunInputs(interactions: setup.config.training.interactions))
        try await setup.trainer.runs.insert(interrupted)
        let approver = Principal(id: "apr", name: "ann", roles: [.approver])
        let resumed = try await setup.trainer.resume(runID: "r-interrupted", principal: approver)
        #expect(resumed.run.id == "r-interrupted")
        #expect(resumed.run.status == .finished && resumed.run.artifactHash != nil)
        #expect(resumed.version?.runID == "r-interrupted")
        let resume = try #require(try await setup.audit.list(action: "training.resume").first)
        #expect(resume.detail == "from iteration 0" && resume.principal == approver.label)
        let fresh = try await setup.trainer.train(TrainingRequest(spec: spec, principal: Self.scientist))
        #expect(fresh.run.artifactHash == resumed.run.artifactHash, "same data, inputs and parameters: the same artifact")
        #expect(fresh.version?.version == 2)
        // Now finished, it cannot be resumed again.
        await #expect(throws: StrataError.self) { _ = try await setup.trainer.resume(runID: "r-interrupted", principal: approver) }
        await setup.close()
    }
}
