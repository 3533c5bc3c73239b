import Foundation
import StrataCore
import StrataLake
import StrataML
import StrataMetadata
import StrataRegistry
import StrataTesting
import Testing

@testable import StrataTraining

/// Retraining (a fresh snapshot, a run per model, failures reported per model) and a grid
/// search's trials, each a run of one experiment.
@Suite(.serialized) struct RetrainingAndSearchTests {
    static let scientist = Principal(id: "sci", name: "sam", roles: [.scientist])

    @Test func aModelThatCannotFitFailsItsRunWhileTheOthersRetrain() async throws {
        let setup = try await TrainingProject(seed: 47, snapshot: false)
        // EASE with no regularization is a valid spec that the fit refuses.
        let models = [
            try ModelSpec(name: "pop", algorithm: .popularity), try ModelSpec(name: "ease-bad", algorithm: .ease, parameters: ["regularization": 0]),
            try ModelSpec(name: "knn", algorithm: .itemKNN, parameters: ["neighbors": 10]),
        ]
        let retrainer = Retrainer(lake: setup.lake, trainer: setup.trainer, audit: setup.audit, models: models, logger: quietLogger)
        let results = try await retrainer.retrain(models: nil, reason: "nightly", experiment: "nightly-1", by: Self.scientist)
        #expect(results.map { $0["model"]?.stringValue } == ["pop", "ease-bad", "knn"])
        #expect(results[0]["version"]?["reference"] == .string("pop@1"))
        #expect(results[2]["version"]?["reference"] == .string("knn@1"))
        #expect(results[1]["error"]?.stringValue?.contains("invalid_parameter") == true, "\(results[1])")
        #expect(results[1]["version"] == nil)

        // The snapshot the retraining took is every run's data.
        let snapshot = try #require(try await setup.audit.list(action: "training.retrain").first)
        #expect(snapshot.detail == "nightly" && snapshot.target.hasPrefix("data:"))
        let runs = try await setup.trainer.runs.list()
        #expect(runs.count == 3)
        #expect(Set(runs.map(\.dataVersion)) == [String(snapshot.target.dropFirst("data:".count))])
        #expect(runs.allSatisfy { $0.experiment == "nightly-1" })
        let failed = try #require(runs.first { $0.model == "ease-bad" })
        #expect(failed.status == .failed && failed.artifactHash == nil)
        #expect(failed.error?.contains("regularization") == true)
        #expect(runs.filter { $0.status == .finished }.map(\.model).sorted() == ["knn", "pop"])
        let finishes = try await setup.audit.list(action: "training.finish")
        #expect(finishes.filter { $0.outcome == "failed" }.map(\.target) == ["run:\(failed.id)"])
        #expect(finishes.filter { $0.outcome == "ok" }.count == 2)

        // Only the named models the next time, on a new snapshot of the same data.
        let again = try await retrainer.retrain(models: ["knn"], reason: "alert", by: Self.scientist)
        #expect(again.map { $0["model"]?.stringValue } == ["knn"])
        #expect(again[0]["version"]?["reference"] == .string("knn@2"))
        #expect(try await setup.audit.list(action: "training.retrain").count == 2)
        #expect(try await setup.registry.versions(model: "knn").count == 2)
        #expect(try await setup.registry.versions(model: "ease-bad").isEmpty)
        await setup.close()
    }

    @Test func aGridSearchTriesEveryCombinationAndRegistersTheBest() async throws {
        let yaml =
            SearchTests.exampleWithoutSearch + """

                search:
                  knn:
                    method: grid
                    metric: ndcg@10
                    space:
                      neighbors: [5, 50]
                      shrinkage: [0, 10]

                """
        let config = try StrataConfig.parse(yaml: yaml, file: "grid.yaml")
        let search = try #require(config.searches["knn"])
        #expect(search.method == .grid && search.halving == nil)
        #expect(search.candidates().count == 4)
        let setup = try await TrainingProject(config: config, seed: 47, snapshot: false)
        _ = try await setup.lake.maintain(force: true)
        _ = try await setup.lake.compactor.snapshot()
        let base = try #require(config.training.models.first { $0.name == "knn" })
        let outcome = try await setup.trainer.search(search, base: base, principal: Self.scientist)
        #expect(outcome.trials.count == 4)
        #expect(outcome.trials.allSatisfy { $0.runs.count == 1 }, "without halving, one run per trial")
        // Each trial ran with its parameters over the model's others.
        for trial in outcome.trials {
            let run = trial.runs[0]
            #expect(run.parameters["neighbors"] == trial.parameters["neighbors"] && run.parameters["shrinkage"] == trial.parameters["shrinkage"])
            #expect(run.experiment == outcome.experiment && run.status == .finished)
        }
        #expect(Set(outcome.trials.map { [$0.parameters["neighbors"]!, $0.parameters["shrinkage"]!] }) == [[5, 0], [5, 10], [50, 0], [50, 10]])
        // The best by the search's metric, ties to the earlier trial.
        let scores = outcome.trials.map { $0.runs[0].metrics["ndcg@10"] ?? -1 }
        let bestIndex = scores.indices.max { (scores[$0], -$0) < (scores[$1], -$1) }!
        #expect(outcome.best.id == outcome.trials[bestIndex].runs[0].id)
        #expect(outcome.version.runID == outcome.best.id && outcome.version.reference == "knn@1")
        #expect(try await setup.registry.versions().count == 1, "trials add no versions; only the best is registered")
        #expect(try await setup.trainer.runs.list().count == 4)
        let audited = try #require(try await setup.audit.list(action: "training.search").first)
        #expect(audited.target == "experiment:\(outcome.experiment)" && audited.detail.hasPrefix("4 trials, grid"))
        #expect(outcome.json["best_run"] == .string(outcome.best.id))
        #expect(outcome.json["trials"]?.arrayValue?.count == 4)
        await setup.close()
    }
}
