import Foundation

/// The statistics of comparing rates: intervals and the two-proportion z-test.
public enum Proportions {
    /// The 95% Wilson score interval of `successes` out of `trials`.
    public static func wilson95(_ successes: Int, _ trials: Int) -> (low: Double, high: Double) {
        guard trials > 0 else { return (0, 0) }
        let z = 1.959963984540054
        let n = Double(trials)
        let p = Double(successes) / n
        let denominator = 1 + z * z / n
        let center = (p + z * z / (2 * n)) / denominator
        let half = z * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot() / denominator
        return (max(0, center - half), min(1, center + half))
    }

    /// The two-sided p-value of the pooled two-proportion z-test of a/n against b/m (1 when
    /// there is nothing to compare).
    public static func twoSidedPValue(_ a: Int, _ n: Int, _ b: Int, _ m: Int) -> Double {
        let z = zScore(a, n, b, m)
        guard z.isFinite else { return 1 }
        return erfc(abs(z) / 2.0.squareRoot())
    }

    /// (a/n − b/m) in pooled standard errors; 0 when undefined.
    public static func zScore(_ a: Int, _ n: Int, _ b: Int, _ m: Int) -> Double {
        guard n > 0, m > 0 else { return 0 }
        let pooled = Double(a + b) / Double(n + m)
        let se = (pooled * (1 - pooled) * (1 / Double(n) + 1 / Double(m))).squareRoot()
        guard se > 0 else { return 0 }
        return (Double(a) / Double(n) - Double(b) / Double(m)) / se
    }
}
