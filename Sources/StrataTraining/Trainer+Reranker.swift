import Foundation
import StrataCore
import StrataFeatures
import StrataLake
import StrataML
import StrataRegistry

/// Training the learning-to-rank stage: a point-in-time training set of the snapshot (each
/// spine event, e.g. an impression, with its features as of that moment and whether the label
/// event, e.g. a click, followed within the window), grouped into slates by recommendation id,
/// split by time, gradient-boosted trees fitted on the earlier slates and judged by NDCG@10 on
/// the later ones against the order they were shown in and against production's ranker.
extension Trainer {
    public func trainReranker(
        _ reranker: RerankerConfig, snapshot: String = "latest", principal: Principal, reproducing original: String? = nil
    ) async throws -> TrainingOutcome {
        let manifest = try snapshots.manifest(snapshot)
        let run = try await startRun(
            model: reranker.name, experiment: reranker.name, algorithm: .gbdtRanker, manifest: manifest, parameters: reranker.spec.parameters,
            seed: Int64(reranker.spec["seed"]), principal: principal, reproducing: original, inputs: RunInputs(reranker: reranker),
            detail: "\(reranker.name) (gbdt_ranker over \(reranker.features.joined(separator: ", ")))")
        return try await failingRun(run, principal: principal) {
            let rows = try TrainingSetBuilder.rows(
                TrainingSetSpec(spine: reranker.spine, label: reranker.label, labelWindowMillis: reranker.labelWindowMillis, features: reranker.features),
                manifest: manifest, lakeRoot: lakeRoot, definitions: config.contract.features, contract: config.contract)
            let slates = RankingSlates(rows)
            guard !slates.train.isEmpty, !slates.holdout.isEmpty, rows.positives > 0 else {
                throw StrataError.invalid(
                    "not_enough_slates",
                    "the snapshot has \(rows.users.count) \(reranker.spine) events in \(slates.train.count + slates.holdout.count) slates with \(rows.positives) \(reranker.label)s: the re-ranker needs labelled slates before and after its time split"
                )
            }
            let parameters = RankerParameters(reranker.spec)
            let names = rows.features.map(\.name)
            let training = slates.matrix(slates.train)
            let ranker = try await OwnThread.run {
                try GradientBoostedRanker.fit(rows: training.rows, features: names, labels: training.labels, groups: training.groups, parameters: parameters)
            }
            var metrics = try slates.evaluate(ranker)
            metrics["train_rows"] = Double(training.labels.count)
            metrics["positives"] = Double(rows.positives)
            var artifact = ModelArtifact(
                algorithm: .gbdtRanker, parameters: reranker.spec.parameters, metadata: ["features": names.count, "candidates": reranker.candidates])
            artifact.idLists = ["features": names, "entities": rows.features.map(\.entity.rawValue)]
            artifact.blobs = ["booster": try ranker.modelBytes()]
            let hash = try await blobs.put(artifact.encoded())
            var gate = GateResult(
                metric: "ndcg@10", margin: config.registry.gateMargin, candidate: metrics["ndcg@10"] ?? 0, production: nil, productionVersion: nil)
            if let production = try? await registry.resolve("\(reranker.name)@production") {
                let current = try ModelTrainer.loadRanker(try await blobs.get(production.artifactHash))
                gate.production = try slates.evaluate(current)["ndcg@10"]
                gate.productionVersion = production.version
            }
            try await finishRun(run, artifact: hash, metrics: metrics, principal: principal)
            var version: ModelVersion?
            if original == nil { version = try await registry.register(model: reranker.name, runID: run.id, artifactHash: hash, gate: gate, by: principal) }
            return TrainingOutcome(run: try await runs.get(run.id), version: version)
        }
    }
}

/// The training set's rows grouped into slates (one recommendation id, or a user's hour when
/// the spine events carry none), in time order, split by time: the last fifth of slates is the
/// holdout.
struct RankingSlates {
    let rows: TrainingRows
    let train: [[Int]]
    let holdout: [[Int]]

    init(_ rows: TrainingRows) {
        self.rows = rows
        var slates: [String: [Int]] = [:]
        var order: [String] = []
        for index in rows.users.indices {
            let key = rows.recommendationIDs[index] ?? "\(rows.users[index])|\(rows.timestamps[index] / 3_600_000)"
            if slates[key] == nil { order.append(key) }
            slates[key, default: []].append(index)
        }
        let sorted = order.map { slates[$0]! }.sorted { (rows.timestamps[$0[0]], $0[0]) < (rows.timestamps[$1[0]], $1[0]) }
        let cut = sorted.count - sorted.count / 5
        train = Array(sorted[..<cut])
        holdout = Array(sorted[cut...])
    }

    /// Feature values as floats (bools 0/1, missing NaN), row-major, with labels and group sizes.
    func matrix(_ slates: [[Int]]) -> (rows: [Float], labels: [Float], groups: [UInt32]) {
        var values: [Float] = []
        var labels: [Float] = []
        for slate in slates {
            for index in slate {
                for column in rows.values { values.append(column[index]?.featureNumber.map(Float.init) ?? .nan) }
                labels.append(Float(rows.labels[index]))
            }
        }
        return (values, labels, slates.map { UInt32($0.count) })
    }

    /// NDCG@10 on holdout slates with a click: the ranker's order, and the order shown.
    func evaluate(_ ranker: GradientBoostedRanker) throws -> [String: Double] {
        var ndcg = 0.0
        var baseline = 0.0
        var judged = 0
        for slate in holdout where slate.count > 1 && slate.contains(where: { rows.labels[$0] > 0 }) {
            let data = matrix([slate])
            let scores = try ranker.predict(rows: data.rows, count: slate.count)
            let order = slate.indices.sorted { (scores[$0], -$0) > (scores[$1], -$1) }
            ndcg += GroupNDCG.ndcg(rankedLabels: order.map { data.labels[$0] })
            baseline += GroupNDCG.ndcg(rankedLabels: data.labels)
            judged += 1
        }
        let n = Double(max(judged, 1))
        return ["ndcg@10": ndcg / n, "shown_order_ndcg@10": baseline / n, "holdout_slates": Double(judged), "train_slates": Double(train.count)]
    }
}
