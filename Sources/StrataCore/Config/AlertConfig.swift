/// One alert rule (`alerts:` in strata.yaml): what is watched, the threshold, how long it must
/// hold before firing (`for`, like Prometheus), and what firing does.
public struct AlertRule: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// PSI of a feature (or `model_score`, or any) against the served model's baseline.
        case drift
        /// CTR of a variant over the window, relative drop against its CTR before the window.
        case ctrDrop = "ctr_drop"
        /// Features whose newest event is older than their freshness SLA.
        case freshness
        /// Share of failed recommendation requests over the window.
        case errorRate = "error_rate"
        /// Share of ingested events rejected over the window.
        case ingestRejections = "ingest_rejections"
    }

    public enum Action: Sendable, Equatable {
        case log
        /// POST a JSON payload (retried).
        case webhook(String)
        /// Start a training run of these models (nil: `retraining.models`), at most once per cooldown.
        case retrain
    }

    public var name: String
    public var kind: Kind
    public var threshold: Double
    public var forMillis: Int64
    public var feature: String?
    public var actions: [Action]
    public var cooldownMillis: Int64
    /// Impressions a variant needs in the window before its CTR is judged.
    public var minImpressions: Int

    public init(
        name: String, kind: Kind, threshold: Double, forMillis: Int64 = 0, feature: String? = nil, actions: [Action] = [.log],
        cooldownMillis: Int64 = 3_600_000,
        minImpressions: Int = 500
    ) {
        self.name = name
        self.kind = kind
        self.threshold = threshold
        self.forMillis = forMillis
        self.feature = feature
        self.actions = actions
        self.cooldownMillis = cooldownMillis
        self.minImpressions = minImpressions
    }

    static func parse(_ node: ConfigNode) throws(StrataError) -> [AlertRule] {
        var rules: [AlertRule] = []
        for item in try node.items() {
            try item.checkKeys(["name", "when", "threshold", "for", "feature", "actions", "cooldown", "min_impressions"])
            guard let nameNode = item["name"], let whenNode = item["when"] else {
                throw item.error("an alert needs a name and when", code: "missing_config_key")
            }
            let name = try nameNode.string()
            guard !rules.contains(where: { $0.name == name }) else { throw nameNode.error("two alerts are named '\(name)'") }
            let kind = Kind(rawValue: try whenNode.oneOf(Kind.allCases.map(\.rawValue)))!
            let defaults: [Kind: Double] = [.drift: 0.2, .ctrDrop: 0.3, .freshness: 0, .errorRate: 0.01, .ingestRejections: 0.05]
            var rule = AlertRule(name: name, kind: kind, threshold: try item["threshold"]?.double() ?? defaults[kind]!)
            if let v = item["for"] { rule.forMillis = try v.durationMillis() }
            if let v = item["feature"] { rule.feature = try v.string() }
            if let v = item["cooldown"] { rule.cooldownMillis = try v.durationMillis() }
            if let v = item["min_impressions"] { rule.minImpressions = max(1, try v.int()) }
            if let v = item["actions"] {
                rule.actions = []
                for action in try v.items() {
                    if let webhook = action["webhook"] {
                        let url = try webhook.string()
                        guard url.hasPrefix("http://") || url.hasPrefix("https://") else { throw webhook.error("a webhook is an http(s) URL") }
                        rule.actions.append(.webhook(url))
                    } else {
                        switch try action.oneOf(["log", "retrain"]) {
                        case "retrain": rule.actions.append(.retrain)
                        default: rule.actions.append(.log)
                        }
                    }
                }
            }
            rules.append(rule)
        }
        return rules
    }
}
