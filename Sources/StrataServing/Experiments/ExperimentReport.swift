import StrataCore

/// An A/B report that may be read at any time. Per variant: impressions, clicks and CTR with a
/// 95% interval, conversion and revenue per user — each analysed per user, the unit assignment
/// randomises (CTR as a ratio metric by the delta method, the others as per-user means); and,
/// against the control, an always-valid p-value and confidence sequence from the mixture SPRT
/// (`SequentialComparison`), so that looking again and again (the dashboard polls every two
/// seconds) does not inflate false positives, corrected with Holm's method for the number of
/// treatments. A plain-language verdict on CTR only once every variant has the minimum of
/// impressions.
public struct ExperimentReport: Sendable {
    public struct Row: Sendable {
        public var variant: String
        public var reference: String?
        public var weight: Double?
        public var counts: ArmSummary
        public var ctr: Double
        /// 95% interval of the variant's own CTR (per user, delta method; for one look).
        public var ctrInterval: (low: Double, high: Double)
        public var conversion: Double
        public var revenuePerUser: Double
        /// Against the control (nil for the control): always-valid p-values, Holm-adjusted
        /// over the treatments, for CTR, conversion and revenue per user.
        public var pValue: Double?
        public var conversionPValue: Double?
        public var revenuePValue: Double?
        /// The always-valid p-value of CTR before the correction for several treatments.
        public var unadjustedPValue: Double?
        public var liftOverControl: Double?
        /// The always-valid confidence sequence of the CTR lift, relative to the control.
        public var liftInterval: (low: Double, high: Double)?
        public var significant: Bool
    }

    public var deployment: String
    public var control: String
    public var rows: [Row]
    public var minImpressions: Int
    public var alpha: Double
    public var enoughData: Bool
    public var verdict: String
    static let method =
        "per-user analysis (CTR by the delta method); mixture SPRT always-valid p-values and confidence sequences (Johari et al. 2017), Holm-corrected over treatments"

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
        let controlCTR = UserLevelMetrics.ctr(controlCounts)
        let treatments = names.filter { $0 != control }
        func compare(_ metric: (ArmSummary) -> Estimate) -> [Double] {
            Holm.adjust(
                treatments.map { name in
                    SequentialComparison(
                        treatment: metric(counts[name] ?? ArmSummary(impressions: 0, clicks: 0)), control: metric(controlCounts),
                        mixingLift: settings.mixingLift, alpha: settings.alpha
                    ).pValue
                })
        }
        let ctrP = compare(UserLevelMetrics.ctr)
        let conversionP = compare(UserLevelMetrics.conversion)
        let revenueP = compare(UserLevelMetrics.revenuePerUser)
        let enough = names.count > 1 && names.allSatisfy { (counts[$0]?.impressions ?? 0) >= settings.minImpressions }
        rows = names.map { name in
            let arm = counts[name] ?? ArmSummary(impressions: 0, clicks: 0)
            let ctr = UserLevelMetrics.ctr(arm)
            let described = variants.first { $0.name == name }
            var row = Row(
                variant: name, reference: described?.reference, weight: described?.weight, counts: arm, ctr: ctr.value,
                ctrInterval: ctr.variance.isFinite ? ctr.interval95 : (0, 1), conversion: UserLevelMetrics.conversion(arm).value,
                revenuePerUser: UserLevelMetrics.revenuePerUser(arm).value, pValue: nil, conversionPValue: nil, revenuePValue: nil, unadjustedPValue: nil,
                liftOverControl: nil, liftInterval: nil, significant: false)
            if let index = treatments.firstIndex(of: name) {
                let comparison = SequentialComparison(treatment: ctr, control: controlCTR, mixingLift: settings.mixingLift, alpha: settings.alpha)
                row.pValue = ctrP[index]
                row.unadjustedPValue = comparison.pValue
                row.conversionPValue = conversionP[index]
                row.revenuePValue = revenueP[index]
                if controlCTR.value > 0, comparison.interval.low.isFinite, comparison.interval.high.isFinite {
                    row.liftInterval = (comparison.interval.low / controlCTR.value, comparison.interval.high / controlCTR.value)
                }
                if controlCTR.value > 0 { row.liftOverControl = ctr.value / controlCTR.value - 1 }
                row.significant = enough && ctrP[index] <= settings.alpha
            }
            return row
        }
        enoughData = enough
        verdict = Self.verdict(rows: rows, control: control, enoughData: enough, settings: settings)
    }

    static func verdict(rows: [Row], control: String, enoughData: Bool, settings: ExperimentSettings) -> String {
        guard rows.count > 1 else { return "Only one variant is deployed: nothing to compare." }
        guard enoughData else {
            let short = rows.filter { $0.counts.impressions < settings.minImpressions }.map { "\($0.variant) has \($0.counts.impressions)" }
            return "Not enough data yet: every variant needs \(settings.minImpressions) impressions (\(short.joined(separator: ", ")))."
        }
        let confidence = Int(((1 - settings.alpha) * 100).rounded())
        let controlCTR = rows.first { $0.variant == control }?.ctr ?? 0
        var sentences: [String] = []
        for row in rows where row.variant != control {
            guard let p = row.pValue else { continue }
            let lift = row.liftOverControl.map { String(format: "%+.1f%%", $0 * 100) } ?? "n/a"
            let range = row.liftInterval.map { String(format: " [%+.1f%%, %+.1f%%]", $0.low * 100, $0.high * 100) } ?? ""
            if row.significant {
                let direction = (row.liftOverControl ?? 0) > 0 ? "better" : "worse"
                sentences.append(
                    "\(row.variant) is \(direction) than \(control): CTR \(String(format: "%.2f%%", row.ctr * 100)) vs \(String(format: "%.2f%%", controlCTR * 100)) (\(lift)\(range)), significant at \(confidence)% (always-valid p = \(String(format: "%.4f", p)))."
                )
            } else {
                sentences.append(
                    "No significant difference between \(row.variant) and \(control) yet (\(lift)\(range), always-valid p = \(String(format: "%.3f", p)) > \(settings.alpha))."
                )
            }
        }
        return sentences.joined(separator: " ")
    }

    public var json: JSONValue {
        [
            "deployment": .string(deployment), "control": .string(control), "min_impressions": .int(Int64(minImpressions)), "alpha": .double(alpha),
            "method": .string(Self.method), "enough_data": .bool(enoughData), "verdict": .string(verdict),
            "variants": .array(
                rows.map { row in
                    [
                        "variant": .string(row.variant), "model": row.reference.map(JSONValue.string) ?? .null,
                        "weight": row.weight.map(JSONValue.double) ?? .null,
                        "impressions": .int(Int64(row.counts.impressions)), "clicks": .int(Int64(row.counts.clicks)), "ctr": .double(row.ctr),
                        "ctr_95": .array([.double(row.ctrInterval.low), .double(row.ctrInterval.high)]), "users": .int(Int64(row.counts.users)),
                        "purchases": .int(Int64(row.counts.purchases)), "conversion": .double(row.conversion), "revenue": .double(row.counts.revenue),
                        "revenue_per_user": .double(row.revenuePerUser), "p_value": row.pValue.map(JSONValue.double) ?? .null,
                        "p_value_unadjusted": row.unadjustedPValue.map(JSONValue.double) ?? .null,
                        "conversion_p_value": row.conversionPValue.map(JSONValue.double) ?? .null,
                        "revenue_per_user_p_value": row.revenuePValue.map(JSONValue.double) ?? .null,
                        "lift": row.liftOverControl.map(JSONValue.double) ?? .null,
                        "lift_interval": row.liftInterval.map { .array([.double($0.low), .double($0.high)]) } ?? .null,
                        "significant": .bool(row.significant),
                    ]
                }),
        ]
    }
}
