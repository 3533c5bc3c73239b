import Foundation
import SQLKit
import StrataCore
import StrataMetadata

/// A training run: everything needed to know what produced a model, and to produce it again.
public struct RunRecord: Sendable, Equatable {
    public enum Status: String, Sendable { case running, finished, failed }

    public var id: String
    public var experiment: String
    public var model: String
    public var algorithm: Algorithm
    public var status: Status
    public var dataVersion: String
    public var contractVersion: String
    public var codeVersion: String
    public var strataVersion: String
    public var parameters: [String: Double]
    public var seed: Int64
    public var host: String
    public var principal: String
    public var startedAt: Int64
    public var finishedAt: Int64?
    public var artifactHash: String?
    public var checkpointHash: String?
    public var checkpointIteration: Int64
    /// Holdout metrics (name → value).
    public var metrics: [String: Double]
    public var error: String?
    /// The run this one re-ran (`--reproduce`).
    public var reproduces: String?
    /// The settings of strata.yaml the artifact depends on, as they were for this run.
    public var inputs = RunInputs()

    /// A run as it starts: running, nothing produced yet.
    public init(
        id: String, experiment: String, model: String, algorithm: Algorithm, dataVersion: String, contractVersion: String, codeVersion: String,
        parameters: [String: Double], seed: Int64, host: String, principal: String, startedAt: Int64, reproduces: String?, inputs: RunInputs,
        strataVersion: String = StrataVersion.current
    ) {
        self.init(
            id: id, experiment: experiment, model: model, algorithm: algorithm, status: .running, dataVersion: dataVersion,
            contractVersion: contractVersion, codeVersion: codeVersion, strataVersion: strataVersion, parameters: parameters, seed: seed, host: host,
            principal: principal, startedAt: startedAt, finishedAt: nil, artifactHash: nil, checkpointHash: nil, checkpointIteration: 0, metrics: [:],
            error: nil, reproduces: reproduces, inputs: inputs)
    }

    init(
        id: String, experiment: String, model: String, algorithm: Algorithm, status: Status, dataVersion: String, contractVersion: String,
        codeVersion: String, strataVersion: String, parameters: [String: Double], seed: Int64, host: String, principal: String, startedAt: Int64,
        finishedAt: Int64?, artifactHash: String?, checkpointHash: String?, checkpointIteration: Int64, metrics: [String: Double], error: String?,
        reproduces: String?, inputs: RunInputs
    ) {
        self.id = id
        self.experiment = experiment
        self.model = model
        self.algorithm = algorithm
        self.status = status
        self.dataVersion = dataVersion
        self.contractVersion = contractVersion
        self.codeVersion = codeVersion
        self.strataVersion = strataVersion
        self.parameters = parameters
        self.seed = seed
        self.host = host
        self.principal = principal
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.artifactHash = artifactHash
        self.checkpointHash = checkpointHash
        self.checkpointIteration = checkpointIteration
        self.metrics = metrics
        self.error = error
        self.reproduces = reproduces
        self.inputs = inputs
    }

    public var json: JSONValue {
        [
            "id": .string(id), "experiment": .string(experiment), "model": .string(model), "algorithm": .string(algorithm.rawValue),
            "status": .string(status.rawValue), "data_version": .string(dataVersion), "contract_version": .string(contractVersion),
            "code_version": .string(codeVersion), "strata_version": .string(strataVersion),
            "parameters": .object(parameters.mapValues(JSONValue.double)), "seed": .int(seed), "host": .string(host), "principal": .string(principal),
            "started_at": .string(EventTime.format(millis: startedAt)), "finished_at": finishedAt.map { .string(EventTime.format(millis: $0)) } ?? .null,
            "artifact": artifactHash.map(JSONValue.string) ?? .null, "checkpoint": checkpointHash.map(JSONValue.string) ?? .null,
            "checkpoint_iteration": .int(checkpointIteration), "metrics": .object(metrics.mapValues(JSONValue.double)),
            "error": error.map(JSONValue.string) ?? .null, "reproduces": reproduces.map(JSONValue.string) ?? .null, "inputs": inputs.json,
        ]
    }
}

/// Runs and their per-iteration metrics in the metadata store.
public struct RunStore: Sendable {
    package let store: MetadataStore

    public init(store: MetadataStore) {
        self.store = store
    }

    package func insert(_ run: RunRecord) async throws {
        try await store.transaction { db in
            try await db.raw(
                """
                INSERT INTO runs (id, experiment, model, algorithm, status, data_version, contract_version, code_version, strata_version, parameters,
                  seed, host, principal, started_at, checkpoint_iteration, reproduces, inputs) VALUES
                (\(bind: run.id), \(bind: run.experiment), \(bind: run.model), \(bind: run.algorithm.rawValue), \(bind: run.status.rawValue),
                 \(bind: run.dataVersion), \(bind: run.contractVersion), \(bind: run.codeVersion), \(bind: run.strataVersion),
                 \(bind: Self.encode(run.parameters)), \(bind: run.seed), \(bind: run.host), \(bind: run.principal), \(bind: run.startedAt),
                 \(bind: run.checkpointIteration), \(bind: run.reproduces), \(bind: run.inputs.json.serialized))
                """
            ).run()
        }
    }

    package func finish(
        _ id: String, artifactHash: String, metrics: [String: Double], iterationMetrics: [(step: Int, name: String, value: Double, at: Int64)], at: Int64
    )
        async throws
    {
        try await store.transaction { db in
            try await db.raw(
                """
                UPDATE runs SET status = 'finished', finished_at = \(bind: at), artifact_hash = \(bind: artifactHash), metrics = \(bind: Self.encode(metrics)),
                  error = NULL WHERE id = \(bind: id)
                """
            ).run()
            try await db.raw("DELETE FROM run_metrics WHERE run_id = \(bind: id)").run()
            for metric in iterationMetrics {
                try await db.raw(
                    "INSERT INTO run_metrics (run_id, step, name, value, at) VALUES (\(bind: id), \(bind: Int64(metric.step)), \(bind: metric.name), \(bind: metric.value), \(bind: metric.at))"
                ).run()
            }
        }
    }

    package func fail(_ id: String, error: String, at: Int64) async throws {
        try await store.transaction { db in
            try await db.raw("UPDATE runs SET status = 'failed', finished_at = \(bind: at), error = \(bind: error) WHERE id = \(bind: id)").run()
        }
    }

    package func noteCheckpoint(_ id: String, hash: String, iteration: Int) async throws {
        try await store.transaction { db in
            try await db.raw("UPDATE runs SET checkpoint_hash = \(bind: hash), checkpoint_iteration = \(bind: Int64(iteration)) WHERE id = \(bind: id)").run()
        }
    }

    /// The run with this id, or the only run whose id starts with it (a prefix as `strata runs`
    /// prints); an exact id wins over longer ids it begins, and `_` or `%` match only themselves.
    public func get(_ id: String) async throws -> RunRecord {
        let rows = try await store.read { db in
            if let exact = try await db.raw("SELECT * FROM runs WHERE id = \(bind: id)").first() { return [exact] }
            let pattern = id.replacing("\\", with: "\\\\").replacing("%", with: "\\%").replacing("_", with: "\\_") + "%"
            return try await db.raw("SELECT * FROM runs WHERE id LIKE \(bind: pattern) ESCAPE '\\' ORDER BY id").all()
        }
        guard rows.count == 1, let row = rows.first else {
            throw rows.isEmpty
                ? StrataError.notFound("run_not_found", "no run \(id)") : StrataError.invalid("ambiguous_run", "\(id) matches \(rows.count) runs")
        }
        return try Self.record(row)
    }

    public func list(model: String? = nil, limit: Int = 100) async throws -> [RunRecord] {
        try await store.read { db in
            let rows =
                if let model {
                    try await db.raw("SELECT * FROM runs WHERE model = \(bind: model) ORDER BY started_at DESC, id LIMIT \(unsafeRaw: String(limit))").all()
                } else {
                    try await db.raw("SELECT * FROM runs ORDER BY started_at DESC, id LIMIT \(unsafeRaw: String(limit))").all()
                }
            return try rows.map(Self.record)
        }
    }

    /// Runs per model and status, with the duration and end of each model's latest finished and
    /// failed run (the figures `/metrics` exports).
    public func summary() async throws -> [RunSummary] {
        try await store.read { db in
            let counts = try await db.raw("SELECT model, status, COUNT(*) AS runs FROM runs GROUP BY model, status ORDER BY model, status").all()
            // The newest ended run per model and status.
            let latest = try await db.raw(
                """
                SELECT model, status, started_at, finished_at FROM runs r WHERE finished_at IS NOT NULL
                AND finished_at = (SELECT MAX(finished_at) FROM runs WHERE model = r.model AND status = r.status)
                """
            ).all()
            var ended: [String: (Int64, Int64)] = [:]
            for row in latest {
                let key = try row.decode(column: "model", as: String.self) + "|" + row.decode(column: "status", as: String.self)
                ended[key] = (try row.decode(column: "started_at", as: Int64.self), try row.decode(column: "finished_at", as: Int64.self))
            }
            return try counts.map { row in
                let model = try row.decode(column: "model", as: String.self)
                let status = RunRecord.Status(rawValue: try row.decode(column: "status", as: String.self)) ?? .failed
                let last = ended[model + "|" + status.rawValue]
                return RunSummary(
                    model: model, status: status, runs: Int(try row.decode(column: "runs", as: Int64.self)),
                    lastDurationMillis: last.map { $0.1 - $0.0 }, lastFinishedAt: last?.1)
            }
        }
    }

    /// Per-iteration metrics of a run: (step, name, value).
    public func iterationMetrics(_ id: String) async throws -> [(step: Int, name: String, value: Double)] {
        try await store.read { db in
            try await db.raw("SELECT step, name, value FROM run_metrics WHERE run_id = \(bind: id) ORDER BY step, name").all().map { row in
                (
                    Int(try row.decode(column: "step", as: Int64.self)), try row.decode(column: "name", as: String.self),
                    try row.decode(column: "value", as: Double.self)
                )
            }
        }
    }

    static func encode(_ values: [String: Double]) -> String { JSONValue.object(values.mapValues(JSONValue.double)).serialized }

    static func decode(_ text: String?) -> [String: Double] {
        guard let text, let object = (try? JSONValue.parse(text))?.objectValue else { return [:] }
        return object.compactMapValues(\.doubleValue)
    }

    static func record(_ row: any SQLRow) throws -> RunRecord {
        let parameters: [String: Double] = decode(try row.decode(column: "parameters", as: String.self))
        let inputs = try row.decode(column: "inputs", as: String?.self).flatMap { try? JSONValue.parse($0) }
        return RunRecord(
            id: try row.decode(column: "id", as: String.self), experiment: try row.decode(column: "experiment", as: String.self),
            model: try row.decode(column: "model", as: String.self),
            algorithm: Algorithm(rawValue: try row.decode(column: "algorithm", as: String.self)) ?? .popularity,
            status: RunRecord.Status(rawValue: try row.decode(column: "status", as: String.self)) ?? .failed,
            dataVersion: try row.decode(column: "data_version", as: String.self), contractVersion: try row.decode(column: "contract_version", as: String.self),
            codeVersion: try row.decode(column: "code_version", as: String.self), strataVersion: try row.decode(column: "strata_version", as: String.self),
            parameters: parameters, seed: try row.decode(column: "seed", as: Int64.self),
            host: try row.decode(column: "host", as: String.self), principal: try row.decode(column: "principal", as: String.self),
            startedAt: try row.decode(column: "started_at", as: Int64.self), finishedAt: try row.decode(column: "finished_at", as: Int64?.self),
            artifactHash: try row.decode(column: "artifact_hash", as: String?.self),
            checkpointHash: try row.decode(column: "checkpoint_hash", as: String?.self),
            checkpointIteration: try row.decode(column: "checkpoint_iteration", as: Int64.self),
            metrics: decode(try row.decode(column: "metrics", as: String?.self)),
            error: try row.decode(column: "error", as: String?.self), reproduces: try row.decode(column: "reproduces", as: String?.self),
            inputs: RunInputs(json: inputs, parameters: parameters))
    }
}

/// How many runs of a model ended one way, and the latest of them.
public struct RunSummary: Sendable, Equatable {
    public var model: String
    public var status: RunRecord.Status
    public var runs: Int
    public var lastDurationMillis: Int64?
    public var lastFinishedAt: Int64?
}
