import Foundation
import StrataCore
import StrataLake
import StrataML
import StrataMetadata
import StrataRegistry
import StrataTesting
import Testing

@testable import StrataTraining

/// Runs record everything needed to produce their artifact again, bit for bit.
@Suite(.serialized) struct ReproducibilityTests {
    /// A lake with a snapshot of generated shop history, and a trainer over SQLite.
    static func setUp(_ directory: TemporaryDirectory, config: StrataConfig = Fixtures.config) async throws -> (Trainer, ModelRegistry, MetadataStore) {
        let lake = try Fixtures.lake(directory, config: config)
        _ = try await lake.ingestor.ingest(events: Fixtures.events(6000, seed: 21), source: "test", allowLate: true)
        _ = try await lake.maintain(force: true)
        _ = try await lake.compactor.snapshot()
        await lake.close()
        let store = try await MetadataStore.open(url: "sqlite:", defaultSQLitePath: directory.file("metadata.sqlite"), logger: quietLogger)
        let audit = AuditLog(store: store)
        let registry = ModelRegistry(store: store, audit: audit)
        let trainer = Trainer(
            runs: RunStore(store: store), blobs: FileBlobStore(root: directory.file("blobs")), registry: registry, audit: audit,
            directory: DataDirectory(root: directory.path, project: config.project), config: config, codeVersion: "git:test", threads: 2)
        return (trainer, registry, store)
    }

    @Test func everyBuiltInModelReproducesItsArtifactHash() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (trainer, registry, store) = try await Self.setUp(directory)
        let principal = Principal(id: "sci", name: "sam", roles: [.scientist])
        let specs: [ModelSpec] = [
            try ModelSpec(name: "pop", algorithm: .popularity), try ModelSpec(name: "knn", algorithm: .itemKNN, parameters: ["neighbors": 20]),
            try ModelSpec(name: "als", algorithm: .als, parameters: ["factors": 8, "iterations": 3]),
            try ModelSpec(name: "bpr", algorithm: .bpr, parameters: ["factors": 8, "iterations": 5]), try ModelSpec(name: "ease", algorithm: .ease),
        ]
        for spec in specs {
            let outcome = try await trainer.train(TrainingRequest(spec: spec, principal: principal))
            let version = try #require(outcome.version)
            #expect(outcome.run.status == .finished)
            #expect(outcome.run.codeVersion == "git:test")
            #expect(outcome.run.metrics["ndcg@10"] != nil)
            let (again, original, identical) = try await trainer.reproduce(version.reference, principal: principal)
            #expect(identical, "\(spec.name): \(again.run.artifactHash ?? "") vs \(original.artifactHash ?? "")")
            #expect(again.run.reproduces == original.id)
            #expect(again.version == nil, "a reproduction adds no version")
        }
        #expect(try await registry.versions().count == specs.count)
        await store.close()
    }

    /// Reproduction uses what the run recorded, not strata.yaml as it is now: after the
    /// interaction weights and the re-ranker's label window are edited, `--reproduce` gives the
    /// identical artifacts, while a fresh run records (and learns from) the new settings.
    @Test func reproduceUsesTheRecordedInputsNotTheEditedFile() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var original = Fixtures.config
        original.reranker = try RerankerConfig(features: ["user_views_1h", "item_views_24h"], parameters: ["rounds": 10, "max_depth": 3])
        let (trainer, _, store) = try await Self.setUp(directory, config: original)
        let principal = Principal(id: "sci", name: "sam", roles: [.scientist])
        let spec = try ModelSpec(name: "als", algorithm: .als, parameters: ["factors": 8, "iterations": 3])
        let als = try #require(try await trainer.train(TrainingRequest(spec: spec, principal: principal)).version)
        let ranker = try #require(try await trainer.trainReranker(original.reranker!, principal: principal).version)

        // strata.yaml edited after training: other weights, no negative type, a decay; a
        // shorter label window and another candidate depth for the re-ranker.
        var edited = original
        edited.training.interactions = InteractionPolicy(weights: ["view": 5, "click": 1, "purchase": 1], negativeTypes: [], halfLifeMillis: 86_400_000)
        edited.reranker!.labelWindowMillis = 60_000
        edited.reranker!.candidates = 7
        let later = Trainer(
            runs: RunStore(store: store), blobs: FileBlobStore(root: directory.file("blobs")), registry: trainer.registry, audit: trainer.audit,
            directory: DataDirectory(root: directory.path, project: edited.project), config: edited, codeVersion: "git:test", threads: 2)
        for version in [als, ranker] {
            let (again, run, identical) = try await later.reproduce(version.reference, principal: principal)
            #expect(identical, "\(version.reference): \(again.run.artifactHash ?? "") vs \(run.artifactHash ?? "")")
            #expect(again.run.inputs == run.inputs, "the reproduction records the inputs it used: the original's")
        }
        let alsRun = try await trainer.runs.get(als.runID)
        #expect(alsRun.inputs.interactions == original.training.interactions)
        #expect(alsRun.inputs.lines.first?.contains("purchase=8.0") == true, "lineage shows the policy: \(alsRun.inputs.lines)")
        let rankerRun = try await trainer.runs.get(ranker.runID)
        #expect(rankerRun.inputs.reranker == original.reranker)
        #expect(rankerRun.inputs.lines.first?.contains("label click within 30m") == true, "lineage shows the training set: \(rankerRun.inputs.lines)")

        // A fresh run learns from the edited file and says so.
        let fresh = try await later.train(TrainingRequest(spec: spec, principal: principal))
        #expect(fresh.run.inputs.interactions == edited.training.interactions)
        #expect(fresh.run.artifactHash != alsRun.artifactHash)
        let freshRanker = try await later.trainReranker(edited.reranker!, principal: principal)
        #expect(freshRanker.run.inputs.reranker?.labelWindowMillis == 60_000)
        await store.close()
    }

    /// Above `serving.ann.exact_below` a factor model carries its retrieval index: its recall
    /// against exact search is recorded, the same inputs reproduce the same artifact (index
    /// included), and a version whose index misses too much is rejected by the gate.
    @Test func theRetrievalIndexIsRecordedReproducedAndGated() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var config = Fixtures.config
        config.serving.ann.exactBelow = 10
        let (trainer, _, store) = try await Self.setUp(directory, config: config)
        let principal = Principal(id: "sci", name: "sam", roles: [.scientist])
        for algorithm in [Algorithm.als, .bpr] {
            let spec = try ModelSpec(name: algorithm.rawValue, algorithm: algorithm, parameters: ["factors": 8, "iterations": 3])
            let outcome = try await trainer.train(TrainingRequest(spec: spec, principal: principal))
            let version = try #require(outcome.version)
            #expect(version.stage == .candidate, "\(version.gate?.message ?? "")")
            #expect((outcome.run.metrics["ann_recall@10"] ?? 0) >= 0.95, "\(outcome.run.metrics)")
            #expect((outcome.run.metrics["ann_recall_users"] ?? 0) > 0)
            let model = try ModelTrainer.load(try ModelArtifact(decoding: try await trainer.blobs.get(version.artifactHash)))
            #expect((model as? any FactorRecommender)?.retrieval != nil, "the artifact carries the index")
            let (_, _, identical) = try await trainer.reproduce(version.reference, principal: principal)
            #expect(identical, "\(algorithm): the index is built the same way every time")
        }
        // A deliberately poor index (two links, a narrow search) against a strict minimum.
        var strict = config
        strict.serving.ann = ANNSettings()
        strict.serving.ann.exactBelow = 10
        strict.serving.ann.m = 2
        strict.serving.ann.efConstruction = 8
        strict.serving.ann.efSearch = 8
        strict.serving.ann.minRecall = 0.999
        let poor = Trainer(
            runs: trainer.runs, blobs: trainer.blobs, registry: trainer.registry, audit: trainer.audit,
            directory: DataDirectory(root: directory.path, project: strict.project), config: strict, codeVersion: "git:test", threads: 2)
        let spec = try ModelSpec(name: "als-poor", algorithm: .als, parameters: ["factors": 8, "iterations": 3])
        let rejected = try #require(try await poor.train(TrainingRequest(spec: spec, principal: principal)).version)
        #expect(rejected.stage == .rejected)
        #expect(rejected.gate?.message.contains("is below serving.ann.min_recall") == true, "\(rejected.gate?.message ?? "")")
        await store.close()
    }

    @Test func theGateRejectsACandidateWorseThanProduction() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (trainer, registry, store) = try await Self.setUp(directory)
        let scientist = Principal(id: "sci", name: "sam", roles: [.scientist])
        let approver = Principal(id: "apr", name: "ann", roles: [.approver])
        let good = try ModelSpec(name: "recs", algorithm: .als, parameters: ["factors": 16, "iterations": 8])
        let first = try #require(try await trainer.train(TrainingRequest(spec: good, principal: scientist)).version)
        _ = try await registry.approve(first.reference, reason: "first", by: approver)
        _ = try await registry.promote(first.reference, by: approver)
        // The same name, a model that ignores the user: worse on the same holdout.
        let worse = try ModelSpec(name: "recs", algorithm: .popularity)
        let outcome = try await trainer.train(TrainingRequest(spec: worse, principal: scientist))
        let version = try #require(outcome.version)
        #expect(version.stage == .rejected)
        let gate = try #require(version.gate)
        #expect(gate.productionVersion == first.version)
        #expect(gate.candidate < gate.production!)
        // The production model, re-evaluated on the new run's holdout by id, scores what its own run measured (same data).
        #expect(abs(gate.production! - (try await trainer.runs.get(first.runID).metrics["ndcg@10"]!)) < 1e-9)
        await store.close()
    }
}

/// Hyperparameter search: trials as runs of one experiment, successive halving, the best kept.
@Suite(.serialized) struct SearchTests {
    /// The example without its own `search:` section, to append others.
    static var exampleWithoutSearch: String {
        let yaml = ExampleConfig.yaml
        guard let start = yaml.range(of: "\nsearch:\n"), let end = yaml.range(of: "\n# Retraining", range: start.upperBound..<yaml.endIndex) else {
            return yaml
        }
        return String(yaml[..<start.lowerBound]) + String(yaml[end.lowerBound...])
    }

    @Test func theExampleSearchParses() throws {
        let search = try #require(StrataConfig.example().searches["als-main"])
        #expect(search.candidates().count == 8)
        #expect(search.halving?.factor == 2)
    }
    @Test func successiveHalvingKeepsTheBestTrialAndRegistersIt() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let yaml =
            Self.exampleWithoutSearch + """

                search:
                  als-main:
                    method: random
                    trials: 4
                    seed: 3
                    halving: {min_iterations: 2, factor: 2}
                    space:
                      factors: [8, 16]
                      regularization: {log_uniform: [0.001, 1]}
                      alpha: {uniform: [0, 10]}

                """
        let config = try StrataConfig.parse(yaml: yaml.replacingOccurrences(of: "    iterations: 15\n", with: "    iterations: 8\n"), file: "s.yaml")
        let search = try #require(config.searches["als-main"])
        #expect(search.candidates().count == 4)
        #expect(search.candidates() == search.candidates(), "deterministic for a seed")
        for parameters in search.candidates() {
            #expect((0.001...1).contains(parameters["regularization"]!))
            #expect([8, 16].contains(parameters["factors"]!))
        }
        let (trainer, registry, store) = try await ReproducibilityTests.setUp(directory, config: config)
        let base = try #require(config.training.models.first { $0.name == "als-main" })
        let outcome = try await trainer.search(search, base: base, principal: Principal(id: "sci", name: "sam", roles: [.scientist]))
        // Rungs: 4 trials × 2 iterations, the best 2 × 4 iterations, the best 1 × 8.
        #expect(outcome.trials.map(\.runs.count).sorted() == [1, 1, 2, 3])
        let runs = outcome.trials.flatMap(\.runs)
        #expect(runs.count == 7)
        #expect(Set(runs.map(\.experiment)) == [outcome.experiment])
        #expect(outcome.best.parameters["iterations"] == 8)
        let finalists = outcome.trials.filter { $0.runs.count >= 2 }
        #expect(
            finalists.allSatisfy { trial in
                outcome.trials.filter { $0.runs.count == 1 }.allSatisfy { ($0.runs[0].metrics["ndcg@10"] ?? 0) <= (trial.runs[0].metrics["ndcg@10"] ?? 0) }
            }, "the trials kept after the first rung scored at least as well as those dropped")
        #expect(outcome.version.runID == outcome.best.id)
        #expect(try await registry.versions(model: "als-main").count == 1, "only the best trial becomes a version")
        await store.close()
    }

    @Test func searchDefinitionsAreValidated() {
        let base = Self.exampleWithoutSearch + "\nsearch:\n  als-main:\n"
        for (body, problem) in [
            ("    space: {depth: [1, 2]}\n", "has no parameter 'depth'"),
            ("    space: {alpha: {log_uniform: [0, 1]}}\n", "low > 0"),
            ("    method: grid\n    space: {alpha: {uniform: [0, 1]}}\n", "grid search takes lists"),
            ("    halving: {factor: 1}\n    space: {alpha: [1]}\n", "factor ≥ 2"),
            ("    trials: 3\n", "needs a space"),
        ] {
            do {
                _ = try StrataConfig.parse(yaml: base + body, file: "s.yaml")
                Issue.record("expected: \(problem)")
            } catch {
                #expect(error.message.contains(problem), "got \(error.message)")
            }
        }
    }
}
