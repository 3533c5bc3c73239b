/// Layer 5: how recommendations are served (`serving:` in strata.yaml).
public struct ServingConfig: Sendable {
    /// The model whose production version the default deployment serves.
    public var model: String?
    /// The deployment requests use when they name none.
    public var deployment = "default"
    /// Items precomputed per known user and variant.
    public var cacheTopN = 50
    /// A cached list older than this is stale (the live model answers).
    public var cacheTTLMillis: Int64 = 86_400_000
    /// How often the batch job recomputes the cache (0: only after promotions and on request).
    public var precomputeIntervalMillis: Int64 = 3_600_000
    /// Which users the batch job precomputes, and with how many threads.
    public var precompute = PrecomputeSettings()
    /// The user feature holding their most recent items (a `recent_items` feature).
    public var recentItemsFeature: String?
    /// Items impressed to a user within this window are not recommended again (0: off).
    public var impressedExclusionMillis: Int64 = 0
    /// Trending items: interactions of this many recent milliseconds, decayed by the half-life.
    public var trendingHalfLifeMillis: Int64 = 86_400_000
    /// Which of a user's past interactions are never recommended back, by every path.
    public var excludeSeen = SeenExclusion.all
    /// Approximate nearest-neighbour retrieval over large catalogues.
    public var ann = ANNSettings()
    /// The largest `n` a request may ask for.
    public var maxN = 100
    /// How often replicas look for deployment changes made elsewhere.
    public var watchIntervalMillis: Int64 = 250
    /// Share of requests a shadow variant also scores.
    public var shadowFraction = 1.0
    public var canary = CanaryGuardrails()
    public var experiments = ExperimentSettings()

    public init() {}

    init(node: ConfigNode, models: [String], features: [FeatureDefinition], interactionTypes: Set<String>) throws(StrataError) {
        try node.checkKeys([
            "model", "deployment", "cache_top_n", "cache_ttl", "precompute_interval", "precompute", "recent_items_feature", "exclude_impressed",
            "trending_half_life",
            "exclude_seen", "ann", "max_n", "watch_interval", "shadow_fraction", "canary", "experiments",
        ])
        if let v = node["model"] {
            let name = try v.string()
            guard models.contains(name) else { throw v.error("'\(name)' is not a model of this file (models: \(models.joined(separator: ", ")))") }
            model = name
        }
        if let v = node["deployment"] { deployment = try v.string() }
        if let v = node["cache_top_n"] {
            cacheTopN = try v.int()
            guard (1...1000).contains(cacheTopN) else { throw v.error("cache_top_n must be between 1 and 1000") }
        }
        if let v = node["cache_ttl"] { cacheTTLMillis = try v.durationMillis() }
        if let v = node["precompute_interval"] { precomputeIntervalMillis = try v.string() == "off" ? 0 : try v.durationMillis() }
        if let v = node["precompute"] { precompute = try PrecomputeSettings(node: v) }
        if let v = node["recent_items_feature"] {
            let name = try v.string()
            guard let feature = features.first(where: { $0.name == name }), feature.aggregation == .recentItems, feature.entity == .user else {
                throw v.error("'\(name)' is not a user feature with aggregation recent_items")
            }
            recentItemsFeature = name
        }
        if let v = node["exclude_impressed"] { impressedExclusionMillis = try v.string() == "off" ? 0 : try v.durationMillis() }
        if let v = node["trending_half_life"] { trendingHalfLifeMillis = max(1, try v.durationMillis()) }
        if let v = node["exclude_seen"] { excludeSeen = try SeenExclusion(node: v, interactionTypes: interactionTypes) }
        if let v = node["ann"] { ann = try ANNSettings(node: v) }
        if let v = node["max_n"] {
            maxN = try v.int()
            guard (1...1000).contains(maxN) else { throw v.error("max_n must be between 1 and 1000") }
        }
        if let v = node["watch_interval"] { watchIntervalMillis = max(50, try v.durationMillis()) }
        if let v = node["shadow_fraction"] {
            shadowFraction = try v.double()
            guard (0...1).contains(shadowFraction) else { throw v.error("shadow_fraction must be between 0 and 1") }
        }
        if let v = node["canary"] { canary = try CanaryGuardrails(node: v) }
        if let v = node["experiments"] { experiments = try ExperimentSettings(node: v) }
    }
}

/// Which of a user's past interactions keep an item out of their recommendations
/// (`serving.exclude_seen`): every interaction type of `interactions.weights` (the default),
/// none (shops where buying again is welcome), or the listed types only (say, purchased and
/// rated items, while viewed ones may come back). Items the user hid are excluded whatever
/// this says.
public enum SeenExclusion: Sendable, Equatable {
    case all
    case none
    case types(Set<String>)

    /// The event types whose items are excluded, among `interactionTypes`.
    public func excludedTypes(of interactionTypes: some Sequence<String>) -> Set<String> {
        switch self {
        case .all: Set(interactionTypes)
        case .none: []
        case .types(let types): Set(interactionTypes).intersection(types)
        }
    }

    init(node: ConfigNode, interactionTypes: Set<String>) throws(StrataError) {
        if let list = try? node.items() {
            var types: Set<String> = []
            for item in list {
                let type = try item.string()
                guard interactionTypes.contains(type) else {
                    throw item.error("'\(type)' is not an interaction type (interactions.weights: \(interactionTypes.sorted().joined(separator: ", ")))")
                }
                types.insert(type)
            }
            self = .types(types)
            return
        }
        switch try node.string() {
        case "all": self = .all
        case "none": self = .none
        default: throw node.error("exclude_seen is all, none, or a list of interaction types (e.g. [purchase, rate])")
        }
    }
}

/// The batch job (`serving.precompute`): it precomputes the users who interacted (by ingestion
/// time) within `activeWindowMillis` — the ones likely to come back — most recent first; others
/// are answered live. Runs are incremental (a list still fresh is kept) and resumable (lists are
/// checkpointed as they are computed).
public struct PrecomputeSettings: Sendable, Equatable {
    /// 0: every user the model was trained on.
    public var activeWindowMillis: Int64 = 30 * 86_400_000
    /// Threads of the batch job (the rest of the cores answer requests meanwhile).
    public var threads = 1

    public init() {}

    init(node: ConfigNode) throws(StrataError) {
        try node.checkKeys(["active_window", "threads"])
        if let v = node["active_window"] { activeWindowMillis = try v.string() == "off" ? 0 : try v.durationMillis() }
        if let v = node["threads"] {
            threads = try v.int()
            guard (1...256).contains(threads) else { throw v.error("threads is between 1 and 256") }
        }
    }
}

/// Approximate nearest-neighbour retrieval (`serving.ann`): factor models (ALS, BPR) trained on
/// at least `exactBelow` items get an HNSW index over their item vectors, built at training and
/// kept in the artifact, that the live path, similar items and the batch job search instead of
/// scoring the whole catalogue; its recall@10 against exact search is measured on a sample of
/// users, and the gate refuses a version below `minRecall`.
public struct ANNSettings: Sendable, Equatable {
    public var m = 32
    public var efConstruction = 200
    public var efSearch = 200
    public var exactBelow = 20_000
    public var minRecall = 0.95

    public init() {}

    init(node: ConfigNode) throws(StrataError) {
        try node.checkKeys(["m", "ef_construction", "ef_search", "exact_below", "min_recall"])
        if let v = node["m"] {
            m = try v.int()
            guard (2...256).contains(m) else { throw v.error("m is between 2 and 256 (32 is the default)") }
        }
        if let v = node["ef_construction"] { efConstruction = max(8, try v.int()) }
        if let v = node["ef_search"] { efSearch = max(8, try v.int()) }
        if let v = node["exact_below"] { exactBelow = max(0, try v.int()) }
        if let v = node["min_recall"] {
            minRecall = try v.double()
            guard (0...1).contains(minRecall) else { throw v.error("min_recall is between 0 and 1") }
        }
    }
}

/// What a canary must not breach, judged over each step (a breach rolls it back).
public struct CanaryGuardrails: Sendable, Equatable {
    /// The canary's share of failed requests (a failed request is answered by the control).
    public var maxErrorRate = 0.01
    /// Requests the canary must have served before its error rate and latency are judged.
    public var minRequests = 20
    /// The canary's 99th percentile latency.
    public var maxP99Millis = 50.0
    /// How much lower than the control's its CTR may be (relative), once both have
    /// `minImpressions` and the drop is significant.
    public var maxCTRDrop = 0.2
    public var minImpressions = 500

    public init() {}

    init(node: ConfigNode) throws(StrataError) {
        try node.checkKeys(["max_error_rate", "min_requests", "max_p99", "max_ctr_drop", "min_impressions"])
        if let v = node["max_error_rate"] { maxErrorRate = try v.double() }
        if let v = node["min_requests"] { minRequests = max(1, try v.int()) }
        if let v = node["max_p99"] { maxP99Millis = Double(try v.durationMillis()) }
        if let v = node["max_ctr_drop"] { maxCTRDrop = try v.double() }
        if let v = node["min_impressions"] { minImpressions = max(1, try v.int()) }
    }
}

/// When an A/B report states a verdict.
public struct ExperimentSettings: Sendable, Equatable {
    /// Impressions every variant needs before a verdict.
    public var minImpressions = 1000
    /// The false-positive rate of the sequential test, over every look and every treatment.
    public var alpha = 0.05
    /// The sequential test's mixing scale: the effect it is most sensitive to, as a share of
    /// the control's value (0.1: a 10% relative lift).
    public var mixingLift = 0.1

    public init() {}

    init(node: ConfigNode) throws(StrataError) {
        try node.checkKeys(["min_impressions", "alpha", "mixing_lift"])
        if let v = node["mixing_lift"] {
            mixingLift = try v.double()
            guard mixingLift > 0 else { throw v.error("mixing_lift is a positive share of the control's value, e.g. 0.1") }
        }
        if let v = node["min_impressions"] { minImpressions = max(1, try v.int()) }
        if let v = node["alpha"] {
            alpha = try v.double()
            guard alpha > 0 && alpha < 0.5 else { throw v.error("alpha must be between 0 and 0.5") }
        }
    }
}
