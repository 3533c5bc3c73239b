import StrataCore
import Testing

@testable import StrataML

/// The ANN index over a small fixed-seed catalogue: a broad search is exact search, filters
/// never shorten an answer, scores are the exact dot products, and the bytes load back.
@Suite struct ANNSmallCatalogueTests {
    static let dimension = 8
    static let items = 400

    static func random(_ count: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<(count * dimension)).map { _ in Float(rng.nextDouble() * 2 - 1) }
    }

    static let vectors = random(items, seed: 21)
    static let queries = random(20, seed: 22)

    static func index(efSearch: Int = 400) throws -> ANNIndex {
        try ANNIndex.build(vectors: vectors, dimension: dimension, parameters: ANNParameters(m: 16, efConstruction: 200, efSearch: efSearch, seed: 7))
    }

    /// The exact inner product, summed plainly in Double.
    static func dot(query: Int, item: Int) -> Double {
        (0..<dimension).reduce(0.0) { $0 + Double(queries[query * dimension + $1]) * Double(vectors[item * dimension + $1]) }
    }

    static func withQuery<T>(_ query: Int, _ body: (UnsafePointer<Float>) -> T) -> T {
        queries.withUnsafeBufferPointer { body($0.baseAddress! + query * dimension) }
    }

    @Test func aHighEfSearchEqualsExactSearch() throws {
        let index = try Self.index()
        #expect(index.count == Self.items)
        #expect(index.dimension == Self.dimension)
        for query in 0..<20 {
            for k in [1, 5, 20] {
                let found = Self.withQuery(query) { index.search($0, k: k) }
                let exact = Self.withQuery(query) { index.exact($0, n: k) { _ in false } }
                #expect(found.count == k)
                #expect(found.map(\.index) == exact.map(\.index), "query \(query), k \(k)")
            }
        }
    }

    @Test func scoresAreTheExactDotProductsBestFirst() throws {
        let index = try Self.index()
        for query in 0..<20 {
            let found = Self.withQuery(query) { index.search($0, k: 10) }
            for (item, score) in found {
                let kernel = Self.withQuery(query) { q in
                    Self.vectors.withUnsafeBufferPointer { VectorKernels.dot(q, $0.baseAddress! + item * Self.dimension, Self.dimension) }
                }
                #expect(score == kernel)
                #expect(abs(Double(score) - Self.dot(query: query, item: item)) < 1e-5)
            }
            #expect(zip(found, found.dropFirst()).allSatisfy { $0.score >= $1.score })
            // Nothing outside the answer beats its last score.
            let last = try #require(found.last).score
            let chosen = Set(found.map(\.index))
            #expect((0..<Self.items).allSatisfy { chosen.contains($0) || Self.dot(query: query, item: $0) <= Double(last) + 1e-5 })
        }
    }

    @Test func aFilterExcludingNinetyNinePercentStillGivesN() throws {
        let index = try Self.index(efSearch: 50)
        // Items 0, 100, 200, 300 pass: 1% of the catalogue.
        let excluded: (Int) -> Bool = { $0 % 100 != 0 }
        for query in 0..<20 {
            for n in 1...4 {
                let found = Self.withQuery(query) { index.search($0, n: n, excluded: excluded) }
                #expect(found.count == n, "query \(query), n \(n)")
                #expect(found.allSatisfy { $0.index % 100 == 0 })
                let exact = Self.withQuery(query) { index.exact($0, n: n, excluded: excluded) }
                #expect(found.map(\.index) == exact.map(\.index))
            }
            // More asked than pass: every one that passes.
            let all = Self.withQuery(query) { index.search($0, n: 10, excluded: excluded) }
            #expect(Set(all.map(\.index)) == [0, 100, 200, 300])
        }
    }

    @Test func aLightFilterGivesTheBestPassingItems() throws {
        let index = try Self.index()
        // Odd items only.
        let excluded: (Int) -> Bool = { $0 % 2 == 0 }
        for query in 0..<20 {
            let found = Self.withQuery(query) { index.search($0, n: 5, excluded: excluded) }
            let exact = Self.withQuery(query) { index.exact($0, n: 5, excluded: excluded) }
            #expect(found.count == 5)
            #expect(found.map(\.index) == exact.map(\.index), "query \(query)")
        }
        // A filter nothing passes: an empty answer.
        #expect(Self.withQuery(0) { index.search($0, n: 5) { _ in true } }.isEmpty)
    }

    @Test func askingForMoreThanTheCatalogueGivesTheCatalogue() throws {
        let index = try Self.index()
        let found = Self.withQuery(3) { index.search($0, k: 1000) }
        #expect(found.count == Self.items)
        #expect(Set(found.map(\.index)) == Set(0..<Self.items))
        #expect(Self.withQuery(3) { index.search($0, k: 0) }.isEmpty)
    }

    @Test func serializedBytesLoadBackAndAnswerTheSame() throws {
        let index = try Self.index()
        let bytes = try index.serialized()
        #expect(!bytes.isEmpty)
        #expect(try Self.index().serialized() == bytes)
        let loaded = try ANNIndex.load(bytes, vectors: Self.vectors, dimension: Self.dimension, efSearch: 400)
        #expect(loaded.count == Self.items)
        #expect(try loaded.serialized() == bytes)
        for query in 0..<20 {
            let before = Self.withQuery(query) { index.search($0, k: 10) }
            let after = Self.withQuery(query) { loaded.search($0, k: 10) }
            #expect(after.map(\.index) == before.map(\.index))
            #expect(after.map(\.score) == before.map(\.score))
            let filteredBefore = Self.withQuery(query) { index.search($0, n: 3) { $0 % 7 != 0 } }
            let filteredAfter = Self.withQuery(query) { loaded.search($0, n: 3) { $0 % 7 != 0 } }
            #expect(filteredAfter.map(\.index) == filteredBefore.map(\.index))
        }
    }

    @Test func loadingAgainstTooFewVectorsThrows() throws {
        let bytes = try Self.index().serialized()
        #expect(throws: StrataError.self) {
            try ANNIndex.load(bytes, vectors: Array(Self.vectors.prefix(10 * Self.dimension)), dimension: Self.dimension, efSearch: 50)
        }
    }
}
