import Foundation
import StrataCore
import StrataML
import StrataMetadata
import StrataTesting
import Testing

@testable import StrataRegistry

/// Training runs, their per-iteration metrics and drift baselines in the metadata store.
@Suite struct RunLineageTests {
    static let policy = InteractionPolicy(weights: ["view": 1, "purchase": 8.5, "hide": 2], negativeTypes: ["hide"], halfLifeMillis: 86_400_000)

    @Test func aStartedRunReadsBackAsItWasRecorded() async throws {
        try await RegistryFixture.with { fixture in
            let run = RegistryFixture.run(
                "r0001", parameters: ["factors": 16, "regularization": 0.05, "alpha": 1.5], inputs: RunInputs(interactions: Self.policy))
            try await fixture.runs.insert(run)
            let read = try await fixture.runs.get("r0001")
            #expect(read == run)
            #expect(read.status == .running && read.finishedAt == nil && read.artifactHash == nil && read.error == nil)
            #expect(read.inputs.interactions == Self.policy)
            #expect(read.strataVersion == StrataVersion.current)
            #expect(read.json["status"] == .string("running"))
            #expect(read.json["artifact"] == .null)
            #expect(read.inputs.lines.first?.contains("purchase=8.5") == true)
            #expect(read.inputs.lines.first?.contains("negative hide") == true)
            #expect(read.inputs.lines.first?.contains("half-life") == true)
            // The same id twice is refused by the store.
            await #expect(throws: (any Error).self) { try await fixture.runs.insert(run) }
        }
    }

    @Test func aRerankerRunKeepsItsTrainingSet() async throws {
        try await RegistryFixture.with { fixture in
            var reranker = try RerankerConfig(features: ["user_views_1h", "item_views_24h"], parameters: ["rounds": 12, "max_depth": 3])
            reranker.name = "my-ranker"
            reranker.spec.name = "my-ranker"
            reranker.labelWindowMillis = 600_000
            reranker.candidates = 25
            reranker.label = "purchase"
            var run = RegistryFixture.run("r-rank", model: "my-ranker", parameters: [:], inputs: RunInputs(reranker: reranker))
            run.algorithm = .gbdtRanker
            run.parameters = reranker.spec.parameters
            try await fixture.runs.insert(run)
            let read = try await fixture.runs.get("r-rank")
            #expect(read.inputs.reranker == reranker)
            #expect(read.inputs.interactions == nil)
            #expect(read.algorithm == .gbdtRanker)
            #expect(
                read.inputs.lines == ["training set      spine impression, label purchase within 10m, features user_views_1h, item_views_24h; 25 candidates"])
        }
    }

    @Test func finishingRecordsTheArtifactMetricsAndIterations() async throws {
        try await RegistryFixture.with { fixture in
            let start = RegistryFixture.start
            try await fixture.runs.insert(RegistryFixture.run("r1"))
            try await fixture.runs.noteCheckpoint("r1", hash: "ckpt-a", iteration: 3)
            var read = try await fixture.runs.get("r1")
            #expect(read.checkpointHash == "ckpt-a" && read.checkpointIteration == 3 && read.status == .running)
            let iterations = (1...3).flatMap { step in
                [
                    (step: step, name: "loss", value: 1.0 / Double(step), at: start + Int64(step)),
                    (step: step, name: "iteration_seconds", value: 0.5, at: start),
                ]
            }
            try await fixture.runs.finish(
                "r1", artifactHash: "sha-1", metrics: ["ndcg@10": 0.123456789, "users": 300], iterationMetrics: iterations, at: start + 60_000)
            read = try await fixture.runs.get("r1")
            #expect(read.status == .finished)
            #expect(read.artifactHash == "sha-1")
            #expect(read.metrics == ["ndcg@10": 0.123456789, "users": 300])
            #expect(read.finishedAt == start + 60_000)
            #expect(read.checkpointHash == "ckpt-a", "the checkpoint stays in the lineage")
            let stored = try await fixture.runs.iterationMetrics("r1")
            #expect(stored.count == 6)
            #expect(stored.map(\.step) == [1, 1, 2, 2, 3, 3])
            #expect(stored.map(\.name) == ["iteration_seconds", "loss", "iteration_seconds", "loss", "iteration_seconds", "loss"], "by step, then name")
            #expect(stored.filter { $0.name == "loss" }.map(\.value) == [1, 0.5, 1.0 / 3])
            // Finishing again (a resumed run) replaces the metrics rather than adding to them.
            try await fixture.runs.finish(
                "r1", artifactHash: "sha-2", metrics: ["ndcg@10": 0.2], iterationMetrics: [(step: 1, name: "loss", value: 9, at: start)], at: start + 90_000)
            read = try await fixture.runs.get("r1")
            #expect(read.metrics == ["ndcg@10": 0.2] && read.artifactHash == "sha-2")
            #expect(try await fixture.runs.iterationMetrics("r1").map(\.value) == [9])
            #expect(try await fixture.runs.iterationMetrics("other").isEmpty)
        }
    }

    @Test func aFailedRunKeepsItsErrorUntilItFinishes() async throws {
        try await RegistryFixture.with { fixture in
            try await fixture.runs.insert(RegistryFixture.run("r1"))
            try await fixture.runs.fail("r1", error: "no_interactions: snapshot holds nothing", at: RegistryFixture.start + 5)
            var read = try await fixture.runs.get("r1")
            #expect(read.status == .failed)
            #expect(read.error == "no_interactions: snapshot holds nothing")
            #expect(read.finishedAt == RegistryFixture.start + 5)
            #expect(read.artifactHash == nil)
            #expect(read.json["error"] == .string("no_interactions: snapshot holds nothing"))
            // A resumed run that then finishes clears the error.
            try await fixture.runs.finish("r1", artifactHash: "a", metrics: [:], iterationMetrics: [], at: RegistryFixture.start + 10)
            read = try await fixture.runs.get("r1")
            #expect(read.status == .finished && read.error == nil)
        }
    }

    @Test func runsAreFoundByIdOrUniquePrefix() async throws {
        try await RegistryFixture.with { fixture in
            for id in ["r00aa11", "r00aa22", "r00bb33"] { try await fixture.runs.insert(RegistryFixture.run(id)) }
            #expect(try await fixture.runs.get("r00bb33").id == "r00bb33")
            #expect(try await fixture.runs.get("r00b").id == "r00bb33", "a unique prefix names the run")
            #expect(try await fixture.runs.get("r00aa1").id == "r00aa11")
            let ambiguous = await strataError { _ = try await fixture.runs.get("r00a") }
            #expect(ambiguous?.code == "ambiguous_run" && ambiguous?.kind == .invalidInput)
            #expect(ambiguous?.message.contains("2 runs") == true)
            let missing = await strataError { _ = try await fixture.runs.get("r99") }
            #expect(missing?.code == "run_not_found" && missing?.kind == .notFound)
            // An exact id wins over the longer ids it begins; `_` and `%` are not wildcards.
            for id in ["r1", "r10", "r1_x"] { try await fixture.runs.insert(RegistryFixture.run(id)) }
            #expect(try await fixture.runs.get("r1").id == "r1")
            #expect(try await fixture.runs.get("r1_").id == "r1_x")
            let wildcard = await strataError { _ = try await fixture.runs.get("r%a") }
            #expect(wildcard?.code == "run_not_found")
        }
    }

    @Test func listingIsNewestFirstPerModelAndLimited() async throws {
        try await RegistryFixture.with { fixture in
            let start = RegistryFixture.start
            for index in 0..<6 {
                try await fixture.runs.insert(RegistryFixture.run("r\(index)", model: index % 2 == 0 ? "als" : "knn", startedAt: start + Int64(index) * 1000))
            }
            #expect(try await fixture.runs.list().map(\.id) == ["r5", "r4", "r3", "r2", "r1", "r0"])
            #expect(try await fixture.runs.list(model: "als").map(\.id) == ["r4", "r2", "r0"])
            #expect(try await fixture.runs.list(limit: 2).map(\.id) == ["r5", "r4"])
            #expect(try await fixture.runs.list(model: "knn", limit: 1).map(\.id) == ["r5"])
            #expect(try await fixture.runs.list(model: "none").isEmpty)
        }
    }

    @Test func theSummaryCountsRunsAndTimesTheLatestOfEachOutcome() async throws {
        try await RegistryFixture.with { fixture in
            let start = RegistryFixture.start
            let runs = fixture.runs
            try await runs.insert(RegistryFixture.run("a1", startedAt: start))
            try await runs.finish("a1", artifactHash: "x", metrics: [:], iterationMetrics: [], at: start + 10_000)
            try await runs.insert(RegistryFixture.run("a2", startedAt: start + 20_000))
            try await runs.finish("a2", artifactHash: "y", metrics: [:], iterationMetrics: [], at: start + 23_000)
            try await runs.insert(RegistryFixture.run("a3", startedAt: start + 30_000))
            try await runs.fail("a3", error: "boom", at: start + 31_000)
            try await runs.insert(RegistryFixture.run("a4", startedAt: start + 40_000))
            try await runs.insert(RegistryFixture.run("k1", model: "knn", startedAt: start))
            let summary = try await runs.summary()
            #expect(
                summary == [
                    RunSummary(model: "als", status: .failed, runs: 1, lastDurationMillis: 1000, lastFinishedAt: start + 31_000),
                    RunSummary(model: "als", status: .finished, runs: 2, lastDurationMillis: 3000, lastFinishedAt: start + 23_000),
                    RunSummary(model: "als", status: .running, runs: 1, lastDurationMillis: nil, lastFinishedAt: nil),
                    RunSummary(model: "knn", status: .running, runs: 1, lastDurationMillis: nil, lastFinishedAt: nil),
                ])
        }
    }

    @Test func baselinesRoundTripAndAreReplaced() async throws {
        try await RegistryFixture.with { fixture in
            let baselines = fixture.runs.baselines
            #expect(try await baselines.get(runID: "r1") == nil)
            let views = BinnedDistribution.baseline((0..<500).map { Double($0 % 37) / 3 })
            let spend = BinnedDistribution.baseline([0, 0, 0, 12.5, 99.99, 1e-7, 3.25])
            let scores = BinnedDistribution.baseline((0..<200).map { 1 / Double($0 + 1) })
            let baseline = ModelBaseline(
                features: ["user_views_1h": views, "user_spend_30d": spend], scores: scores, asOf: RegistryFixture.start, users: 200)
            try await baselines.put(runID: "r1", baseline)
            let read = try #require(try await baselines.get(runID: "r1"))
            #expect(read == baseline)
            #expect(read.scores.shares.reduce(0, +) > 0.999 && read.scores.shares.reduce(0, +) < 1.001)
            #expect(read.scores.psi(scores) == 0, "identical distributions do not drift")
            // Another put for the same run replaces it; other runs are untouched.
            let other = ModelBaseline(features: [:], scores: .baseline([1, 2, 3]), asOf: 7, users: 3)
            try await baselines.put(runID: "r2", other)
            try await baselines.put(runID: "r1", other)
            #expect(try await baselines.get(runID: "r1") == other)
            #expect(try await baselines.get(runID: "r2") == other)
            let rows = try await fixture.store.read { db in
                try await db.raw("SELECT COUNT(*) AS n FROM baselines WHERE run_id = 'r1'").first()?.decode(column: "n", as: Int64.self)
            }
            #expect(rows == 1)
            #expect(ModelBaseline(json: .object([:])) == nil, "a body without scores is no baseline")
        }
    }
}
