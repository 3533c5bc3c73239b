/// Layer 6: drift and quality monitoring (`monitoring:` in strata.yaml).
public struct MonitoringConfig: Sendable, Equatable {
    /// The live window compared with the training baseline.
    public var windowMillis: Int64 = 3_600_000
    /// PSI above which a feature (or the score distribution) is drifting.
    public var psiThreshold = 0.2
    /// Per-feature PSI thresholds (override `psi_threshold`).
    public var featureThresholds: [String: Double] = [:]
    /// Live values needed before a distribution is judged.
    public var minSamples = 50
    /// Impressions a variant needs in the window and before it before its CTR is judged.
    public var minImpressions = 500
    /// A variant whose CTR in the window is this much lower (relative) than before is degraded.
    public var ctrDrop = 0.3
    /// How often drift is recomputed and alerts are evaluated.
    public var intervalMillis: Int64 = 60_000

    public init() {}

    init(node: ConfigNode, contract: Contract) throws(StrataError) {
        try node.checkKeys(["window", "psi_threshold", "thresholds", "min_samples", "interval", "min_impressions", "ctr_drop"])
        if let v = node["min_impressions"] { minImpressions = max(1, try v.int()) }
        if let v = node["ctr_drop"] { ctrDrop = try v.double() }
        if let v = node["interval"] { intervalMillis = max(100, try v.durationMillis()) }
        if let v = node["window"] { windowMillis = max(1000, try v.durationMillis()) }
        if let v = node["psi_threshold"] { psiThreshold = try v.double() }
        if let v = node["thresholds"] {
            for (name, value) in try v.entries() {
                guard contract.features.contains(where: { $0.name == name }) else { throw value.error("'\(name)' is not a feature of this file") }
                featureThresholds[name] = try value.double()
            }
        }
        if let v = node["min_samples"] { minSamples = max(1, try v.int()) }
    }
}
