/// The recommendation algorithms Strata trains.
public enum Algorithm: String, Sendable, CaseIterable, Codable {
    case popularity
    case itemKNN = "item_knn"
    case als
    case bpr
    case ease
    /// The learning-to-rank second stage (gradient-boosted trees over feature-store features);
    /// configured under `reranker:`, not `models:`.
    case gbdtRanker = "gbdt_ranker"

    /// The algorithms `models:` may name (recommenders).
    public static let recommenders: [Algorithm] = allCases.filter { $0 != .gbdtRanker }

    /// Hyperparameters the algorithm takes, with their defaults. A spec may set only these.
    public var defaultParameters: [String: Double] {
        switch self {
        case .popularity: [:]
        case .itemKNN: ["neighbors": 100, "shrinkage": 0]
        case .als: ["factors": 64, "regularization": 0.05, "alpha": 1, "iterations": 15, "cg_steps": 3, "seed": 42]
        case .bpr: ["factors": 64, "learning_rate": 0.01, "regularization": 0.01, "iterations": 100, "seed": 42]
        case .ease: ["regularization": 500]
        case .gbdtRanker: ["rounds": 100, "max_depth": 6, "eta": 0.1, "seed": 42]
        }
    }
}

/// One named model: an algorithm and its hyperparameters (defaults filled in).
public struct ModelSpec: Sendable, Equatable {
    public var name: String
    public var algorithm: Algorithm
    public var parameters: [String: Double]

    public init(name: String, algorithm: Algorithm, parameters: [String: Double] = [:]) throws(StrataError) {
        self.name = name
        self.algorithm = algorithm
        self.parameters = algorithm.defaultParameters
        for (key, value) in parameters {
            guard self.parameters[key] != nil else {
                throw StrataError.invalid(
                    "unknown_parameter",
                    "\(algorithm.rawValue) has no parameter '\(key)'; it takes: \(algorithm.defaultParameters.keys.sorted().joined(separator: ", "))",
                    field: key)
            }
            guard value.isFinite else { throw StrataError.invalid("invalid_parameter", "'\(key)' must be a finite number", field: key) }
            self.parameters[key] = value
        }
    }

    public subscript(_ key: String) -> Double { parameters[key] ?? 0 }
    public func int(_ key: String) -> Int { Int(parameters[key] ?? 0) }
}

/// The `interactions` and `models` sections of `strata.yaml`.
public struct TrainingConfig: Sendable {
    public var interactions: InteractionPolicy
    public var models: [ModelSpec]

    public init(interactions: InteractionPolicy, models: [ModelSpec]) {
        self.interactions = interactions
        self.models = models
    }

    static func defaults(for contract: Contract) -> TrainingConfig {
        // Errors are impossible: the defaults use each algorithm's own parameter names.
        TrainingConfig(interactions: .defaults(for: contract), models: [try! ModelSpec(name: "als", algorithm: .als)])
    }

    init(root: ConfigNode, contract: Contract) throws(StrataError) {
        self = .defaults(for: contract)
        if let node = root["interactions"] {
            try node.checkKeys(["weights", "negative", "half_life"])
            if let weights = node["weights"] {
                var parsed: [String: Double] = [:]
                for (type, value) in try weights.entries() {
                    guard contract.eventType(named: type) != nil else {
                        throw value.error("'\(type)' is not a declared event type (declared: \(contract.eventTypes.map(\.name).joined(separator: ", ")))")
                    }
                    let weight = try value.double()
                    guard weight > 0 else { throw value.error("weights are positive; list negative signal under interactions.negative") }
                    parsed[type] = weight
                }
                interactions.weights = parsed
            }
            if let negative = node["negative"] {
                let types = try negative.stringList()
                for type in types where contract.eventType(named: type) == nil {
                    throw negative.error("'\(type)' is not a declared event type")
                }
                interactions.negativeTypes = Set(types)
                for type in types where interactions.weights[type] == nil { interactions.weights[type] = 1 }
            }
            if let halfLife = node["half_life"] { interactions.halfLifeMillis = try halfLife.durationMillis() }
        }
        if let node = root["models"] {
            var models: [ModelSpec] = []
            for (name, spec) in try node.entries() {
                guard let algorithmNode = spec["algorithm"] else {
                    throw spec.error(
                        "model '\(name)' needs an algorithm (\(Algorithm.recommenders.map(\.rawValue).joined(separator: ", ")))", code: "missing_config_key")
                }
                let algorithm = Algorithm(rawValue: try algorithmNode.oneOf(Algorithm.recommenders.map(\.rawValue)))!
                var parameters: [String: Double] = [:]
                for (key, value) in try spec.entries() where key != "algorithm" {
                    guard algorithm.defaultParameters[key] != nil else {
                        throw value.error(
                            "\(algorithm.rawValue) has no parameter '\(key)'; it takes: \(algorithm.defaultParameters.keys.sorted().joined(separator: ", "))")
                    }
                    parameters[key] = try value.double()
                }
                do {
                    models.append(try ModelSpec(name: name, algorithm: algorithm, parameters: parameters))
                } catch {
                    throw spec.error(error.message)
                }
            }
            self.models = models
        }
    }
}
