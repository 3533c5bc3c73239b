import Foundation
import StrataCore
import Testing

@testable import StrataML

private func topK(_ scores: [Float], n: Int, excluded: Set<Int> = []) -> [(index: Int, score: Float)] {
    scores.withUnsafeBufferPointer { TopK.select($0, n: n) { excluded.contains($0) } }
}

/// The reference answer: finite, not excluded, by score descending then index ascending.
private func bruteForce(_ scores: [Float], n: Int, excluded: Set<Int>) -> [Int] {
    let candidates = scores.indices.filter { scores[$0].isFinite && !excluded.contains($0) }
    let ordered = candidates.sorted { (scores[$0], -$0) > (scores[$1], -$1) }
    return Array(ordered.prefix(n))
}

@Suite struct TopKTests {
    @Test func bestFirstWithTiesToTheLowerIndex() {
        let result = topK([1, 3, 3, 2, 5, 3], n: 4)
        #expect(result.map(\.index) == [4, 1, 2, 5])
        #expect(result.map(\.score) == [5, 3, 3, 3])
    }

    @Test func exclusionsAreSkippedAndTheNextBestTakesTheirPlace() {
        let result = topK([9, 8, 7, 6, 5], n: 3, excluded: [0, 2])
        #expect(result.map(\.index) == [1, 3, 4])
    }

    @Test func nonFiniteScoresAreNeverSelected() {
        let result = topK([.nan, 1, .infinity, -.infinity, 0, -2], n: 10)
        #expect(result.map(\.index) == [1, 4, 5])
    }

    @Test func fewerCandidatesThanNReturnsThemAll() {
        #expect(topK([2, 1], n: 5).map(\.index) == [0, 1])
        #expect(topK([], n: 5).isEmpty)
        #expect(topK([1, 2, 3], n: 3, excluded: [0, 1, 2]).isEmpty)
    }

    @Test func allEqualScoresKeepTheLowestIndices() {
        let scores = [Float](repeating: 0.25, count: 50)
        #expect(topK(scores, n: 5).map(\.index) == [0, 1, 2, 3, 4])
        #expect(topK(scores, n: 5, excluded: [1, 3]).map(\.index) == [0, 2, 4, 5, 6])
    }

    @Test func matchesASortOnRandomScores() {
        var rng = SplitMix64(seed: 21)
        for round in 0..<200 {
            let count = rng.nextInt(below: 60)
            // Few distinct values, so ties are common.
            let scores = (0..<count).map { _ in Float(rng.nextInt(below: 8)) - 3 }
            var excluded = Set<Int>()
            for index in 0..<count where rng.chance(0.2) { excluded.insert(index) }
            let n = 1 + rng.nextInt(below: 12)
            let result = topK(scores, n: n, excluded: excluded)
            #expect(result.map(\.index) == bruteForce(scores, n: n, excluded: excluded), "round \(round)")
            #expect(result.allSatisfy { scores[$0.index] == $0.score })
        }
    }
}

@Suite struct RankingMetricsTests {
    @Test func handComputedThreeUsers() {
        // User 0: one hit at rank 2 of 3, two relevant. User 1: a hit at rank 1, one relevant.
        // User 2: nothing recommended.
        let metrics = RankingMetrics.compute(
            recommendations: [0: [1, 2, 3], 1: [4]], test: [0: [2, 5], 1: [4], 2: [1]], catalogSize: 10, k: 3)
        let d2 = 1 / log2(3.0)
        #expect(metrics.k == 3)
        #expect(metrics.evaluatedUsers == 3)
        #expect(abs(metrics.precision - (1.0 / 3 + 1.0 / 3) / 3) < 1e-12)
        #expect(abs(metrics.recall - (0.5 + 1) / 3) < 1e-12)
        #expect(abs(metrics.ndcg - (d2 / (1 + d2) + 1) / 3) < 1e-12)
        #expect(abs(metrics.map - (0.25 + 1) / 3) < 1e-12)
        #expect(abs(metrics.hitRate - 2.0 / 3) < 1e-12)
        #expect(abs(metrics.coverage - 0.4) < 1e-12)
    }

    @Test func perfectRankingScoresOne() {
        let metrics = RankingMetrics.compute(recommendations: [0: [7, 8], 1: [3]], test: [0: [7, 8], 1: [3]], catalogSize: 4, k: 2)
        #expect(metrics.ndcg == 1)
        #expect(metrics.map == 1)
        #expect(metrics.recall == 1)
        #expect(metrics.hitRate == 1)
        // Precision divides by k, so user 1's single recommendation caps it at 1/2.
        #expect(metrics.precision == 0.75)
        #expect(metrics.coverage == 0.75)
    }

    @Test func onlyTheFirstKRecommendationsCount() {
        let metrics = RankingMetrics.compute(recommendations: [0: [1, 2, 3, 4, 9]], test: [0: [9]], catalogSize: 10, k: 4)
        #expect(metrics.hitRate == 0)
        #expect(metrics.ndcg == 0)
        #expect(metrics.recall == 0)
        #expect(metrics.coverage == 0.4)
    }

    @Test func idealDCGUsesAtMostKRelevantItems() {
        // Five relevant items, k = 2, both recommended items relevant: NDCG and MAP are 1.
        let metrics = RankingMetrics.compute(recommendations: [0: [1, 2]], test: [0: [1, 2, 3, 4, 5]], catalogSize: 5, k: 2)
        #expect(abs(metrics.ndcg - 1) < 1e-12)
        #expect(abs(metrics.map - 1) < 1e-12)
        #expect(abs(metrics.recall - 0.4) < 1e-12)
    }

    @Test func hitAtLowerRankScoresLessNDCG() {
        let first = RankingMetrics.compute(recommendations: [0: [5, 1, 2]], test: [0: [5]], catalogSize: 6, k: 3)
        let third = RankingMetrics.compute(recommendations: [0: [1, 2, 5]], test: [0: [5]], catalogSize: 6, k: 3)
        #expect(first.ndcg == 1)
        #expect(abs(third.ndcg - 0.5) < 1e-12)
        #expect(abs(third.map - 1.0 / 3) < 1e-12)
        #expect(first.precision == third.precision)
    }

    @Test func usersWithoutTestItemsAreNotEvaluated() {
        let metrics = RankingMetrics.compute(recommendations: [0: [1], 1: [2]], test: [1: [2]], catalogSize: 0, k: 1)
        #expect(metrics.evaluatedUsers == 1)
        #expect(metrics.hitRate == 1)
        #expect(metrics.coverage == 0)
        let empty = RankingMetrics.compute(recommendations: [:], test: [:], catalogSize: 3, k: 5)
        #expect(empty.evaluatedUsers == 0)
        #expect(empty.ndcg == 0)
    }

    @Test func jsonAndNamedValues() {
        let metrics = RankingMetrics(k: 5, precision: 0.1, recall: 0.2, ndcg: 0.3, map: 0.4, hitRate: 0.5, coverage: 0.6, evaluatedUsers: 7)
        #expect(metrics.json["ndcg@5"] == .double(0.3))
        #expect(metrics.json["hit_rate@5"] == .double(0.5))
        #expect(metrics.json["evaluated_users"] == .int(7))
        #expect(metrics.json["ndcg@10"] == nil)
        #expect(metrics.value(named: "ndcg@5") == 0.3)
        #expect(metrics.value(named: "ndcg") == 0.3)
        #expect(metrics.value(named: "precision@5") == 0.1)
        #expect(metrics.value(named: "recall") == 0.2)
        #expect(metrics.value(named: "map@20") == 0.4)
        #expect(metrics.value(named: "hitrate") == 0.5)
        #expect(metrics.value(named: "hit_rate@5") == 0.5)
        #expect(metrics.value(named: "coverage") == 0.6)
        #expect(metrics.value(named: "auc") == nil)
    }
}

@Suite struct CSRMatrixTests {
    @Test func tripletsAreSortedAndDuplicatesSummed() {
        let matrix = CSRMatrix(
            rows: 3, columns: 4,
            triplets: [(2, 3, 1), (0, 2, 1), (0, 0, 2), (2, 3, 4), (0, 2, 0.5), (1, 1, 1), (1, 1, -1)])
        #expect(matrix.indptr == [0, 2, 2, 3])
        #expect(matrix.indices == [0, 2, 3])
        #expect(matrix.values == [2, 1.5, 5])
        #expect(matrix.nonZeros == 3)
        #expect(matrix.rowLength(0) == 2)
        #expect(matrix.rowLength(1) == 0)
        #expect(Array(matrix.row(2).indices) == [3])
        #expect(Array(matrix.row(2).values) == [5])
        #expect(matrix.byteSize == 4 * 8 + 3 * 4 + 3 * 4)
    }

    @Test func emptyMatrix() {
        let matrix = CSRMatrix(rows: 2, columns: 2, triplets: [])
        #expect(matrix.indptr == [0, 0, 0])
        #expect(matrix.nonZeros == 0)
        #expect(!matrix.contains(row: 0, column: 0))
        #expect(matrix.transposed() == CSRMatrix(rows: 2, columns: 2, indptr: [0, 0, 0], indices: [], values: []))
    }

    @Test func containsAgreesWithTheTriplets() {
        var rng = SplitMix64(seed: 8)
        var cells = Set<[Int32]>()
        var triplets: [(row: Int32, column: Int32, value: Float)] = []
        for _ in 0..<300 {
            let row = Int32(rng.nextInt(below: 20))
            let column = Int32(rng.nextInt(below: 30))
            cells.insert([row, column])
            triplets.append((row, column, 1))
        }
        let matrix = CSRMatrix(rows: 20, columns: 30, triplets: triplets)
        #expect(matrix.nonZeros == cells.count)
        for row in 0..<20 {
            let indices = Array(matrix.row(row).indices)
            #expect(indices == indices.sorted())
            #expect(Set(indices).count == indices.count)
            for column in Int32(0)..<30 {
                #expect(matrix.contains(row: row, column: column) == cells.contains([Int32(row), column]))
            }
        }
        #expect(matrix.values.reduce(0, +) == 300)
    }

    @Test func transposeSwapsCellsAndTwiceIsIdentity() {
        var rng = SplitMix64(seed: 9)
        let triplets = (0..<200).map { _ in
            (row: Int32(rng.nextInt(below: 15)), column: Int32(rng.nextInt(below: 9)), value: Float(1 + rng.nextInt(below: 5)))
        }
        let matrix = CSRMatrix(rows: 15, columns: 9, triplets: triplets)
        let transposed = matrix.transposed()
        #expect(transposed.rows == 9)
        #expect(transposed.columns == 15)
        #expect(transposed.nonZeros == matrix.nonZeros)
        for row in 0..<15 {
            for (column, value) in zip(matrix.row(row).indices, matrix.row(row).values) {
                let other = transposed.row(Int(column))
                let position = other.indices.firstIndex(of: Int32(row))
                #expect(position.map { other.values[$0] } == value)
            }
        }
        #expect(transposed.transposed() == matrix)
        let rebuilt = CSRMatrix(rows: 9, columns: 15, triplets: triplets.map { (row: $0.column, column: $0.row, value: $0.value) })
        #expect(rebuilt == transposed)
    }

    @Test func mapValuesKeepsTheStructure() {
        let matrix = CSRMatrix(rows: 2, columns: 3, triplets: [(0, 1, 2), (1, 0, 3), (1, 2, -4)])
        let mapped = matrix.mapValues { $0 * 10 }
        #expect(mapped.indptr == matrix.indptr)
        #expect(mapped.indices == matrix.indices)
        #expect(mapped.values == [20, 30, -40])
    }
}

@Suite struct BinnedDistributionTests {
    @Test func valuesOnAnEdgeStayInTheLowerBin() {
        let distribution = BinnedDistribution.binned([0.5, 1, 1.5, 2, 3, .nan], edges: [1, 2])
        #expect(distribution.count == 5)
        #expect(distribution.shares == [0.4, 0.4, 0.2])
    }

    @Test func baselineEdgesAreDecilesAndTheMaximum() {
        let values = (1...100).map(Double.init)
        let baseline = BinnedDistribution.baseline(values)
        #expect(baseline.edges == [11, 21, 31, 41, 51, 61, 71, 81, 91, 100])
        #expect(baseline.shares.count == 11)
        #expect(baseline.shares.last == 0)
        #expect(abs(baseline.shares.reduce(0, +) - 1) < 1e-12)
        #expect(baseline.count == 100)
    }

    @Test func constantBaselineStillDetectsAShift() {
        let baseline = BinnedDistribution.baseline([5, 5, 5, 5])
        #expect(baseline.edges == [5])
        #expect(baseline.shares == [1, 0])
        let live = BinnedDistribution.binned([6, 7], edges: baseline.edges)
        #expect(live.shares == [0, 1])
        #expect(baseline.ks(live) == 1)
        let expectedPSI = 2 * (1 - 1e-4) * log(1e4)
        #expect(abs(baseline.psi(live) - expectedPSI) < 1e-9)
    }

    @Test func identicalDistributionsHaveNoDrift() {
        var rng = SplitMix64(seed: 4)
        let values = (0..<1000).map { _ in rng.nextDouble() * 10 }
        let baseline = BinnedDistribution.baseline(values)
        let same = BinnedDistribution.binned(values, edges: baseline.edges)
        #expect(same == baseline)
        #expect(baseline.psi(same) == 0)
        #expect(baseline.ks(same) == 0)
    }

    @Test func psiAndKSAreNonNegativeAndGrowWithTheShift() {
        var rng = SplitMix64(seed: 6)
        let values = (0..<2000).map { _ in rng.nextDouble() }
        let baseline = BinnedDistribution.baseline(values)
        var previous = (psi: 0.0, ks: 0.0)
        for shift in [0.05, 0.2, 0.5, 1.0] {
            let live = BinnedDistribution.binned(values.map { $0 + shift }, edges: baseline.edges)
            let psi = baseline.psi(live)
            let ks = baseline.ks(live)
            #expect(psi > previous.psi)
            #expect(ks >= previous.ks)
            #expect(ks <= 1 + 1e-12)
            previous = (psi, ks)
        }
        #expect(previous.ks > 0.99)
    }

    @Test func emptyInputs() {
        let empty = BinnedDistribution.baseline([])
        #expect(empty.edges.isEmpty)
        #expect(empty.shares == [0])
        #expect(empty.count == 0)
        #expect(BinnedDistribution.binned([], edges: [1]).shares == [0, 0])
    }

    @Test func jsonRoundTrip() throws {
        let distribution = BinnedDistribution(edges: [0.5, 1.25], shares: [0.25, 0.5, 0.25], count: 8)
        let decoded = BinnedDistribution(json: try JSONValue.parse(distribution.json.serialized))
        #expect(decoded == distribution)
        #expect(BinnedDistribution(json: ["edges": [1.0], "shares": [1.0], "count": 1]) == nil)
        #expect(BinnedDistribution(json: ["shares": [1.0]]) == nil)
    }
}

/// Asking for nothing is an empty answer, not a read of an empty heap.
@Suite struct TopKZeroTests {
    @Test func zeroItemsAreAnEmptyAnswer() {
        let scores: [Float] = [0.5, 0.9, 0.1]
        #expect(scores.withUnsafeBufferPointer { TopK.select($0, n: 0) }.isEmpty)
        #expect(scores.withUnsafeBufferPointer { TopK.select($0, n: -1) }.isEmpty)
    }
}
