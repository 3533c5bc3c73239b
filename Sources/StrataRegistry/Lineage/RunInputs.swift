import StrataCore

/// Every setting of `strata.yaml` that changes what a run produces, beyond its data, contract,
/// code version and hyperparameters: the interaction policy a recommender learned from, and a
/// re-ranker's training set (spine, label, window, features) and serving depth. Recorded with
/// the run, shown in its lineage, and used by `--reproduce` and `--resume` instead of the file
/// as it is now (which may have been edited since).
public struct RunInputs: Sendable, Equatable {
    /// Event-type weights, negative types and decay (recommenders).
    public var interactions: InteractionPolicy?
    /// The training set and depth of a re-ranker (its hyperparameters are the run's parameters).
    public var reranker: RerankerConfig?

    public init(interactions: InteractionPolicy? = nil, reranker: RerankerConfig? = nil) {
        self.interactions = interactions
        self.reranker = reranker
    }

    public var json: JSONValue {
        var object: [String: JSONValue] = [:]
        if let interactions {
            object["interactions"] = [
                "weights": .object(interactions.weights.mapValues(JSONValue.double)),
                "negative": .array(interactions.negativeTypes.sorted().map(JSONValue.string)),
                "half_life_ms": interactions.halfLifeMillis.map(JSONValue.int) ?? .null,
            ]
        }
        if let reranker {
            object["reranker"] = [
                "name": .string(reranker.name), "features": .array(reranker.features.map(JSONValue.string)), "spine": .string(reranker.spine),
                "label": .string(reranker.label), "label_window_ms": .int(reranker.labelWindowMillis), "candidates": .int(Int64(reranker.candidates)),
            ]
        }
        return .object(object)
    }

    /// The recorded inputs (runs recorded before inputs were kept have none).
    public init(json: JSONValue?, parameters: [String: Double]) {
        if let policy = json?["interactions"], let weights = policy["weights"]?.objectValue {
            interactions = InteractionPolicy(
                weights: weights.compactMapValues(\.doubleValue), negativeTypes: Set(policy["negative"]?.arrayValue?.compactMap(\.stringValue) ?? []),
                halfLifeMillis: policy["half_life_ms"]?.intValue)
        }
        if let recorded = json?["reranker"], let features = recorded["features"]?.arrayValue?.compactMap(\.stringValue),
            var reranker = try? RerankerConfig(features: features, parameters: parameters)
        {
            reranker.name = recorded["name"]?.stringValue ?? reranker.name
            reranker.spec.name = reranker.name
            reranker.spine = recorded["spine"]?.stringValue ?? reranker.spine
            reranker.label = recorded["label"]?.stringValue ?? reranker.label
            reranker.labelWindowMillis = recorded["label_window_ms"]?.intValue ?? reranker.labelWindowMillis
            reranker.candidates = Int(recorded["candidates"]?.intValue ?? Int64(reranker.candidates))
            self.reranker = reranker
        }
    }

    /// One line per input, for `strata models lineage`.
    public var lines: [String] {
        var lines: [String] = []
        if let interactions {
            lines.append(
                "interactions      "
                    + interactions.weights.keys.sorted().map { "\($0)=\(interactions.weights[$0]!)" }.joined(separator: " ")
                    + (interactions.negativeTypes.isEmpty ? "" : "; negative \(interactions.negativeTypes.sorted().joined(separator: ", "))")
                    + (interactions.halfLifeMillis.map { "; half-life \(DurationText.format(millis: $0))" } ?? ""))
        }
        if let reranker {
            lines.append(
                "training set      spine \(reranker.spine), label \(reranker.label) within \(DurationText.format(millis: reranker.labelWindowMillis)), "
                    + "features \(reranker.features.joined(separator: ", ")); \(reranker.candidates) candidates")
        }
        return lines
    }
}
