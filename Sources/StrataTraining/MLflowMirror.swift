import Foundation
import StrataCore
import StrataRegistry

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Mirrors finished runs to an existing MLflow tracking server through its REST API, for teams
/// that already browse experiments there: the experiment, the run (named by Strata's run id),
/// its lineage as tags, hyperparameters as params, holdout and per-iteration metrics. Strata's
/// own store stays the record; a failed mirror is reported, never fails the run.
public struct MLflowMirror: Sendable {
    public let baseURL: String

    public init(baseURL: String) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
    }

    /// Returns MLflow's run id.
    @discardableResult
    public func mirror(_ run: RunRecord, iterationMetrics: [(step: Int, name: String, value: Double, at: Int64)]) async throws -> String {
        let experiment = try await experimentID(named: run.experiment)
        let tags: [(String, String)] = [
            ("mlflow.runName", run.id), ("strata.run_id", run.id), ("strata.model", run.model), ("strata.algorithm", run.algorithm.rawValue),
            ("strata.data_version", run.dataVersion), ("strata.contract_version", run.contractVersion), ("strata.code_version", run.codeVersion),
            ("strata.artifact_sha256", run.artifactHash ?? ""), ("strata.host", run.host), ("strata.principal", run.principal),
        ]
        let created = try await call(
            "runs/create",
            [
                "experiment_id": .string(experiment), "start_time": .int(run.startedAt), "run_name": .string(run.id),
                "tags": .array(tags.map { ["key": .string($0.0), "value": .string($0.1)] }),
            ])
        guard let mlflowRun = created["run"]?["info"]?["run_id"]?.stringValue else {
            throw StrataError.internal("MLflow answered runs/create without a run id")
        }
        let params: [JSONValue] = run.parameters.keys.sorted().map { ["key": .string($0), "value": .string(Self.text(run.parameters[$0]!))] }
        let end = run.finishedAt ?? run.startedAt
        var metrics: [JSONValue] = run.metrics.keys.sorted().map {
            ["key": .string(Self.key($0)), "value": .double(run.metrics[$0]!), "timestamp": .int(end), "step": 0]
        }
        metrics += iterationMetrics.map {
            ["key": .string(Self.key($0.name)), "value": .double($0.value), "timestamp": .int($0.at), "step": .int(Int64($0.step))]
        }
        // MLflow takes at most 100 params and 1000 metrics per batch.
        for start in stride(from: 0, to: max(params.count, metrics.count, 1), by: 100) {
            let batchParams = start < params.count ? Array(params[start..<min(start + 100, params.count)]) : []
            let batchMetrics = start < metrics.count ? Array(metrics[start..<min(start + 100, metrics.count)]) : []
            _ = try await call("runs/log-batch", ["run_id": .string(mlflowRun), "params": .array(batchParams), "metrics": .array(batchMetrics)])
        }
        _ = try await call(
            "runs/update", ["run_id": .string(mlflowRun), "status": .string(run.status == .finished ? "FINISHED" : "FAILED"), "end_time": .int(end)])
        return mlflowRun
    }

    func experimentID(named name: String) async throws -> String {
        let escaped = name.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? name
        if let found = try? await call("experiments/get-by-name?experiment_name=\(escaped)", nil)["experiment"]?["experiment_id"]?.stringValue { return found }
        guard let created = try await call("experiments/create", ["name": .string(name)])["experiment_id"]?.stringValue else {
            throw StrataError.internal("MLflow answered experiments/create without an id")
        }
        return created
    }

    /// MLflow metric keys allow letters, digits and `_-./ `; `@` is not among them.
    static func key(_ name: String) -> String { name.replacingOccurrences(of: "@", with: "_at_") }

    static func text(_ value: Double) -> String { value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value) }

    func call(_ path: String, _ body: JSONValue?) async throws -> JSONValue {
        guard let url = URL(string: "\(baseURL)/api/2.0/mlflow/\(path)") else {
            throw StrataError.invalid("invalid_mlflow_uri", "cannot form a URL from \(baseURL)")
        }
        var request = URLRequest(url: url)
        request.timeoutInterval = 30
        if let body {
            request.httpMethod = "POST"
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(body.serializedBytes)
        }
        let (data, response) = try await URLSession.uncached.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let text = String(decoding: data, as: UTF8.self)
        guard (200..<300).contains(status) else {
            throw StrataError(.unavailable, code: "mlflow_error", "MLflow \(path) answered \(status): \(text.prefix(300))")
        }
        return text.isEmpty ? [:] : try JSONValue.parse(text)
    }
}
