import Foundation
import StrataCore

/// Simulated A/B tests with realistic users, checked after every batch of arrivals the way a
/// person (or the dashboard) peeks: how often each test declares a difference that is not
/// there (A/A), and how often it finds one that is (a planted relative CTR lift). Compares the
/// impression-level pooled two-proportion z-test (what Strata used before) with the per-user
/// mixture SPRT of `SequentialComparison`. Deterministic for a seed.
///
/// Users differ: each has their own CTR (log-normal around `baseCTR`, spread `ctrSpread`) and
/// their own number of impressions (a Pareto tail of shape `tailShape`, at most
/// `maxImpressions`: most see a few, some see hundreds), so impressions of one user are
/// correlated — what makes the impression-level test over-confident.
public struct ExperimentSimulation: Sendable {
    public var usersPerArm = 4000
    public var looks = 20
    public var replications = 200
    public var baseCTR = 0.05
    public var alpha = 0.05
    public var mixingLift = 0.1
    public var tailShape = 1.5
    public var maxImpressions = 200
    public var ctrSpread = 0.8
    public var seed: UInt64 = 1

    public init() {}

    /// How often a test reached significance at some look.
    public struct Rates: Sendable, Equatable {
        /// Impression-level pooled z-test, significant at any look.
        public var impressionLevel: Double
        /// Per-user mixture SPRT, significant at any look (the lift's sign right, for power).
        public var sequential: Double
    }

    /// The share of replications in which each test declared a difference, with the treatment's
    /// CTR multiplied by `1 + lift` (0: an A/A test).
    public func run(lift: Double) -> Rates {
        var impressionLevel = 0
        var sequential = 0
        for replication in 0..<replications {
            var rng = SplitMix64(seed: seed &* 1_000_003 &+ UInt64(replication))
            var arms = [ArmSummary(impressions: 0, clicks: 0), ArmSummary(impressions: 0, clicks: 0)]
            var foundOld = false
            var foundNew = false
            let perLook = max(1, usersPerArm / looks)
            for _ in 0..<looks {
                for _ in 0..<perLook {
                    for arm in 0..<2 {
                        let (n, c) = user(&rng, lift: arm == 1 ? lift : 0)
                        arms[arm].add(impressions: n, clicks: c)
                    }
                }
                let z = Proportions.twoSidedPValue(arms[1].clicks, arms[1].impressions, arms[0].clicks, arms[0].impressions)
                if z < alpha { foundOld = true }
                let test = SequentialComparison(
                    treatment: UserLevelMetrics.ctr(arms[1]), control: UserLevelMetrics.ctr(arms[0]), mixingLift: mixingLift, alpha: alpha)
                if test.pValue <= alpha, lift == 0 || (test.difference > 0) == (lift > 0) { foundNew = true }
            }
            if foundOld { impressionLevel += 1 }
            if foundNew { sequential += 1 }
        }
        return Rates(impressionLevel: Double(impressionLevel) / Double(replications), sequential: Double(sequential) / Double(replications))
    }

    /// One user: impressions from the Pareto tail (minimum 1), clicks from their own CTR.
    func user(_ rng: inout SplitMix64, lift: Double) -> (impressions: Int, clicks: Int) {
        let impressions = min(maxImpressions, Int(1 / pow(max(rng.nextDouble(), 1e-12), 1 / tailShape)))
        // Box–Muller: a standard normal for the user's log CTR (mean one on the linear scale).
        let normal = (-2 * log(max(rng.nextDouble(), 1e-12))).squareRoot() * cos(2 * .pi * rng.nextDouble())
        let ctr = min(0.95, baseCTR * exp(ctrSpread * normal - ctrSpread * ctrSpread / 2) * (1 + lift))
        var clicks = 0
        for _ in 0..<impressions where rng.nextDouble() < ctr { clicks += 1 }
        return (impressions, clicks)
    }
}

extension ArmSummary {
    /// Adds one new user's impressions and clicks (simulations).
    mutating func add(impressions n: Int, clicks c: Int) {
        users += 1
        impressions += n
        clicks += c
        impressionsSquared += Double(n * n)
        clicksSquared += Double(c * c)
        impressionsClicks += Double(n * c)
    }
}
