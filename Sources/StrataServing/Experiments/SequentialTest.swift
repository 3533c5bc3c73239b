import Foundation

/// An estimate and the variance of the estimator.
public struct Estimate: Sendable, Equatable {
    public var value: Double
    public var variance: Double

    /// The 95% interval of a normal approximation (fixed sample: one look).
    public var interval95: (low: Double, high: Double) {
        let half = 1.959963984540054 * variance.squareRoot()
        return (value - half, value + half)
    }
}

/// Metrics whose unit of analysis is the user (whom assignment randomises), not the impression:
/// one heavy user's impressions are not independent, so counting them as such makes intervals
/// too narrow.
public enum UserLevelMetrics {
    /// Click-through rate Σclicks/Σimpressions as a ratio of per-user means, its variance by
    /// the delta method (Deng, Knoblich, Lu 2018, "Applying the Delta Method in Metric
    /// Analytics", KDD): Var(ȳ/x̄) ≈ (s²_y − 2R·s_xy + R²·s²_x) / (N·x̄²) over users' (x, y) =
    /// (impressions, clicks).
    public static func ctr(_ arm: ArmSummary) -> Estimate {
        let n = Double(arm.users)
        guard arm.users > 1, arm.impressions > 0 else { return Estimate(value: 0, variance: .infinity) }
        let meanX = Double(arm.impressions) / n
        let meanY = Double(arm.clicks) / n
        let ratio = meanY / meanX
        let varX = max(0, (arm.impressionsSquared - n * meanX * meanX) / (n - 1))
        let varY = max(0, (arm.clicksSquared - n * meanY * meanY) / (n - 1))
        let covXY = (arm.impressionsClicks - n * meanX * meanY) / (n - 1)
        let variance = max(0, varY - 2 * ratio * covXY + ratio * ratio * varX) / (n * meanX * meanX)
        return Estimate(value: ratio, variance: variance)
    }

    /// Conversion: the share of the arm's users who bought.
    public static func conversion(_ arm: ArmSummary) -> Estimate {
        mean(sum: Double(arm.purchasers), sumOfSquares: Double(arm.purchasers), users: arm.users)
    }

    /// Revenue per user.
    public static func revenuePerUser(_ arm: ArmSummary) -> Estimate {
        mean(sum: arm.revenue, sumOfSquares: arm.revenueSquared, users: arm.users)
    }

    /// A per-user mean and the variance of the sample mean.
    static func mean(sum: Double, sumOfSquares: Double, users: Int) -> Estimate {
        let n = Double(users)
        guard users > 1 else { return Estimate(value: users == 1 ? sum : 0, variance: .infinity) }
        let mean = sum / n
        return Estimate(value: mean, variance: max(0, (sumOfSquares - n * mean * mean) / (n - 1)) / n)
    }
}

/// A comparison of a treatment's estimate with the control's that stays valid however often it
/// is looked at: the mixture sequential probability ratio test (mSPRT) of Johari, Koomen,
/// Pekelis and Walsh (2017), "Peeking at A/B Tests: Why it matters, and what to do about it"
/// (KDD), on the difference θ = treatment − control, approximately normal with variance
/// V = Var(treatment) + Var(control), and a normal mixing distribution N(0, τ²) over θ:
///
///   Λ = √(V / (V + τ²)) · exp(θ̂² τ² / (2 V (V + τ²)))
///
/// Under no difference Λ is a non-negative martingale with mean 1, so by Ville's inequality
/// P(Λ ever ≥ 1/α) ≤ α: `pValue` = min(1, 1/Λ) may be read at every look (the dashboard polls
/// it every two seconds) and a verdict reached at any of them keeps its false-positive rate. The
/// matching always-valid confidence sequence is θ̂ ± √(V(V+τ²)/τ² · (2 ln(1/α) + ln((V+τ²)/V))).
/// τ is stated as a share of the control's value (`mixingLift`, 10% by default): the size of
/// effect the test is most sensitive to.
public struct SequentialComparison: Sendable, Equatable {
    public var difference: Double
    public var variance: Double
    /// Always-valid p-value (before any correction for several treatments).
    public var pValue: Double
    /// Always-valid confidence sequence of the difference at level 1 − alpha.
    public var interval: (low: Double, high: Double)

    public static func == (a: SequentialComparison, b: SequentialComparison) -> Bool {
        a.difference == b.difference && a.variance == b.variance && a.pValue == b.pValue && a.interval == b.interval
    }

    public init(treatment: Estimate, control: Estimate, mixingLift: Double, alpha: Double) {
        difference = treatment.value - control.value
        variance = treatment.variance + control.variance
        let tau = mixingLift * max(abs(control.value), 1e-12)
        let tau2 = tau * tau
        guard variance.isFinite, variance > 0, tau2 > 0 else {
            pValue = 1
            interval = (-.infinity, .infinity)
            return
        }
        let logLambda = 0.5 * log(variance / (variance + tau2)) + difference * difference * tau2 / (2 * variance * (variance + tau2))
        pValue = min(1, exp(-logLambda))
        let half = (variance * (variance + tau2) / tau2 * (2 * log(1 / alpha) + log((variance + tau2) / variance))).squareRoot()
        interval = (difference - half, difference + half)
    }
}

/// Holm's step-down correction for several treatments compared with one control (Holm 1979,
/// "A Simple Sequentially Rejective Multiple Test Procedure"): the family-wise error rate stays
/// at alpha whatever the dependence between the comparisons; valid with always-valid p-values
/// read at any look, since each is a valid p-value at that look.
public enum Holm {
    /// Adjusted p-values, in the order given: reject where adjusted ≤ alpha.
    public static func adjust(_ pValues: [Double]) -> [Double] {
        let order = pValues.indices.sorted { pValues[$0] < pValues[$1] }
        var adjusted = [Double](repeating: 1, count: pValues.count)
        var running = 0.0
        for (rank, index) in order.enumerated() {
            running = max(running, min(1, Double(pValues.count - rank) * pValues[index]))
            adjusted[index] = running
        }
        return adjusted
    }
}
