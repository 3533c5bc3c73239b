import StrataCore

/// The parts of `strata.yaml` serving reads, taken from the configuration once by whoever wires
/// serving (the server, the CLI), so no serving component reaches for the whole file.
public struct ServingSettings: Sendable {
    /// `serving`: deployments, cache, limits, exclusions, experiments.
    public var serving: ServingConfig
    /// `training.interactions`: which events are interactions, their weights and the negatives.
    public var interactions: InteractionPolicy
    /// `monitoring.window`: the width of the quality window (serving activity keeps its buckets).
    public var monitoringWindowMillis: Int64
    /// The model a new default deployment serves: `serving.model`, else the first retrained
    /// model, else the first trained one that is not popularity.
    public var defaultModel: String?
    /// The re-ranker whose production version serving applies (nil: none configured).
    public var reranker: String?
    /// The user feature holding recent items (live fold-in): `serving.recent_items_feature`, else
    /// a lifetime `recent_items` user feature, else any.
    public var recentItemsFeature: String?

    public init(_ config: StrataConfig) {
        self.serving = config.serving
        self.interactions = config.training.interactions
        self.monitoringWindowMillis = config.monitoring.windowMillis
        let models = config.training.models
        self.defaultModel =
            config.serving.model ?? config.retraining.models?.first ?? models.first { $0.algorithm != .popularity }?.name ?? models.first?.name
        self.reranker = config.reranker?.name
        let features = config.contract.features
        self.recentItemsFeature =
            config.serving.recentItemsFeature
            ?? features.first { $0.entity == .user && $0.aggregation == .recentItems && $0.window == .lifetime }?.name
            ?? features.first { $0.entity == .user && $0.aggregation == .recentItems }?.name
    }
}
