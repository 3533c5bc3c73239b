import Foundation
import StrataCore
import StrataLake
import StrataRegistry

/// The life of a training run, written once for every kind of run (recommenders, re-rankers):
/// recorded and audited when it starts, recorded and audited when it finishes, and marked
/// failed (and audited) when anything in between throws.
extension Trainer {
    /// A new run of `model` on `manifest`, inserted as running and audited as started.
    func startRun(
        model: String, experiment: String, algorithm: Algorithm, manifest: SnapshotManifest, parameters: [String: Double], seed: Int64,
        principal: Principal, reproducing original: String?, inputs: RunInputs, detail: String
    ) async throws -> RunRecord {
        let run = RunRecord(
            id: Self.newRunID(clock.nowMillis()), experiment: experiment, model: model, algorithm: algorithm, dataVersion: manifest.version,
            contractVersion: config.contract.version, codeVersion: codeVersion, parameters: parameters, seed: seed,
            host: ProcessInfo.processInfo.hostName, principal: principal.label, startedAt: clock.nowMillis(), reproduces: original, inputs: inputs)
        try await runs.insert(run)
        try await audit.append(
            principal: principal.label, action: "training.start", target: "run:\(run.id)", detail: "\(detail) on \(manifest.version.prefix(12))")
        return run
    }

    /// Runs `body`; when it throws, the run is marked failed with the error and the failure
    /// audited before the error goes on.
    func failingRun<T: Sendable>(_ run: RunRecord, principal: Principal, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            try? await runs.fail(run.id, error: "\(error)", at: clock.nowMillis())
            try? await audit.append(principal: principal.label, action: "training.finish", target: "run:\(run.id)", outcome: "failed", detail: "\(error)")
            throw error
        }
    }

    /// Records that `run` produced `artifact` with `metrics`, and audits it; returns when it ended.
    @discardableResult
    func finishRun(
        _ run: RunRecord, artifact: String, metrics: [String: Double], iterationMetrics: [(step: Int, name: String, value: Double, at: Int64)] = [],
        principal: Principal
    ) async throws -> Int64 {
        let finishedAt = clock.nowMillis()
        try await runs.finish(run.id, artifactHash: artifact, metrics: metrics, iterationMetrics: iterationMetrics, at: finishedAt)
        try await audit.append(principal: principal.label, action: "training.finish", target: "run:\(run.id)", detail: "artifact \(artifact)")
        return finishedAt
    }
}
