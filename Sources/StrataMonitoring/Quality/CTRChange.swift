import StrataCore
import StrataServing

/// A variant's CTR in the monitoring window against the same variant before it, per user, with
/// the always-valid test of the A/B report (`SequentialComparison`): the quality check and the
/// `ctr_drop` alert look at it every interval, so a drop counts only when it is significant
/// whenever it is looked at. The two periods share users; treating them as independent samples
/// overstates the variance of the difference when a user's CTR is stable over time (positive
/// covariance), which makes the test conservative rather than over-confident.
public struct CTRChange: Sendable {
    public var recent: ArmSummary
    public var before: ArmSummary
    public var recentCTR: Estimate
    public var beforeCTR: Estimate
    /// Relative change of CTR (nil without a baseline CTR).
    public var change: Double?
    /// Always-valid p-value of the difference.
    public var pValue: Double
    /// Whether both periods have the minimum of impressions.
    public var judged: Bool

    public static func measure(
        _ activity: ServingActivity, deployment: String, variant: String, windowStart: Int64, minImpressions: Int, experiments: ExperimentSettings
    ) -> CTRChange {
        let (recent, before) = activity.quality(deployment: deployment, variant: variant, windowStart: windowStart)
        let recentCTR = UserLevelMetrics.ctr(recent)
        let beforeCTR = UserLevelMetrics.ctr(before)
        let test = SequentialComparison(treatment: recentCTR, control: beforeCTR, mixingLift: experiments.mixingLift, alpha: experiments.alpha)
        return CTRChange(
            recent: recent, before: before, recentCTR: recentCTR, beforeCTR: beforeCTR,
            change: beforeCTR.value > 0 && recent.impressions > 0 ? recentCTR.value / beforeCTR.value - 1 : nil, pValue: test.pValue,
            judged: recent.impressions >= minImpressions && before.impressions >= minImpressions)
    }

    /// The relative drop when it is judged and significant at `alpha`, else 0 (no drop declared).
    public func significantDrop(alpha: Double) -> Double {
        guard judged, let change, change < 0, pValue <= alpha else { return 0 }
        return -change
    }
}
