import ArgumentParser
import Foundation
import StrataCore
import StrataRegistry
import StrataTraining

/// `strata train`: a recorded, checkpointed, evaluated training run that ends as a registered
/// model version (a candidate, or rejected by the gate).
struct Train: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model of strata.yaml on a lake snapshot as a recorded run; prints the new version as NAME@VERSION.",
        discussion: """
            Examples:
              strata train --model als                 # the latest snapshot
              strata train --resume r0194f...          # continue a killed run from its checkpoint
              strata train --reproduce als@3           # re-run version 3's inputs; compare artifact hashes
              strata train --search als                # the search of search.als in strata.yaml; registers the best
            """)
    @OptionGroup var data: DataOptions
    @Option(help: "Model of strata.yaml (default: every model).") var model: String?
    @Option(help: "Snapshot version or prefix (default: latest).") var snapshot = "latest"
    @Option(help: "Experiment name (default: the model's).") var experiment: String?
    @Option(help: "Continue this run from its last checkpoint.") var resume: String?
    @Option(help: "Re-run the run behind NAME@VERSION and compare artifact hashes.") var reproduce: String?
    @Option(help: "Run the hyperparameter search of this model (search.MODEL in strata.yaml).") var search: String?
    @Option(help: "Threads (default: all cores; results do not depend on it).") var threads: Int?
    @Flag(help: "Train the learning-to-rank stage (reranker: in strata.yaml) on a point-in-time training set of the snapshot.") var reranker = false
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        var reproduced = true
        try await withGovernance(data) { governance in
            let config = governance.config
            // Each stage as it ends, on standard error (the result follows on standard output).
            let trainer = governance.trainer(threads: threads) { run, stage, seconds in
                FileHandle.standardError.write(Data(String(format: "  %@ %@: %.1f s\n", run, stage, seconds).utf8))
            }
            let principal = try governance.principal()
            if let search {
                guard let searchSpec = config.searches[search], let base = config.training.models.first(where: { $0.name == search }) else {
                    throw StrataError.notFound(
                        "no_search", "strata.yaml has no search for '\(search)' (searches: \(config.searches.keys.sorted().joined(separator: ", ")))")
                }
                let outcome = try await trainer.search(searchSpec, base: base, snapshot: snapshot, principal: principal)
                if json {
                    print(outcome.json.serialized)
                } else {
                    print("experiment \(outcome.experiment): \(outcome.trials.count) trials, \(outcome.trials.reduce(0) { $0 + $1.runs.count }) runs")
                    for trial in outcome.trials {
                        let rungs = trial.runs.map { "\(Int($0.parameters["iterations"] ?? 0)) it: \(String(format: "%.4f", $0.metrics[outcome.metric] ?? 0))" }
                        let parameters = trial.parameters.keys.sorted().map { "\($0)=\(String(format: "%.4g", trial.parameters[$0]!))" }.joined(separator: " ")
                        print("  \(parameters)  →  \(rungs.joined(separator: " → "))\(trial.runs.last?.id == outcome.best.id ? "  ← best" : "")")
                    }
                    print("best run \(outcome.best.id): \(outcome.metric) \(String(format: "%.4f", outcome.best.metrics[outcome.metric] ?? 0))")
                    print("  gate: \(outcome.version.gate?.message ?? "")")
                    print(outcome.version.stage == .rejected ? "\(outcome.version.reference) (rejected by the gate)" : outcome.version.reference)
                }
            } else if reranker {
                guard let settings = config.reranker else {
                    throw StrataError.invalid("no_reranker", "strata.yaml has no reranker section (features, spine, label, ...); see examples/strata.yaml")
                }
                report(try await trainer.trainReranker(settings, snapshot: snapshot, principal: principal))
            } else if let resume {
                report(try await trainer.resume(runID: resume, principal: principal))
            } else if let reproduce {
                let (outcome, original, identical) = try await trainer.reproduce(reproduce, principal: principal)
                report(outcome)
                print(
                    identical
                        ? "reproduced \(reproduce): artifact \(outcome.run.artifactHash ?? "") is identical to run \(original.id)'s"
                        : "NOT reproduced \(reproduce): artifact \(outcome.run.artifactHash ?? "") differs from \(original.artifactHash ?? "")")
                reproduced = identical
            } else {
                let specs = config.training.models.filter { model == nil || $0.name == model }
                guard !specs.isEmpty else {
                    throw StrataError.notFound(
                        "unknown_model", "no model '\(model ?? "")' in strata.yaml (models: \(config.training.models.map(\.name).joined(separator: ", ")))")
                }
                for spec in specs {
                    report(try await trainer.train(TrainingRequest(spec: spec, snapshot: snapshot, experiment: experiment, principal: principal)))
                }
            }
        }
        if !reproduced { throw ExitCode(3) }
    }

    func report(_ outcome: TrainingOutcome) {
        if json {
            print(JSONValue.object(["run": outcome.run.json, "version": outcome.version?.json ?? .null]).serialized)
            return
        }
        let run = outcome.run
        print(
            "run \(run.id): \(run.model) (\(run.algorithm.rawValue)) on data \(run.dataVersion.prefix(12)), contract \(run.contractVersion.prefix(12)), code \(run.codeVersion)"
        )
        let shown =
            run.algorithm == .gbdtRanker
            ? ["ndcg@10", "shown_order_ndcg@10", "holdout_slates"] : ["ndcg@10", "precision@10", "recall@10", "hit_rate@10", "coverage"]
        print(
            "  holdout: "
                + shown.map { "\($0) \(String(format: "%.4f", run.metrics[$0] ?? 0))" }.joined(
                    separator: "  "))
        let stages = ["read", "fit", "index", "evaluate", "baseline", "artifact", "gate"].filter { run.metrics["seconds_\($0)"] != nil }
        if let total = run.metrics["seconds_total"], let fit = run.metrics["seconds_fit"], fit > 0 {
            print(
                "  stages: " + stages.map { String(format: "%@ %.1f s", $0, run.metrics["seconds_\($0)"]!) }.joined(separator: " · ")
                    + String(format: " (total %.1f s, %.2f× the fit)", total, total / fit))
        }
        if let recall = run.metrics["ann_recall@10"] {
            print(String(format: "  retrieval index: recall@10 %.4f against exact search on %.0f users", recall, run.metrics["ann_recall_users"] ?? 0))
        }
        print("  artifact sha256:\(run.artifactHash ?? "")")
        guard let version = outcome.version else { return }
        print("  gate: \(version.gate?.message ?? "")")
        print(version.stage == .rejected ? "\(version.reference) (rejected by the gate)" : "\(version.reference)")
    }
}
