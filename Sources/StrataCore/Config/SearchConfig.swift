import Foundation

/// A hyperparameter search for one model (`search.<model>` in strata.yaml).
public struct SearchSpec: Sendable, Equatable {
    public enum Method: String, Sendable { case grid, random }

    /// How one parameter varies.
    public enum Dimension: Sendable, Equatable {
        case choice([Double])
        case uniform(Double, Double)
        case logUniform(Double, Double)
    }

    public var model: String
    public var method: Method
    /// Trials for random search (grid: every combination).
    public var trials: Int
    public var metric: String
    public var seed: UInt64
    /// Successive halving on `iterations`: start every trial at `minIterations`, keep the best
    /// 1/`factor` at each rung with `factor` times the iterations, up to the model's own.
    public var halving: (minIterations: Int, factor: Int)?
    public var space: [String: Dimension]

    public static func == (lhs: SearchSpec, rhs: SearchSpec) -> Bool {
        lhs.model == rhs.model && lhs.method == rhs.method && lhs.trials == rhs.trials && lhs.metric == rhs.metric && lhs.seed == rhs.seed
            && lhs.halving?.minIterations == rhs.halving?.minIterations && lhs.halving?.factor == rhs.halving?.factor && lhs.space == rhs.space
    }

    /// The parameter sets to try, in a deterministic order.
    public func candidates() -> [[String: Double]] {
        let names = space.keys.sorted()
        switch method {
        case .grid:
            var combinations: [[String: Double]] = [[:]]
            for name in names {
                guard case .choice(let values) = space[name]! else { continue }
                combinations = combinations.flatMap { partial in values.map { partial.merging([name: $0]) { $1 } } }
            }
            return combinations
        case .random:
            var rng = SplitMix64(seed: seed)
            return (0..<trials).map { _ in
                var parameters: [String: Double] = [:]
                for name in names {
                    switch space[name]! {
                    case .choice(let values): parameters[name] = values[rng.nextInt(below: values.count)]
                    case .uniform(let low, let high): parameters[name] = low + rng.nextDouble() * (high - low)
                    case .logUniform(let low, let high): parameters[name] = exp(log(low) + rng.nextDouble() * (log(high) - log(low)))
                    }
                }
                return parameters
            }
        }
    }

    init(model: ModelSpec, node: ConfigNode) throws(StrataError) {
        try node.checkKeys(["method", "trials", "metric", "seed", "halving", "space"])
        self.model = model.name
        method = try node["method"].map { (v) throws(StrataError) in Method(rawValue: try v.oneOf(["grid", "random"]))! } ?? .random
        trials = try node["trials"]?.int() ?? 8
        guard (1...1000).contains(trials) else { throw (node["trials"] ?? node).error("trials must be between 1 and 1000") }
        metric = try node["metric"]?.string() ?? "ndcg@10"
        seed = UInt64(max(0, try node["seed"]?.int() ?? 1))
        if let halvingNode = node["halving"] {
            try halvingNode.checkKeys(["min_iterations", "factor"])
            let minimum = try halvingNode["min_iterations"]?.int() ?? 1
            let factor = try halvingNode["factor"]?.int() ?? 2
            guard model.parameters["iterations"] != nil else {
                throw halvingNode.error("halving needs an iterative algorithm (als, bpr); \(model.algorithm.rawValue) has no iterations")
            }
            guard minimum >= 1, factor >= 2 else { throw halvingNode.error("min_iterations ≥ 1 and factor ≥ 2") }
            halving = (minimum, factor)
        }
        guard let spaceNode = node["space"] else {
            throw node.error("needs a space: parameter: [values] | {uniform: [low, high]} | {log_uniform: [low, high]}")
        }
        var space: [String: Dimension] = [:]
        for (key, dimension) in try spaceNode.entries() {
            guard model.parameters[key] != nil else {
                throw dimension.error(
                    "\(model.algorithm.rawValue) has no parameter '\(key)'; it takes: \(model.parameters.keys.sorted().joined(separator: ", "))")
            }
            if let list = try? dimension.items() {
                let values = try list.map { (item) throws(StrataError) in try item.double() }
                guard !values.isEmpty else { throw dimension.error("an empty list of values") }
                space[key] = .choice(values)
            } else {
                try dimension.checkKeys(["uniform", "log_uniform"])
                let logScale = dimension["log_uniform"] != nil
                guard let rangeNode = dimension["log_uniform"] ?? dimension["uniform"] else {
                    throw dimension.error("a list of values, {uniform: [low, high]} or {log_uniform: [low, high]}")
                }
                let bounds = try rangeNode.items().map { (item) throws(StrataError) in try item.double() }
                guard bounds.count == 2, bounds[0] < bounds[1], !logScale || bounds[0] > 0 else {
                    throw rangeNode.error("[low, high] with low < high\(logScale ? " and low > 0" : "")")
                }
                guard method == .random else { throw dimension.error("grid search takes lists of values only") }
                space[key] = logScale ? .logUniform(bounds[0], bounds[1]) : .uniform(bounds[0], bounds[1])
            }
        }
        guard !space.isEmpty else { throw spaceNode.error("the space is empty") }
        self.space = space
        if method == .grid { trials = candidates().count }
    }
}
