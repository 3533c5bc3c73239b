import Foundation
import StrataCore
import Testing

@testable import StrataML

/// Tiny hand-made data where the right answer is known.
@Suite struct ModelTests {
    /// Two groups of users with disjoint tastes; each user misses one item of their group.
    static func twoCommunities(users perGroup: Int = 20, items perGroupItems: Int = 10) -> (data: InteractionData, heldOut: [Int: Int32]) {
        var builder = InteractionBuilder()
        builder.addItems((0..<(2 * perGroupItems)).map { "i\($0)" })
        var heldOut: [Int: Int32] = [:]
        for user in 0..<(2 * perGroup) {
            let group = user / perGroup
            let missing = group * perGroupItems + user % perGroupItems
            for item in (group * perGroupItems)..<((group + 1) * perGroupItems) where item != missing {
                builder.add(user: "u\(user)", item: "i\(item)", weight: 1)
            }
            heldOut[user] = Int32(missing)
        }
        return (builder.build(), heldOut)
    }

    @Test(arguments: [Algorithm.itemKNN, .als, .bpr, .ease])
    func everyModelRecommendsTheMissingItemOfTheUsersOwnGroup(algorithm: Algorithm) throws {
        let (data, heldOut) = Self.twoCommunities()
        var parameters: [String: Double] = [:]
        if algorithm == .als { parameters = ["factors": 8, "iterations": 15, "alpha": 5, "regularization": 0.1] }
        if algorithm == .bpr { parameters = ["factors": 4, "iterations": 200, "learning_rate": 0.05] }
        if algorithm == .ease { parameters = ["regularization": 1] }
        let model = try ModelTrainer.fit(try ModelSpec(name: "m", algorithm: algorithm, parameters: parameters), data: data, threads: 2)
        var correct = 0
        for user in 0..<data.users.count {
            let top = model.recommend(UserQuery.training(user, in: data.matrix), n: 1)
            if top.first?.index == heldOut[user] { correct += 1 }
        }
        #expect(correct == data.users.count, "\(algorithm): \(correct) of \(data.users.count)")
    }

    @Test func alsRecoversAPlantedLowRankStructure() throws {
        // Preferences from rank-2 factors: users like items whose sign pattern matches theirs.
        var rng = SplitMix64(seed: 5)
        var builder = InteractionBuilder()
        let userTaste = (0..<60).map { _ in (rng.chance(0.5), rng.chance(0.5)) }
        let itemKind = (0..<30).map { _ in (rng.chance(0.5), rng.chance(0.5)) }
        var truth: [[Bool]] = []
        for (user, taste) in userTaste.enumerated() {
            var row: [Bool] = []
            for (item, kind) in itemKind.enumerated() {
                let liked = taste == kind
                row.append(liked)
                if liked && rng.chance(0.7) { builder.add(user: "u\(user)", item: "i\(item)", weight: 1) }
            }
            truth.append(row)
        }
        builder.addItems((0..<30).map { "i\($0)" })
        let data = builder.build()
        let model = try ALSModel.fit(data, parameters: ALSParameters(factors: 4, regularization: 0.1, alpha: 10, iterations: 15), threads: 1)
        // Unseen items the user would like score above unseen items they would not.
        var pairs = 0
        var ordered = 0
        for user in 0..<data.users.count {
            var scores = [Float](repeating: 0, count: data.items.count)
            scores.withUnsafeMutableBufferPointer { model.score(UserQuery.training(user, in: data.matrix), into: $0) }
            let seen = Set(data.matrix.row(user).indices)
            let userID = data.users.id(at: Int32(user))
            let userIndex = Int(userID.dropFirst())!
            for a in 0..<data.items.count where !seen.contains(Int32(a)) {
                for b in 0..<data.items.count where !seen.contains(Int32(b)) {
                    let itemA = Int(data.items.id(at: Int32(a)).dropFirst())!
                    let itemB = Int(data.items.id(at: Int32(b)).dropFirst())!
                    guard truth[userIndex][itemA] && !truth[userIndex][itemB] else { continue }
                    pairs += 1
                    if scores[a] > scores[b] { ordered += 1 }
                }
            }
        }
        #expect(pairs > 100)
        #expect(Double(ordered) / Double(pairs) > 0.95, "\(ordered)/\(pairs)")
    }

    @Test func itemKNNFindsThePlantedNeighbour() throws {
        var builder = InteractionBuilder()
        // i0 and i1 are always bought together; i2..i9 are random noise.
        var rng = SplitMix64(seed: 3)
        for user in 0..<50 {
            if user % 2 == 0 {
                builder.add(user: "u\(user)", item: "i0", weight: 1)
                builder.add(user: "u\(user)", item: "i1", weight: 1)
            }
            builder.add(user: "u\(user)", item: "i\(2 + rng.nextInt(below: 8))", weight: 1)
        }
        let data = builder.build()
        let model = ItemKNNModel.fit(data, neighbors: 5, shrinkage: 0, threads: 2)
        let i0 = data.items.index(of: "i0")!
        #expect(model.similarItems(to: i0, n: 1).first?.index == data.items.index(of: "i1"))
        #expect(abs((model.similarItems(to: i0, n: 1).first?.score ?? 0) - 1) < 1e-6)
    }

    @Test func bprRanksObservedAboveUnobserved() throws {
        let (data, _) = Self.twoCommunities(users: 15, items: 8)
        let model = try BPRModel.fit(data, parameters: BPRParameters(factors: 8, learningRate: 0.05, iterations: 150))
        var above = 0
        var total = 0
        for user in 0..<data.users.count {
            var scores = [Float](repeating: 0, count: data.items.count)
            scores.withUnsafeMutableBufferPointer { model.score(UserQuery.training(user, in: data.matrix), into: $0) }
            let seen = Set(data.matrix.row(user).indices)
            for observed in seen {
                for other in 0..<Int32(data.items.count) where !seen.contains(other) {
                    total += 1
                    if scores[Int(observed)] > scores[Int(other)] { above += 1 }
                }
            }
        }
        #expect(Double(above) / Double(total) > 0.9, "\(above)/\(total)")
    }

    @Test func popularityCountsAndBreaksTiesByIndex() {
        var builder = InteractionBuilder()
        builder.addItems(["a", "b", "c", "d"])
        for (user, item) in [("u1", "c"), ("u2", "c"), ("u3", "b"), ("u1", "d"), ("u2", "d"), ("u3", "a")] { builder.add(user: user, item: item, weight: 1) }
        let data = builder.build()
        let model = PopularityModel.fit(data)
        // c and d have 2 each (c first by index), then a and b with 1 (a first); u3 saw b and a.
        let top = model.recommend(UserQuery.training(Int(data.users.index(of: "u3")!), in: data.matrix), n: 4)
        #expect(top.map { data.items.id(at: $0.index) } == ["c", "d"])
    }

    @Test func negativeSignalIsExcludedAndNotLiked() throws {
        var builder = InteractionBuilder()
        builder.add(user: "u", item: "a", weight: 1)
        builder.add(user: "u", item: "b", weight: 1)
        builder.add(user: "u", item: "b", weight: -1)  // a hide cancels the view
        builder.add(user: "u", item: "c", weight: -2)
        builder.add(user: "v", item: "c", weight: 1)
        builder.add(user: "v", item: "d", weight: 1)
        let data = builder.build()
        #expect(data.matrix.row(Int(data.users.index(of: "u")!)).values.elementsEqual([1, -2]))
        #expect(data.positives.nonZeros == 3)
        let model = PopularityModel.fit(data)
        let top = model.recommend(UserQuery.training(Int(data.users.index(of: "u")!), in: data.matrix), n: 3).map { data.items.id(at: $0.index) }
        #expect(!top.contains("c"), "a disliked item is never recommended")
        #expect(!top.contains("a"))
    }
}
