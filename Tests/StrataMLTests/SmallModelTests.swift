import StrataCore
import Testing

@testable import StrataML

/// Popularity and item-kNN on data small enough to work out by hand.
@Suite struct SmallModelTests {
    /// Items a, b, c, d (indices 0...3). u0: a 1, b 2; u1: b 1, c 3; u2: c 1, a −1 (a dislike).
    /// Positive weight per item: a 1, b 3, c 4, d 0.
    static func popularityData() -> InteractionData {
        var builder = InteractionBuilder()
        builder.addItems(["a", "b", "c", "d"])
        builder.add(user: "u0", item: "a", weight: 1)
        builder.add(user: "u0", item: "b", weight: 2)
        builder.add(user: "u1", item: "b", weight: 1)
        builder.add(user: "u1", item: "c", weight: 3)
        builder.add(user: "u2", item: "c", weight: 1)
        builder.add(user: "u2", item: "a", weight: -1)
        return builder.build()
    }

    /// Items a, b, c, d. u0: a, b; u1: a, b, c; u2: d. Cosines: a–b 1, a–c and b–c 1/√2, d with
    /// nothing.
    static func knnData() -> InteractionData {
        var builder = InteractionBuilder()
        builder.addItems(["a", "b", "c", "d"])
        for (user, items) in [("u0", ["a", "b"]), ("u1", ["a", "b", "c"]), ("u2", ["d"])] {
            for item in items { builder.add(user: user, item: item, weight: 1) }
        }
        return builder.build()
    }

    static func knn(_ data: InteractionData) throws -> any Recommender {
        try ModelTrainer.fit(try ModelSpec(name: "knn", algorithm: .itemKNN, parameters: ["neighbors": 10, "shrinkage": 0]), data: data, threads: 1)
    }

    static func scores(_ model: any Recommender, _ query: UserQuery) -> [Float] {
        var scores = [Float](repeating: .nan, count: model.items.count)
        scores.withUnsafeMutableBufferPointer { model.score(query, into: $0) }
        return scores
    }

    // MARK: Popularity

    @Test func popularityIsThePositiveWeightPerItem() {
        let model = PopularityModel.fit(Self.popularityData())
        #expect(model.popularity == [1, 3, 4, 0])
        #expect(Self.scores(model, UserQuery(items: [], weights: [])) == [1, 3, 4, 0])
    }

    @Test func popularityRanksByWeightAndLeavesOutSeenItems() {
        let data = Self.popularityData()
        let model = PopularityModel.fit(data)
        // A new user: c, b, a, d.
        let fresh = model.recommend(UserQuery(items: [], weights: []), n: 4)
        #expect(fresh.map(\.index) == [2, 1, 0, 3])
        #expect(fresh.map(\.score) == [4, 3, 1, 0])
        // u0 has seen a and b.
        let u0 = model.recommend(UserQuery.training(0, in: data.matrix), n: 4)
        #expect(u0.map(\.index) == [2, 3])
        // u2 disliked a: it is left out like a seen item.
        let u2 = model.recommend(UserQuery.training(2, in: data.matrix), n: 2)
        #expect(u2.map(\.index) == [1, 3])
        // An explicit exclusion too.
        let excluded = model.recommend(UserQuery(items: [], weights: []), n: 2, excluding: [2])
        #expect(excluded.map(\.index) == [1, 0])
    }

    @Test func popularityTiesGoToTheLowerIndex() {
        var builder = InteractionBuilder()
        builder.addItems(["a", "b", "c"])
        builder.add(user: "u0", item: "c", weight: 2)
        builder.add(user: "u1", item: "b", weight: 2)
        builder.add(user: "u2", item: "a", weight: 1)
        let model = PopularityModel.fit(builder.build())
        #expect(model.recommend(UserQuery(items: [], weights: []), n: 3).map(\.index) == [1, 2, 0])
    }

    @Test func popularitySimilarItemsAreThePopularOnesButTheItem() {
        let model = PopularityModel.fit(Self.popularityData())
        let similar = model.similarItems(to: 2, n: 3)
        #expect(similar.map(\.index) == [1, 0, 3])
        #expect(similar.map(\.score) == [3, 1, 0])
    }

    @Test func popularitySurvivesItsArtifact() throws {
        let data = Self.popularityData()
        let model = PopularityModel.fit(data)
        let bytes = model.artifact().encoded()
        let loaded = try ModelTrainer.load(try ModelArtifact(decoding: bytes))
        #expect(loaded.algorithm == .popularity)
        #expect(loaded.items == data.items)
        #expect(loaded.users == data.users)
        for user in 0..<data.users.count {
            let query = UserQuery.training(user, in: data.matrix)
            #expect(Self.scores(loaded, query) == Self.scores(model, query))
            #expect(loaded.recommend(query, n: 4).map(\.index) == model.recommend(query, n: 4).map(\.index))
        }
        #expect(loaded.artifact().encoded() == bytes)
    }

    // MARK: Item-kNN

    @Test func knnNeighboursAreTheItemsThatCoOccur() throws {
        let model = try #require(try Self.knn(Self.knnData()) as? ItemKNNModel)
        let a = model.similarItems(to: 0, n: 10)
        #expect(a.map(\.index) == [1, 2])
        #expect(abs(a[0].score - 1) < 1e-6)
        #expect(abs(a[1].score - Float(0.5.squareRoot())) < 1e-6)
        let c = model.similarItems(to: 2, n: 10)
        #expect(c.map(\.index) == [0, 1])
        #expect(c.allSatisfy { abs($0.score - Float(0.5.squareRoot())) < 1e-6 })
        // d shares no user with anything.
        #expect(model.similarItems(to: 3, n: 10).isEmpty)
        // n bounds the answer.
        #expect(model.similarItems(to: 0, n: 1).map(\.index) == [1])
        // Each item's neighbour list holds itself (similarity 1) and its co-occurring items.
        for (item, expected) in [(0, Set<Int32>([0, 1, 2])), (1, [0, 1, 2]), (2, [0, 1, 2]), (3, [3])] {
            let neighbours = model.neighbors(of: item)
            #expect(Set(neighbours.map(\.0)) == expected, "item \(item)")
            #expect(neighbours.allSatisfy { $0.0 != Int32(item) || abs($0.1 - 1) < 1e-12 })
        }
    }

    @Test func knnScoresSumTheHistorysSimilarities() throws {
        let data = Self.knnData()
        let model = try Self.knn(data)
        // u0 (a, b): c gets 1/√2 from each, d nothing; a and b 1 + 1.
        let scores = Self.scores(model, UserQuery.training(0, in: data.matrix))
        let expected: [Float] = [2, 2, Float(2 * 0.5.squareRoot()), 0]
        #expect(zip(scores, expected).allSatisfy { abs($0 - $1) < 1e-5 }, "\(scores)")
        // Recommended: c, then d (no neighbour reaches it) to fill the list.
        let top = model.recommend(UserQuery.training(0, in: data.matrix), n: 2)
        #expect(top.map(\.index) == [2, 3])
        #expect(abs(top[0].score - Float(2 * 0.5.squareRoot())) < 1e-5)
        #expect(top[1].score == 0)
        // u2 (d) has no neighbours but d: the rest by index.
        #expect(model.recommend(UserQuery.training(2, in: data.matrix), n: 3).map(\.index) == [0, 1, 2])
        // Negative weights (dislikes) add nothing.
        let disliked = Self.scores(model, UserQuery(items: [0], weights: [-1]))
        #expect(disliked == [0, 0, 0, 0])
    }

    @Test func knnKeepsOnlyTheTopNeighbours() throws {
        let data = Self.knnData()
        let model = try #require(
            try ModelTrainer.fit(try ModelSpec(name: "knn", algorithm: .itemKNN, parameters: ["neighbors": 2, "shrinkage": 0]), data: data, threads: 1)
                as? ItemKNNModel)
        // a keeps itself and b (similarity 1 each); c (1/√2) falls out.
        #expect(Set(model.neighbors(of: 0).map(\.0)) == [0, 1])
        #expect(model.similarItems(to: 0, n: 10).map(\.index) == [1])
    }

    @Test func knnShrinkageScalesSimilarities() throws {
        let data = Self.knnData()
        let model = try #require(
            try ModelTrainer.fit(try ModelSpec(name: "knn", algorithm: .itemKNN, parameters: ["neighbors": 10, "shrinkage": 2]), data: data, threads: 1)
                as? ItemKNNModel)
        // a–b: cosine 1, |a||b| = 2, so 1 · 2 / (2 + 2) = 0.5. a–c: (1/√2) · √2 / (√2 + 2).
        let a = model.similarItems(to: 0, n: 10)
        #expect(a.map(\.index) == [1, 2])
        #expect(abs(a[0].score - 0.5) < 1e-6)
        #expect(abs(Double(a[1].score) - 1 / (2.0.squareRoot() + 2)) < 1e-6)
    }

    @Test func knnSurvivesItsArtifact() throws {
        let data = Self.knnData()
        let model = try Self.knn(data)
        let bytes = model.artifact().encoded()
        let loaded = try ModelTrainer.load(try ModelArtifact(decoding: bytes))
        #expect(loaded.algorithm == .itemKNN)
        #expect(loaded.parameters == ["neighbors": 10, "shrinkage": 0])
        for user in 0..<data.users.count {
            let query = UserQuery.training(user, in: data.matrix)
            #expect(Self.scores(loaded, query) == Self.scores(model, query))
            let before = model.recommend(query, n: 4)
            let after = loaded.recommend(query, n: 4)
            #expect(after.map(\.index) == before.map(\.index))
            #expect(after.map(\.score) == before.map(\.score))
        }
        for item in Int32(0)..<4 {
            #expect(loaded.similarItems(to: item, n: 4).map(\.index) == model.similarItems(to: item, n: 4).map(\.index))
        }
        #expect(loaded.artifact().encoded() == bytes)
        // Fitting again gives the same bytes.
        #expect(try Self.knn(data).artifact().encoded() == bytes)
    }

    @Test func anArtifactOfAnotherAlgorithmIsRefused() throws {
        let artifact = PopularityModel.fit(Self.popularityData()).artifact()
        #expect(throws: StrataError.self) { try ItemKNNModel(artifact: artifact) }
        var missing = artifact
        missing.floats = [:]
        #expect(throws: StrataError.self) { try ModelTrainer.load(missing) }
        var wrongSize = artifact
        wrongSize.metadata["items"] = 5
        #expect(throws: StrataError.self) { try ModelTrainer.load(wrongSize) }
    }
}
