import Foundation
import Testing

@testable import StrataServing

/// The statistics behind A/B verdicts, against values computed by hand (and with Python's
/// `math` for the closed forms): Wilson intervals, the pooled two-proportion z-test, the
/// delta-method CTR per user, the mixture sequential test and Holm's correction.
@Suite struct StatisticsTests {
    static func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-9) -> Bool { abs(a - b) <= tolerance * max(1, abs(b)) }

    @Test func wilsonIntervalsMatchTheirClosedForm() {
        let none = Proportions.wilson95(0, 10)
        #expect(none.low == 0 && Self.close(none.high, 0.2775327998628892))
        let half = Proportions.wilson95(5, 10)
        #expect(Self.close(half.low, 0.236593090512564) && Self.close(half.high, 0.7634069094874361))
        let tenth = Proportions.wilson95(100, 1000)
        #expect(Self.close(tenth.low, 0.08290944359309571) && Self.close(tenth.high, 0.1201519631953484))
        #expect(Proportions.wilson95(0, 0) == (0, 0), "no trials: nothing to say")
        // Always inside [0, 1], and narrower with more trials at the same rate.
        #expect(Self.close(Proportions.wilson95(10, 10).high, 1) && Proportions.wilson95(10, 10).high <= 1)
        #expect(tenth.high - tenth.low < Proportions.wilson95(10, 100).high - Proportions.wilson95(10, 100).low)
    }

    @Test func theTwoProportionTestMatchesItsClosedForm() {
        #expect(Self.close(Proportions.zScore(50, 100, 30, 100), 2.886751345948129))
        #expect(Self.close(Proportions.twoSidedPValue(50, 100, 30, 100), 0.003892417122778627, 1e-7))
        #expect(Self.close(Proportions.zScore(30, 100, 50, 100), -2.886751345948129), "antisymmetric")
        #expect(Proportions.twoSidedPValue(5, 10, 5, 10) == 1, "equal rates")
        #expect(Proportions.zScore(0, 0, 3, 10) == 0 && Proportions.twoSidedPValue(0, 0, 3, 10) == 1, "an empty arm compares nothing")
        #expect(Proportions.zScore(0, 10, 0, 10) == 0, "no successes anywhere: no spread")
    }

    /// Three users: (10 impressions, 1 click), (10, 3), (20, 2).
    static func threeUsers() -> ArmSummary {
        var arm = ArmCounts()
        for (user, impressions, clicks) in [("a", 10, 1), ("b", 10, 3), ("c", 20, 2)] {
            for _ in 0..<impressions { arm.impression(user) }
            for _ in 0..<clicks { arm.click(user) }
        }
        return arm.summary
    }

    @Test func perUserSumsFeedTheDeltaMethod() {
        let arm = Self.threeUsers()
        #expect(arm.users == 3 && arm.impressions == 40 && arm.clicks == 6)
        #expect(arm.impressionsSquared == 600 && arm.clicksSquared == 14 && arm.impressionsClicks == 80)
        let ctr = UserLevelMetrics.ctr(arm)
        #expect(Self.close(ctr.value, 0.15) && Self.close(ctr.variance, 0.003281249999999999))
        // One user is no basis for a variance.
        var single = ArmCounts()
        single.impression("a")
        #expect(UserLevelMetrics.ctr(single.summary).variance == .infinity)
    }

    @Test func purchasesCountBuyersOnceAndRevenuePerUser() {
        var arm = ArmCounts()
        arm.impression("a")
        arm.purchase("a", revenue: 10)
        arm.purchase("a", revenue: 5)
        arm.impression("b")
        arm.impression("c")
        arm.purchase("c", revenue: 30)
        let summary = arm.summary
        #expect(summary.purchases == 3 && summary.purchasers == 2 && summary.users == 3 && summary.revenue == 45)
        #expect(summary.revenueSquared == 15 * 15 + 30 * 30, "squares of each user's total")
        let conversion = UserLevelMetrics.conversion(summary)
        #expect(Self.close(conversion.value, 2.0 / 3))
        let revenue = UserLevelMetrics.revenuePerUser(summary)
        #expect(Self.close(revenue.value, 15) && Self.close(revenue.variance, 75))
        // A checkpoint's per-user outcomes rebuild the same sums.
        #expect(ArmCounts(json: arm.json).summary == summary)
    }

    @Test func theSequentialTestMatchesItsClosedForm() {
        let comparison = SequentialComparison(
            treatment: Estimate(value: 0.12, variance: 1e-4), control: Estimate(value: 0.10, variance: 1e-4), mixingLift: 0.1, alpha: 0.05)
        #expect(Self.close(comparison.difference, 0.02) && Self.close(comparison.variance, 2e-4))
        #expect(Self.close(comparison.pValue, 0.8775680478167425, 1e-7))
        #expect(Self.close(comparison.interval.low, -0.04195286751337413, 1e-7) && Self.close(comparison.interval.high, 0.0819528675133741, 1e-7))
        // No variance to speak of: no verdict, an unbounded interval.
        let unknown = SequentialComparison(
            treatment: Estimate(value: 0.2, variance: .infinity), control: Estimate(value: 0.1, variance: 1e-4), mixingLift: 0.1, alpha: 0.05)
        #expect(unknown.pValue == 1 && unknown.interval.low == -.infinity && unknown.interval.high == .infinity)
        // A large difference with little noise is significant at once.
        let clear = SequentialComparison(
            treatment: Estimate(value: 0.2, variance: 1e-6), control: Estimate(value: 0.1, variance: 1e-6), mixingLift: 0.1, alpha: 0.05)
        #expect(clear.pValue < 1e-6 && clear.interval.low > 0)
    }

    @Test func holmAdjustsInTheGivenOrder() {
        #expect(Holm.adjust([0.01, 0.04, 0.03]).enumerated().allSatisfy { Self.close($0.element, [0.03, 0.06, 0.06][$0.offset]) })
        #expect(Holm.adjust([0.5, 0.9]) == [1, 1], "capped at one")
        #expect(Holm.adjust([]) == [])
        #expect(Holm.adjust([0.02]) == [0.02], "one comparison: unchanged")
    }

    @Test func recommendationIDsRoundTripAndRefuseOtherText() {
        let id = RecommendationID(deployment: "home", variant: "b", model: "als@3", nonce: RecommendationID.nonce())
        #expect(RecommendationID(id.text) == id)
        #expect(id.nonce.count == 12 && id.nonce.allSatisfy(\.isHexDigit))
        #expect(RecommendationID("home:b:als@3") == nil && RecommendationID(":b:m:n") == nil && RecommendationID("home::m:n") == nil)
        #expect(RecommendationID("a:b:c:d:e") == nil)
        let nonces = Set((0..<10_000).map { _ in RecommendationID.nonce() })
        #expect(nonces.count == 10_000, "unique within the process")
    }
}
