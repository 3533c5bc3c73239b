import Foundation
import StrataCore
import Testing

@testable import StrataML

@Suite struct EvaluationTests {
    @Test func metricsMatchHandComputedValues() {
        // User 0: test {1, 5}; ranked [1, 2, 5] → hits at ranks 1 and 3.
        // User 1: test {9}; ranked [3, 4] → no hit.
        let metrics = RankingMetrics.compute(recommendations: [0: [1, 2, 5], 1: [3, 4]], test: [0: [1, 5], 1: [9]], catalogSize: 10, k: 10)
        #expect(abs(metrics.precision - (2.0 / 10 + 0) / 2) < 1e-12)
        #expect(abs(metrics.recall - (1.0 + 0) / 2) < 1e-12)
        let dcg = 1 / log2(2.0) + 1 / log2(4.0)
        let idcg = 1 / log2(2.0) + 1 / log2(3.0)
        #expect(abs(metrics.ndcg - (dcg / idcg) / 2) < 1e-12)
        let ap = (1.0 / 1 + 2.0 / 3) / 2
        #expect(abs(metrics.map - ap / 2) < 1e-12)
        #expect(metrics.hitRate == 0.5)
        #expect(abs(metrics.coverage - 5.0 / 10) < 1e-12)
        #expect(metrics.evaluatedUsers == 2)
    }

    @Test func idealDCGUsesMinOfTestSizeAndK() {
        let metrics = RankingMetrics.compute(recommendations: [0: [0, 1, 2]], test: [0: Set((0..<20).map(Int32.init))], catalogSize: 30, k: 3)
        #expect(abs(metrics.ndcg - 1) < 1e-12)
        #expect(abs(metrics.map - 1) < 1e-12)
        #expect(abs(metrics.precision - 1) < 1e-12)
    }

    @Test func temporalSplitFollowsTheAnchorProtocol() {
        var rows: [TimedInteraction] = []
        // Ten items for user 1 with a timestamp tie broken by item id; three for user 2.
        for item in 0..<10 { rows.append(TimedInteraction(user: "1", item: String(100 - item), timestamp: item < 2 ? 5 : Int64(item * 10))) }
        rows.append(TimedInteraction(user: "1", item: "100", timestamp: 1))  // duplicate pair: earliest wins
        for item in 0..<3 { rows.append(TimedInteraction(user: "2", item: String(item), timestamp: Int64(item))) }
        let split = EvaluationSplit.temporal(rows)
        let user1 = Int(split.train.users.index(of: "1")!)
        #expect(split.test[user1].map { Set($0.map { split.train.items.id(at: $0) }) } == ["92", "91"])
        #expect(split.train.matrix.rowLength(user1) == 8)
        #expect(split.test[Int(split.train.users.index(of: "2")!)] == nil, "fewer than 5 interactions: train only")
        #expect(split.train.items.ids.first == "0", "items indexed in ascending numeric id order")
        #expect(split.train.matrix.row(user1).values.allSatisfy { $0 == 2 || $0 == 1 })
    }
}
