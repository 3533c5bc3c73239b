import Foundation
import StrataCore
import Testing

@testable import StrataML

/// The approximate nearest-neighbour index: where recall must be 1 (a broad search over a small
/// catalogue) its answers are exact search's, scores included; filters never shorten an answer;
/// the same vectors give the same bytes, and the bytes load back to the same answers.
@Suite struct ANNIndexTests {
    static func vectors(items: Int, dimension: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<(items * dimension)).map { _ in Float(rng.nextDouble() * 2 - 1) }
    }

    @Test func aBroadSearchOfASmallCatalogueIsExact() throws {
        let dimension = 16
        let vectors = Self.vectors(items: 2000, dimension: dimension, seed: 1)
        let index = try ANNIndex.build(vectors: vectors, dimension: dimension, parameters: ANNParameters(m: 16, efConstruction: 200, efSearch: 500))
        let queries = Self.vectors(items: 50, dimension: dimension, seed: 2)
        for query in 0..<50 {
            let found = queries.withUnsafeBufferPointer { index.search($0.baseAddress! + query * dimension, k: 10) }
            let exact = queries.withUnsafeBufferPointer { index.exact($0.baseAddress! + query * dimension, n: 10) { _ in false } }
            #expect(found.map(\.index) == exact.map(\.index), "query \(query)")
            // The exact inner products (BLAS sums in another order: equal to float rounding).
            #expect(zip(found, exact).allSatisfy { abs($0.score - $1.score) <= 1e-5 * max(1, abs($1.score)) }, "\(found) \(exact)")
        }
    }

    @Test func aFilterThatExcludesNinetyNinePercentStillGetsNItems() throws {
        let dimension = 8
        let vectors = Self.vectors(items: 5_000, dimension: dimension, seed: 3)
        let index = try ANNIndex.build(vectors: vectors, dimension: dimension, parameters: ANNParameters())
        let query = Self.vectors(items: 1, dimension: dimension, seed: 4)
        // Only every hundredth item passes.
        let excluded: (Int) -> Bool = { $0 % 100 != 0 }
        let found = query.withUnsafeBufferPointer { index.search($0.baseAddress!, n: 10, excluded: excluded) }
        #expect(found.count == 10)
        #expect(found.allSatisfy { $0.index % 100 == 0 })
        // Fewer pass than asked: every one that passes, no more.
        let rare: (Int) -> Bool = { $0 % 1250 != 0 }
        let few = query.withUnsafeBufferPointer { index.search($0.baseAddress!, n: 10, excluded: rare) }
        #expect(few.count == 4)
    }

    @Test func theSameVectorsGiveTheSameBytesWhichLoadBack() throws {
        let dimension = 8
        let vectors = Self.vectors(items: 3000, dimension: dimension, seed: 5)
        let a = try ANNIndex.build(vectors: vectors, dimension: dimension, parameters: ANNParameters())
        let b = try ANNIndex.build(vectors: vectors, dimension: dimension, parameters: ANNParameters())
        let bytes = try a.serialized()
        #expect(bytes == (try b.serialized()))
        let loaded = try ANNIndex.load(bytes, vectors: vectors, dimension: dimension, efSearch: 100)
        let query = Self.vectors(items: 1, dimension: dimension, seed: 6)
        let before = query.withUnsafeBufferPointer { a.search($0.baseAddress!, k: 10) }
        let after = query.withUnsafeBufferPointer { loaded.search($0.baseAddress!, k: 10) }
        #expect(before.map(\.index) == after.map(\.index))
    }

    @Test func zeroVectorsStayOutOfTheGraphButAreFoundWhenNothingElsePasses() throws {
        let dimension = 8
        // Every other item a zero vector (an item the model learnt nothing about).
        var vectors = Self.vectors(items: 4000, dimension: dimension, seed: 7)
        for item in stride(from: 1, to: 4000, by: 2) { for column in 0..<dimension { vectors[item * dimension + column] = 0 } }
        let index = try ANNIndex.build(vectors: vectors, dimension: dimension, parameters: ANNParameters())
        let query = Self.vectors(items: 1, dimension: dimension, seed: 8)
        let found = query.withUnsafeBufferPointer { index.search($0.baseAddress!, k: 10) }
        #expect(found.count == 10 && found.allSatisfy { $0.index % 2 == 0 })
        // A filter that only lets zero vectors through still gets n of them (exact search).
        let onlyZero = query.withUnsafeBufferPointer { index.search($0.baseAddress!, n: 10) { $0 % 2 == 0 } }
        #expect(onlyZero.count == 10 && onlyZero.allSatisfy { $0.index % 2 == 1 && $0.score == 0 })
    }

    @Test func theHoldoutThroughABroadIndexEqualsExactSearch() throws {
        var interactions: [TimedInteraction] = []
        var rng = SplitMix64(seed: 9)
        for user in 0..<300 {
            for step in 0..<12 {
                interactions.append(TimedInteraction(user: "u\(user)", item: "i\(rng.nextInt(below: 400))", timestamp: Int64(user * 100 + step)))
            }
        }
        let split = EvaluationSplit.temporal(interactions)
        var model = try ALSModel.fit(split.train, parameters: ALSParameters(factors: 16, iterations: 5), threads: 2)
        let exact = Evaluator.evaluate(model, split: split)
        model.retrieval = try RetrievalIndex.build(
            model.itemVectors, similarityColumns: model.similarityColumns, parameters: ANNParameters(m: 32, efConstruction: 400, efSearch: 1000))
        let throughIndex = Evaluator.evaluate(model, split: split)
        #expect(throughIndex.ndcg == exact.ndcg)
        #expect(throughIndex.recall == exact.recall)
        #expect(throughIndex.evaluatedUsers == exact.evaluatedUsers)
        // Recall as served (each user's own items left out of both searches) is 1 here too: the
        // exclusion applies to the index's answer and to exact search alike.
        #expect(RetrievalIndex.recall(of: model, seen: split.train.matrix).recall == 1)
        #expect(RetrievalIndex.recall(of: model).recall == 1)
    }
}
