/// The learning-to-rank second stage (`reranker:` in strata.yaml): gradient-boosted trees over
/// feature-store features, trained by `strata train --reranker` on a point-in-time training
/// set (spine events labelled by a later event), and applied by serving to the live model's
/// top candidates.
public struct RerankerConfig: Sendable, Equatable {
    /// Its name in the registry (versions, gates, production alias).
    public var name = "ranker"
    /// Numeric user and item features (int, double or bool), in column order.
    public var features: [String]
    public var spine = "impression"
    public var label = "click"
    public var labelWindowMillis: Int64 = 1_800_000
    /// How many of the live model's best items are re-ranked.
    public var candidates = 50
    public var spec: ModelSpec

    public init(features: [String], parameters: [String: Double] = [:]) throws(StrataError) {
        self.features = features
        self.spec = try ModelSpec(name: name, algorithm: .gbdtRanker, parameters: parameters)
    }

    init(node: ConfigNode, contract: Contract) throws(StrataError) {
        try node.checkKeys(["name", "features", "spine", "label", "label_window", "candidates", "rounds", "max_depth", "eta", "seed"])
        guard let featuresNode = node["features"] else {
            throw node.error("reranker needs features: [numeric user and item features]", code: "missing_config_key")
        }
        let features = try featuresNode.stringList()
        guard !features.isEmpty else { throw featuresNode.error("reranker.features lists at least one feature") }
        for name in features {
            guard let feature = contract.features.first(where: { $0.name == name }) else {
                throw featuresNode.error("'\(name)' is not a feature of this file")
            }
            guard [.int, .double, .bool].contains(feature.valueType) else {
                throw featuresNode.error("'\(name)' is \(feature.valueType.rawValue); the re-ranker takes numeric features (int, double, bool)")
            }
        }
        var parameters: [String: Double] = [:]
        for key in ["rounds", "max_depth", "eta", "seed"] { if let v = node[key] { parameters[key] = try v.double() } }
        try self.init(features: features, parameters: parameters)
        if let v = node["name"] { name = try v.string() }
        spec.name = name
        if let v = node["spine"] { spine = try v.string() }
        if let v = node["label"] { label = try v.string() }
        for (key, type) in [("spine", spine), ("label", label)] where contract.eventType(named: type)?.field(named: "item_id") == nil {
            throw (node[key] ?? node).error("'\(type)' must be a declared event type with an item_id")
        }
        if let v = node["label_window"] { labelWindowMillis = try v.durationMillis() }
        if let v = node["candidates"] {
            candidates = try v.int()
            guard (2...1000).contains(candidates) else { throw v.error("candidates must be between 2 and 1000") }
        }
        guard spec.int("rounds") >= 1, spec.int("max_depth") >= 1, spec["eta"] > 0 else {
            throw node.error("rounds and max_depth must be at least 1, eta positive")
        }
    }
}
