import ArgumentParser
import Foundation
import StrataCore
import StrataLake
import StrataML
import StrataTraining

/// `strata evaluate`: train and evaluate models on a dataset, print the table (or JSON).
struct Evaluate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train models on a dataset and report precision, recall, NDCG, MAP, hit rate at k and coverage.",
        discussion: """
            Datasets: --split DIR (the anchor's train.tsv / test.tsv), --movielens FILE (ratings.csv or u.data, split per user by time), \
            or --snapshot VERSION (a lake snapshot; default: the latest). Models: those of strata.yaml, or --model NAME (a model of \
            strata.yaml or an algorithm: popularity, item_knn, als, bpr, ease) with --param KEY=VALUE (every model taking KEY) or \
            --param NAME.KEY=VALUE (one model). Example:
              strata evaluate --split ../shared/datasets/ml-latest-small/split_temporal --model als --param alpha=0 --model bpr --model item_knn
            ALS confidence is 1 + alpha·r; implicit's alpha=A is Strata's alpha=A−1 on binary data.
            """)

    @OptionGroup var data: DataOptions

    @Option(help: "Folder with train.tsv and test.tsv.") var split: String?
    @Option(help: "MovieLens ratings file.") var movielens: String?
    @Option(help: "Lake snapshot version (or a unique prefix, or 'latest').") var snapshot: String?
    @Option(name: .customLong("model"), help: "Model name from strata.yaml, or an algorithm. Repeatable.") var models: [String] = []
    @Option(name: .customLong("param"), help: "KEY=VALUE for every --model that takes KEY, or MODEL.KEY=VALUE for one. Repeatable.") var params: [String] = []
    @Option(help: "Threads (default: all cores).") var threads: Int?
    @Option(help: "Cut-off of the metrics.") var k = 10
    @Option(help: "Fit each model this many times; the median fit time is reported (metrics must agree).") var repeats = 1
    @Flag(help: "Print a JSON array, one object per model.") var json = false
    @Flag(
        help:
            "Also evaluate factor models (ALS, BPR) through the retrieval index serving uses (HNSW with serving.ann's settings, whatever the catalogue's size): the metrics through it and its recall@k against exact search."
    )
    var ann = false

    func run() async throws {
        try await runReportingErrors {
            let config = try data.loadConfig()
            let split = try loadSplit(config)
            let specs = try modelSpecs(config)
            let threadCount = threads ?? Parallel.coreCount
            if !json {
                output(
                    "dataset: \(split.train.users.count) users, \(split.train.items.count) items, \(split.train.matrix.nonZeros) train / \(split.testInteractions) test interactions, \(split.evaluatedUsers.count) users evaluated; \(threadCount) thread(s)"
                )
                output(
                    "model".padding(toLength: 24, withPad: " ", startingAt: 0) + "  P@\(k)    R@\(k)    NDCG@\(k) MAP@\(k)  HR@\(k)   cov     fit s")
            }
            var rows: [JSONValue] = []
            for spec in specs {
                var times: [Double] = []
                var metrics: RankingMetrics?
                var fitted: (any Recommender)?
                for _ in 0..<max(1, repeats) {
                    let start = MonotonicClock.nanoseconds()
                    let model = try ModelTrainer.fit(spec, data: split.train, threads: threadCount)
                    times.append(Double(MonotonicClock.nanoseconds() - start) / 1e9)
                    let measured = Evaluator.evaluate(model, split: split, k: k, threads: threadCount)
                    if let metrics, metrics != measured { throw StrataError.internal("\(spec.name): repeated fits gave different metrics") }
                    metrics = measured
                    fitted = model
                }
                let fit = times.sorted()[times.count / 2]
                let m = metrics!
                var object = m.json.objectValue!
                object["model"] = .string(spec.name)
                object["algorithm"] = .string(spec.algorithm.rawValue)
                object["hyperparameters"] = .object(spec.parameters.mapValues { .double($0) })
                object["fit_seconds"] = .double(fit)
                object["fit_seconds_all"] = .array(times.map { .double($0) })
                object["threads"] = .int(threadCount)
                rows.append(.object(object))
                if !json {
                    output(
                        spec.name.padding(toLength: 24, withPad: " ", startingAt: 0)
                            + String(format: "  %.4f  %.4f  %.4f  %.4f  %.4f  %.4f  %.3f", m.precision, m.recall, m.ndcg, m.map, m.hitRate, m.coverage, fit))
                }
                if ann, let fitted, let through = try await throughIndex(fitted, spec: spec, config: config, split: split, threads: threadCount) {
                    let (a, recall, seconds) = through
                    rows.append([
                        "model": .string("\(spec.name) (HNSW)"), "ndcg": .double(a.ndcg), "precision": .double(a.precision), "recall": .double(a.recall),
                        "map": .double(a.map), "hit_rate": .double(a.hitRate), "coverage": .double(a.coverage), "index_recall": .double(recall),
                        "index_build_seconds": .double(seconds), "ndcg_relative_difference": .double(m.ndcg > 0 ? (a.ndcg - m.ndcg) / m.ndcg : 0),
                    ])
                    if !json {
                        output(
                            "\(spec.name) (HNSW)".padding(toLength: 24, withPad: " ", startingAt: 0)
                                + String(
                                    format: "  %.4f  %.4f  %.4f  %.4f  %.4f  %.4f  index %.1f s, recall@%d %.4f, NDCG %+.2f%% of exact", a.precision, a.recall,
                                    a.ndcg, a.map, a.hitRate, a.coverage, seconds, k, recall, m.ndcg > 0 ? 100 * (a.ndcg - m.ndcg) / m.ndcg : 0))
                    }
                }
            }
            if json { output(JSONValue.array(rows).serialized) }
        }
    }

    /// The metrics of `model` searched through its retrieval index, the index's recall against
    /// exact search, and its build time (nil for models without item vectors).
    private func throughIndex(_ model: any Recommender, spec: ModelSpec, config: StrataConfig, split: EvaluationSplit, threads: Int) async throws -> (
        RankingMetrics, recall: Double, seconds: Double
    )? {
        guard model is any FactorRecommender else { return nil }
        var settings = config.serving.ann
        settings.exactBelow = 0
        let start = MonotonicClock.nanoseconds()
        let (indexed, _) = try await Trainer.attachRetrieval(model, settings: settings, seed: Int(spec.parameters["seed"] ?? 42), seen: split.train.matrix)
        let seconds = Double(MonotonicClock.nanoseconds() - start) / 1e9
        guard let factor = indexed as? any FactorRecommender else { return nil }
        // Recall@k of the index on a sample of up to 2,000 trained users' vectors, their own items left out.
        let recall = RetrievalIndex.recall(of: factor, seen: split.train.matrix, k: k, sample: 2000, threads: threads)
        return (Evaluator.evaluate(indexed, split: split, k: k, threads: threads), recall.recall, seconds)
    }

    private func loadSplit(_ config: StrataConfig) throws -> EvaluationSplit {
        if let split { return try EvaluationData.splitFolder(split) }
        if let movielens { return try EvaluationData.movieLens(movielens) }
        let directory = DataDirectory(root: data.dataDirectory(config), project: config.project)
        let manifest = try SnapshotStore(directory: directory).manifest(snapshot ?? "latest")
        return try TrainingData.split(manifest, lakeRoot: directory.lake, policy: config.training.interactions)
    }

    private func modelSpecs(_ config: StrataConfig) throws -> [ModelSpec] {
        // "KEY=VALUE" applies to every model taking KEY; "MODEL.KEY=VALUE" to that model only.
        var parameters: [String: Double] = [:]
        var scoped: [String: [String: Double]] = [:]
        for entry in params {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let value = Double(parts[1]) else {
                throw StrataError.invalid("invalid_parameter", "--param takes KEY=NUMBER, got '\(entry)'")
            }
            if let dot = parts[0].lastIndex(of: ".") {
                scoped[String(parts[0][..<dot]), default: [:]][String(parts[0][parts[0].index(after: dot)...])] = value
            } else {
                parameters[parts[0]] = value
            }
        }
        for name in scoped.keys where !models.contains(name) {
            throw StrataError.invalid("unknown_model", "--param \(name).… names no --model \(name)")
        }
        guard !models.isEmpty else {
            guard parameters.isEmpty, scoped.isEmpty else { throw StrataError.invalid("invalid_option", "--param applies to --model entries; name the model") }
            let baseline = try ModelSpec(name: "popularity", algorithm: .popularity)
            return (config.training.models.contains { $0.algorithm == .popularity } ? [] : [baseline]) + config.training.models
        }
        return try models.map { name in
            let own = scoped[name] ?? [:]
            if let configured = config.training.models.first(where: { $0.name == name }) {
                let shared = parameters.filter { configured.algorithm.defaultParameters[$0.key] != nil }
                return try ModelSpec(
                    name: name, algorithm: configured.algorithm,
                    parameters: configured.parameters.merging(shared) { _, flag in flag }.merging(own) { _, flag in flag })
            }
            guard let algorithm = Algorithm(rawValue: name) else {
                throw StrataError.invalid(
                    "unknown_model",
                    "'\(name)' is neither a model of strata.yaml (\(config.training.models.map(\.name).joined(separator: ", "))) nor an algorithm (\(Algorithm.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
            }
            // Parameters the algorithm does not take are left to the other models given.
            return try ModelSpec(
                name: name, algorithm: algorithm,
                parameters: parameters.filter { algorithm.defaultParameters[$0.key] != nil }.merging(own) { _, scoped in scoped })
        }
    }
}
