import Foundation
import StrataCore
import StrataLake
import StrataML
import StrataRegistry

/// The result of a search: every trial's runs, and the best one registered as a version.
public struct SearchOutcome: Sendable {
    public struct Trial: Sendable {
        public var parameters: [String: Double]
        /// Its runs, one per rung it reached (iterations growing).
        public var runs: [RunRecord]
    }

    public var experiment: String
    public var metric: String
    public var trials: [Trial]
    public var best: RunRecord
    public var version: ModelVersion

    public var json: JSONValue {
        [
            "experiment": .string(experiment), "metric": .string(metric), "best_run": .string(best.id), "version": version.json,
            "trials": .array(
                trials.map { trial in
                    [
                        "parameters": .object(trial.parameters.mapValues(JSONValue.double)),
                        "rungs": .array(
                            trial.runs.map { run in
                                [
                                    "run": .string(run.id), "iterations": run.parameters["iterations"].map(JSONValue.double) ?? .null,
                                    "metric": run.metrics[metric].map(JSONValue.double) ?? .null,
                                ]
                            }),
                    ]
                }),
        ]
    }
}

extension Trainer {
    /// Runs the search of `search` over `base`: every trial a run in one experiment, with
    /// successive halving on iterations when configured; the best final run (by the search's
    /// metric) goes through the gate and is registered.
    public func search(_ search: SearchSpec, base: ModelSpec, snapshot: String = "latest", principal: Principal) async throws -> SearchOutcome {
        let manifest = try snapshots.manifest(snapshot)
        let split = try split(of: manifest, policy: config.training.interactions)  // read once, for every trial and the gate
        let experiment = "search-\(base.name)-\(EventTime.format(millis: clock.nowMillis()))"
        let candidates = search.candidates()
        var trials = candidates.map { SearchOutcome.Trial(parameters: $0, runs: []) }
        let fullIterations = Int(base.parameters["iterations"] ?? 0)
        var alive = Array(trials.indices)
        var iterations = search.halving.map { min($0.minIterations, fullIterations) } ?? fullIterations
        try await audit.append(
            principal: principal.label, action: "training.search", target: "experiment:\(experiment)",
            detail:
                "\(candidates.count) trials, \(search.method.rawValue)\(search.halving.map { ", halving from \($0.minIterations) iterations ×\($0.factor)" } ?? "")"
        )
        func score(_ run: RunRecord) -> Double { run.metrics[search.metric] ?? -.infinity }
        while true {
            for index in alive {
                var parameters = base.parameters.merging(trials[index].parameters) { $1 }
                if base.parameters["iterations"] != nil { parameters["iterations"] = Double(iterations) }
                let spec = try ModelSpec(name: base.name, algorithm: base.algorithm, parameters: parameters)
                let outcome = try await train(
                    TrainingRequest(spec: spec, snapshot: manifest.version, experiment: experiment, principal: principal), reproducing: nil, register: false,
                    prepared: (manifest, split))
                trials[index].runs.append(outcome.run)
            }
            guard let halving = search.halving, alive.count > 1, iterations < fullIterations else { break }
            // Keep the best 1/factor (ties to the earlier trial), with factor times the iterations.
            let ranked = alive.sorted { (score(trials[$0].runs.last!), -$0) > (score(trials[$1].runs.last!), -$1) }
            alive = Array(ranked.prefix(max(1, (alive.count + halving.factor - 1) / halving.factor)))
            iterations = min(fullIterations, iterations * halving.factor)
        }
        let bestIndex = alive.max { (score(trials[$0].runs.last!), -$0) < (score(trials[$1].runs.last!), -$1) }!
        let best = trials[bestIndex].runs.last!
        let gate = try await evaluateGate(model: best.model, candidate: best.metrics, split: split)
        let version = try await registry.register(model: best.model, runID: best.id, artifactHash: best.artifactHash ?? "", gate: gate, by: principal)
        return SearchOutcome(experiment: experiment, metric: search.metric, trials: trials, best: best, version: version)
    }
}
