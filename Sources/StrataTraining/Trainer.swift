import Foundation
import StrataCore
import StrataLake
import StrataML
import StrataRegistry
import Synchronization

/// What to train.
public struct TrainingRequest: Sendable {
    public var spec: ModelSpec
    /// Snapshot version, prefix or `latest`.
    public var snapshot: String
    public var experiment: String?
    public var principal: Principal
    /// What interactions are worth (nil: `interactions` of strata.yaml; a reproduction passes
    /// the recorded policy).
    public var interactions: InteractionPolicy?

    public init(spec: ModelSpec, snapshot: String = "latest", experiment: String? = nil, principal: Principal, interactions: InteractionPolicy? = nil) {
        self.spec = spec
        self.snapshot = snapshot
        self.experiment = experiment
        self.principal = principal
        self.interactions = interactions
    }
}

public struct TrainingOutcome: Sendable {
    public var run: RunRecord
    /// The registered version (nil for a reproduction, which only checks).
    public var version: ModelVersion?
}

/// Runs training: records the run (data, contract and code versions, parameters, seed, host,
/// who), fits on the snapshot's temporal training split with checkpoints, evaluates on its
/// holdout, stores the artifact content-addressed, passes it through the evaluation gate
/// against production on the same holdout, and registers the version.
public final class Trainer: Sendable {
    public let runs: RunStore
    let blobs: any BlobStore
    let registry: ModelRegistry
    let audit: AuditLog
    let snapshots: SnapshotStore
    let lakeRoot: String
    /// Per-run folders (the checkpoint pointer).
    let runsRoot: String
    let config: StrataConfig
    public let codeVersion: String
    let clock: any WallClock
    let threads: Int
    /// Where finished runs are mirrored (MLflow), if anywhere.
    let mirror: MLflowMirror?
    /// Told as each stage of a run ends (the command line prints progress with it).
    let observer: TrainingObserver?

    public init(
        runs: RunStore, blobs: any BlobStore, registry: ModelRegistry, audit: AuditLog, directory: DataDirectory, config: StrataConfig, codeVersion: String,
        threads: Int = Parallel.coreCount, mirror: MLflowMirror? = nil, clock: any WallClock = SystemClock(), observer: TrainingObserver? = nil
    ) {
        self.observer = observer
        self.runs = runs
        self.blobs = blobs
        self.registry = registry
        self.audit = audit
        self.snapshots = SnapshotStore(directory: directory)
        self.lakeRoot = directory.lake
        self.runsRoot = "\(directory.projectRoot)/runs"
        self.config = config
        self.codeVersion = codeVersion
        self.threads = threads
        self.mirror = mirror
        self.clock = clock
    }

    /// A new run.
    public func train(_ request: TrainingRequest, reproducing original: String? = nil, register: Bool = true) async throws -> TrainingOutcome {
        try await train(request, reproducing: original, register: register, prepared: nil)
    }

    /// A new run; `prepared` is the snapshot's split when the caller already has it (a search's
    /// trials all train on the same one).
    func train(_ request: TrainingRequest, reproducing original: String?, register: Bool, prepared: (SnapshotManifest, EvaluationSplit)?) async throws
        -> TrainingOutcome
    {
        let manifest = try prepared?.0 ?? snapshots.manifest(request.snapshot)
        let run = try await startRun(
            model: request.spec.name, experiment: request.experiment ?? request.spec.name, algorithm: request.spec.algorithm, manifest: manifest,
            parameters: request.spec.parameters, seed: Int64(request.spec.parameters["seed"] ?? 0), principal: request.principal,
            reproducing: original, inputs: RunInputs(interactions: request.interactions ?? config.training.interactions),
            detail: "\(request.spec.name) (\(request.spec.algorithm.rawValue))")
        return try await execute(
            run, manifest: manifest, spec: request.spec, resumeFrom: nil, principal: request.principal, register: register, split: prepared?.1)
    }

    /// Continues a run that stopped (killed, failed) from its last checkpoint.
    public func resume(runID: String, principal: Principal) async throws -> TrainingOutcome {
        var run = try await runs.get(runID)
        guard run.status != .finished else { throw StrataError(.conflict, code: "run_finished", "run \(run.id) already finished") }
        let spec = try ModelSpec(name: run.model, algorithm: run.algorithm, parameters: run.parameters)
        let manifest = try snapshots.manifest(run.dataVersion)
        let pointer = CheckpointPointer.read(runsRoot, run.id)
        var checkpoint: FitCheckpoint?
        if let pointer {
            checkpoint = try FitCheckpoint(decoding: try await blobs.get(pointer.blob))
            run.checkpointHash = pointer.blob
            run.checkpointIteration = Int64(pointer.iteration)
            try await runs.noteCheckpoint(run.id, hash: pointer.blob, iteration: pointer.iteration)
        }
        try await audit.append(
            principal: principal.label, action: "training.resume", target: "run:\(run.id)", detail: "from iteration \(pointer?.iteration ?? 0)")
        return try await execute(run, manifest: manifest, spec: spec, resumeFrom: checkpoint.map { ($0, pointer!.metrics) }, principal: principal)
    }

    /// Re-runs a version's run from its recorded inputs; `identical` says whether the artifact
    /// hash came out the same.
    public func reproduce(_ reference: String, principal: Principal) async throws -> (outcome: TrainingOutcome, original: RunRecord, identical: Bool) {
        let version = try await registry.resolve(reference)
        let original = try await runs.get(version.runID)
        let outcome: TrainingOutcome
        if original.algorithm == .gbdtRanker {
            // The recorded training set, not today's file (runs from before inputs were recorded
            // fall back to it).
            guard var reranker = original.inputs.reranker ?? config.reranker else {
                throw StrataError.invalid("no_reranker", "\(reference) is a re-ranker; strata.yaml needs its reranker section to reproduce it")
            }
            reranker.spec = try ModelSpec(name: original.model, algorithm: .gbdtRanker, parameters: original.parameters)
            outcome = try await trainReranker(reranker, snapshot: original.dataVersion, principal: principal, reproducing: original.id)
        } else {
            outcome = try await reproduceRecommender(original, principal: principal)
        }
        let identical = outcome.run.artifactHash == version.artifactHash
        try await audit.append(
            principal: principal.label, action: "training.reproduce", target: version.reference, outcome: identical ? "ok" : "failed",
            detail: "run \(outcome.run.id): artifact \(identical ? "identical" : "differs")")
        return (outcome, original, identical)
    }

    private func reproduceRecommender(_ original: RunRecord, principal: Principal) async throws -> TrainingOutcome {
        let spec = try ModelSpec(name: original.model, algorithm: original.algorithm, parameters: original.parameters)
        return try await train(
            TrainingRequest(
                spec: spec, snapshot: original.dataVersion, experiment: original.experiment, principal: principal, interactions: original.inputs.interactions),
            reproducing: original.id)
    }

    private func execute(
        _ started: RunRecord, manifest: SnapshotManifest, spec: ModelSpec, resumeFrom: (FitCheckpoint, [IterationMetric])?, principal: Principal,
        register: Bool = true, split prepared: EvaluationSplit? = nil
    ) async throws -> TrainingOutcome {
        var run = started
        var timings = StageTimings(runID: run.id, observer: observer)
        return try await failingRun(run, principal: principal) {
            let policy = run.inputs.interactions ?? config.training.interactions
            let split = try await timings.measure("read") { () async throws -> EvaluationSplit in
                if let prepared { return prepared.sampled(users: Self.evaluatedUsers) }
                let lakeRoot = self.lakeRoot
                return try await OwnThread.run { try TrainingData.split(manifest, lakeRoot: lakeRoot, policy: policy).sampled(users: Self.evaluatedUsers) }
            }
            let runsRoot = self.runsRoot
            let blobs = self.blobs
            let every = config.registry.checkpointEvery
            let threads = self.threads
            let runID = run.id
            let clock = self.clock
            // The fit is long, synchronous work: a thread of its own keeps the async pool free.
            let (fitted, iterationMetrics) = try await timings.measure("fit") {
                try await OwnThread.run { () throws -> (any Recommender, [IterationMetric]) in
                    var metrics = resumeFrom?.1 ?? []
                    let model = try ModelTrainer.fit(
                        spec, data: split.train, threads: threads,
                        progress: { progress in
                            metrics.append(IterationMetric(step: progress.iteration, name: "iteration_seconds", value: progress.seconds, at: clock.nowMillis()))
                        },
                        control: FitControl(resume: resumeFrom?.0, every: every) { checkpoint in
                            let bytes = checkpoint.encoded()
                            let blob = try Self.blocking { try await blobs.put(bytes) }
                            try CheckpointPointer(iteration: checkpoint.iteration, blob: blob, metrics: metrics).write(runsRoot, runID)
                        })
                    return (model, metrics)
                }
            }
            // Above `serving.ann.exact_below` items, a factor model gets its retrieval index,
            // in its artifact, with its recall against exact search measured on a sample.
            let settings = config.serving.ann
            let (model, recall) = try await timings.measure("index") {
                try await Self.attachRetrieval(fitted, settings: settings, seed: Int(spec.parameters["seed"] ?? 42), seen: split.train.matrix)
            }
            let holdout = try await timings.measure("evaluate") { try await OwnThread.run { Evaluator.evaluate(model, split: split, threads: threads) } }
            // What the model saw, for drift monitoring once it serves.
            let (contract, window, lakeRoot) = (config.contract, config.monitoring.windowMillis, self.lakeRoot)
            let baseline = try await timings.measure("baseline") {
                try await OwnThread.run {
                    try ModelBaseline.compute(
                        model: model, train: split.train, heldOut: split.test, manifest: manifest, lakeRoot: lakeRoot, contract: contract, window: window)
                }
            }
            try await runs.baselines.put(runID: run.id, baseline)
            let artifact = try await timings.measure("artifact") { try await blobs.put(model.artifact().encoded()) }
            var metrics = Self.metrics(holdout)
            metrics["train_interactions"] = Double(split.train.matrix.nonZeros)
            metrics["test_interactions"] = Double(split.testInteractions)
            metrics["users"] = Double(split.train.users.count)
            metrics["items"] = Double(split.train.items.count)
            if let recall {
                metrics["ann_recall@10"] = recall.recall
                metrics["ann_recall_users"] = Double(recall.users)
            }
            var gate = try await timings.measure("gate") { try await evaluateGate(model: spec.name, candidate: metrics, split: split) }
            metrics.merge(timings.metrics) { a, _ in a }
            if let recall {
                gate.annRecall = recall.recall
                gate.minRecall = config.serving.ann.minRecall
            }
            run.status = .finished
            run.artifactHash = artifact
            run.metrics = metrics
            run.finishedAt = try await finishRun(
                run, artifact: artifact, metrics: metrics, iterationMetrics: iterationMetrics.map { ($0.step, $0.name, $0.value, $0.at) },
                principal: principal)
            if let mirror {
                do {
                    let mlflowRun = try await mirror.mirror(run, iterationMetrics: iterationMetrics.map { ($0.step, $0.name, $0.value, $0.at) })
                    audit.record(principal: principal.label, action: "training.mirror", target: "run:\(run.id)", detail: "MLflow run \(mlflowRun)")
                } catch {
                    audit.record(principal: principal.label, action: "training.mirror", target: "run:\(run.id)", outcome: "failed", detail: "\(error)")
                }
            }
            // A reproduction only checks the recorded inputs, and a search trial waits for the
            // search to pick the best: neither adds a version.
            var version: ModelVersion?
            if register && run.reproduces == nil {
                version = try await registry.register(model: spec.name, runID: run.id, artifactHash: artifact, gate: gate, by: principal)
            }
            return TrainingOutcome(run: try await runs.get(run.id), version: version)
        }
    }

    /// The most users the holdout evaluates (and the gate compares on), evenly spread; the
    /// number evaluated is in every run's metrics (`evaluated_users`).
    public static let evaluatedUsers = 20_000

    /// A factor model with `settings.exactBelow` items or more, with its retrieval index built
    /// (on a thread of its own) and its recall@10 against exact search, each user's `seen` items
    /// left out as serving leaves them out; other models as they are.
    public static func attachRetrieval(_ model: any Recommender, settings: ANNSettings, seed: Int, seen: CSRMatrix?) async throws -> (
        any Recommender, (recall: Double, users: Int)?
    ) {
        guard var factor = model as? any FactorRecommender, factor.items.count >= settings.exactBelow else { return (model, nil) }
        let parameters = ANNParameters(m: settings.m, efConstruction: settings.efConstruction, efSearch: settings.efSearch, seed: seed)
        let vectors = factor.itemVectors
        let columns = factor.similarityColumns
        factor.retrieval = try await OwnThread.run { try RetrievalIndex.build(vectors, similarityColumns: columns, parameters: parameters) }
        let indexed = factor
        let recall = try await OwnThread.run { RetrievalIndex.recall(of: indexed, seen: seen) }
        return (indexed, recall)
    }

    func split(of manifest: SnapshotManifest, policy: InteractionPolicy) throws -> EvaluationSplit {
        try TrainingData.split(manifest, lakeRoot: lakeRoot, policy: policy)
    }

    /// The candidate's holdout metric (from its run's metrics) against production's, measured on
    /// the same holdout.
    func evaluateGate(model: String, candidate: [String: Double], split: EvaluationSplit) async throws -> GateResult {
        let metric = config.registry.gateMetric
        // Run metrics are keyed `name@10`; the setting may leave out the `@10`.
        let key = metric.contains("@") ? metric : "\(metric)@10"
        var gate = GateResult(metric: metric, margin: config.registry.gateMargin, candidate: candidate[key] ?? 0, production: nil, productionVersion: nil)
        if let production = try? await registry.resolve("\(model)@production") {
            let productionModel = try ModelTrainer.load(try ModelArtifact(decoding: try await blobs.get(production.artifactHash)))
            let measured = Evaluator.evaluateByID(productionModel, split: split)
            gate.production = measured.value(named: metric) ?? measured.ndcg
            gate.productionVersion = production.version
        }
        return gate
    }

    static func metrics(_ m: RankingMetrics) -> [String: Double] {
        [
            "precision@\(m.k)": m.precision, "recall@\(m.k)": m.recall, "ndcg@\(m.k)": m.ndcg, "map@\(m.k)": m.map, "hit_rate@\(m.k)": m.hitRate,
            "coverage": m.coverage, "evaluated_users": Double(m.evaluatedUsers),
        ]
    }

    static func newRunID(_ now: Int64) -> String {
        var generator = SystemRandomNumberGenerator()
        return String(format: "r%011llx%06x", now, UInt32(truncatingIfNeeded: generator.next()) & 0xFFFFFF)
    }
}

extension Trainer {
    /// Waits for async work from a thread of its own (the fit's checkpoint callback, which is
    /// synchronous): blocking there holds up no task of the cooperative pool.
    static func blocking<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
        let result = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let outcome: Result<T, any Error>
            do { outcome = .success(try await work()) } catch { outcome = .failure(error) }
            result.withLock { $0 = outcome }
            done.signal()
        }
        done.wait()
        return try result.withLock { $0! }.get()
    }
}

struct IterationMetric: Sendable {
    var step: Int
    var name: String
    var value: Double
    var at: Int64
}

/// The newest checkpoint of a run, kept next to it so a resumed run finds it without the
/// database (a checkpoint is written from inside the fit, which does not wait on I/O).
struct CheckpointPointer {
    var iteration: Int
    var blob: String
    var metrics: [IterationMetric]

    func write(_ root: String, _ run: String) throws {
        let json: JSONValue = [
            "iteration": .int(Int64(iteration)), "blob": .string(blob),
            "metrics": .array(metrics.map { ["step": .int(Int64($0.step)), "name": .string($0.name), "value": .double($0.value), "at": .int($0.at)] }),
        ]
        try AtomicFile.write(json.serializedBytes, to: "\(root)/\(run)/checkpoint.json")
    }

    static func read(_ root: String, _ run: String) -> CheckpointPointer? {
        guard let bytes = AtomicFile.read("\(root)/\(run)/checkpoint.json"), let json = try? JSONValue.parse(String(decoding: bytes, as: UTF8.self)),
            let iteration = json["iteration"]?.intValue, let blob = json["blob"]?.stringValue
        else { return nil }
        let metrics = (json["metrics"]?.arrayValue ?? []).compactMap { entry -> IterationMetric? in
            guard let step = entry["step"]?.intValue, let name = entry["name"]?.stringValue, let value = entry["value"]?.doubleValue else { return nil }
            return IterationMetric(step: Int(step), name: name, value: value, at: entry["at"]?.intValue ?? 0)
        }
        return CheckpointPointer(iteration: Int(iteration), blob: blob, metrics: metrics)
    }
}
