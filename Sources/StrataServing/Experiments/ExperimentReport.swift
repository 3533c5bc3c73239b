import StrataCore

/// An A/B report: per variant, impressions, clicks, CTR with its 95% interval, conversion and
/// revenue per user (the business metric, from purchases carrying a price), and the
/// two-proportion z-test of its CTR against the control's; a plain-language verdict only once
/// every variant has the minimum of impressions.
public struct ExperimentReport: Sendable {
    public struct Row: Sendable {
        public var variant: String
        public var reference: String?
        public var weight: Double?
        public var counts: ArmSummary
        public var ctr: Double
        public var ctrInterval: (low: Double, high: Double)
        public var conversion: Double
        public var revenuePerUser: Double
        /// Against the control (nil for the control).
        public var pValue: Double?
        public var liftOverControl: Double?
        public var significant: Bool
    }

    public var deployment: String
    public var control: String
    public var rows: [Row]
    public var minImpressions: Int
    public var alpha: Double
    public var enoughData: Bool
    public var verdict: String

    public init(
        deployment: String, variants: [(name: String, reference: String?, weight: Double?)], counts: [String: ArmSummary], settings: ExperimentSettings
    ) {
        self.deployment = deployment
        self.minImpressions = settings.minImpressions
        self.alpha = settings.alpha
        // Variants that are no longer deployed still report what they gathered.
        var names = variants.map(\.name)
        for name in counts.keys.sorted() where !names.contains(name) { names.append(name) }
        let control = names.first ?? "A"
        self.control = control
        let controlCounts = counts[control] ?? ArmSummary(impressions: 0, clicks: 0)
        let controlCTR = controlCounts.impressions > 0 ? Double(controlCounts.clicks) / Double(controlCounts.impressions) : 0
        rows = names.map { name in
            let arm = counts[name] ?? ArmSummary(impressions: 0, clicks: 0)
            let ctr = arm.impressions > 0 ? Double(arm.clicks) / Double(arm.impressions) : 0
            let isControl = name == control
            let p = isControl ? nil : Proportions.twoSidedPValue(arm.clicks, arm.impressions, controlCounts.clicks, controlCounts.impressions)
            let described = variants.first { $0.name == name }
            return Row(
                variant: name, reference: described?.reference, weight: described?.weight, counts: arm, ctr: ctr,
                ctrInterval: Proportions.wilson95(min(arm.clicks, arm.impressions), arm.impressions),
                conversion: arm.users > 0 ? Double(arm.purchasers) / Double(arm.users) : 0,
                revenuePerUser: arm.users > 0 ? arm.revenue / Double(arm.users) : 0, pValue: p,
                liftOverControl: isControl || controlCTR == 0 ? nil : ctr / controlCTR - 1, significant: p.map { $0 < settings.alpha } ?? false)
        }
        enoughData = rows.count > 1 && rows.allSatisfy { $0.counts.impressions >= settings.minImpressions }
        verdict = Self.verdict(rows: rows, control: control, enoughData: enoughData, settings: settings)
    }

    static func verdict(rows: [Row], control: String, enoughData: Bool, settings: ExperimentSettings) -> String {
        guard rows.count > 1 else { return "Only one variant is deployed: nothing to compare." }
        guard enoughData else {
            let short = rows.filter { $0.counts.impressions < settings.minImpressions }.map { "\($0.variant) has \($0.counts.impressions)" }
            return "Not enough data yet: every variant needs \(settings.minImpressions) impressions (\(short.joined(separator: ", ")))."
        }
        let confidence = Int(((1 - settings.alpha) * 100).rounded())
        var sentences: [String] = []
        for row in rows where row.variant != control {
            guard let p = row.pValue else { continue }
            let lift = row.liftOverControl.map { String(format: "%+.1f%%", $0 * 100) } ?? "n/a"
            if row.significant {
                let direction = (row.liftOverControl ?? 0) > 0 ? "better" : "worse"
                sentences.append(
                    "\(row.variant) is \(direction) than \(control): CTR \(String(format: "%.2f%%", row.ctr * 100)) vs \(String(format: "%.2f%%", (rows.first { $0.variant == control }?.ctr ?? 0) * 100)) (\(lift)), significant at \(confidence)% (p = \(String(format: "%.4f", p)))."
                )
            } else {
                sentences.append(
                    "No significant difference between \(row.variant) and \(control) yet (\(lift), p = \(String(format: "%.3f", p)) ≥ \(settings.alpha)).")
            }
        }
        return sentences.joined(separator: " ")
    }

    public var json: JSONValue {
        [
            "deployment": .string(deployment), "control": .string(control), "min_impressions": .int(Int64(minImpressions)), "alpha": .double(alpha),
            "enough_data": .bool(enoughData), "verdict": .string(verdict),
            "variants": .array(
                rows.map { row in
                    [
                        "variant": .string(row.variant), "model": row.reference.map(JSONValue.string) ?? .null,
                        "weight": row.weight.map(JSONValue.double) ?? .null,
                        "impressions": .int(Int64(row.counts.impressions)), "clicks": .int(Int64(row.counts.clicks)), "ctr": .double(row.ctr),
                        "ctr_95": .array([.double(row.ctrInterval.low), .double(row.ctrInterval.high)]), "users": .int(Int64(row.counts.users)),
                        "purchases": .int(Int64(row.counts.purchases)), "conversion": .double(row.conversion), "revenue": .double(row.counts.revenue),
                        "revenue_per_user": .double(row.revenuePerUser), "p_value": row.pValue.map(JSONValue.double) ?? .null,
                        "lift": row.liftOverControl.map(JSONValue.double) ?? .null, "significant": .bool(row.significant),
                    ]
                }),
        ]
    }
}
