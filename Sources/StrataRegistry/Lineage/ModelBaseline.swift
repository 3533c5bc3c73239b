import SQLKit
import StrataCore
import StrataML
import StrataMetadata

/// What a model version saw at training, for drift monitoring: the distribution of each
/// numeric user feature over the training users as of the snapshot's end, and of the model's
/// best score for them (deciles as bins).
public struct ModelBaseline: Sendable, Equatable {
    public var features: [String: BinnedDistribution]
    public var scores: BinnedDistribution
    public var asOf: Int64
    public var users: Int

    public var json: JSONValue {
        [
            "features": .object(features.mapValues(\.json)), "scores": scores.json, "as_of": .string(EventTime.format(millis: asOf)),
            "as_of_ms": .int(asOf), "users": .int(Int64(users)),
        ]
    }

    package init?(json: JSONValue) {
        guard let scores = json["scores"].flatMap(BinnedDistribution.init(json:)) else { return nil }
        self.scores = scores
        self.features = (json["features"]?.objectValue ?? [:]).compactMapValues(BinnedDistribution.init(json:))
        self.asOf = json["as_of_ms"]?.intValue ?? 0
        self.users = Int(json["users"]?.intValue ?? 0)
    }

    package init(features: [String: BinnedDistribution], scores: BinnedDistribution, asOf: Int64, users: Int) {
        self.features = features
        self.scores = scores
        self.asOf = asOf
        self.users = users
    }
}

/// Baselines by run, in the metadata store.
public struct BaselineStore: Sendable {
    let store: MetadataStore

    public init(store: MetadataStore) { self.store = store }

    public func put(runID: String, _ baseline: ModelBaseline) async throws {
        let body = baseline.json.serialized
        try await store.transaction { db in
            try await db.raw("DELETE FROM baselines WHERE run_id = \(bind: runID)").run()
            try await db.raw("INSERT INTO baselines (run_id, body) VALUES (\(bind: runID), \(bind: body))").run()
        }
    }

    public func get(runID: String) async throws -> ModelBaseline? {
        try await store.read { db in
            guard let body = try await db.raw("SELECT body FROM baselines WHERE run_id = \(bind: runID)").first()?.decode(column: "body", as: String.self),
                let json = try? JSONValue.parse(body)
            else { return nil }
            return ModelBaseline(json: json)
        }
    }
}

extension RunStore {
    /// The baselines recorded with these runs.
    public var baselines: BaselineStore { BaselineStore(store: store) }
}
