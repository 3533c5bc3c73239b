import Foundation
import StrataCore
import StrataLake
import StrataML
import StrataTesting
import Testing

@testable import StrataTraining

/// What every run trains and evaluates on: a snapshot's weighted interactions, split by time
/// per user.
@Suite(.serialized) struct TrainingDataTests {
    /// A lake snapshot of 3,000 generated events; its manifest and lake folder.
    static func snapshot(_ directory: TemporaryDirectory) async throws -> (SnapshotManifest, String) {
        let lake = try Fixtures.lake(directory)
        _ = try await lake.ingestor.ingest(events: Fixtures.events(3000, seed: 43), source: "test", allowLate: true)
        _ = try await lake.maintain(force: true)
        let version = try await lake.compactor.snapshot().version
        let manifest = try lake.snapshots.manifest(version)
        let root = lake.directory.lake
        await lake.close()
        return (manifest, root)
    }

    @Test func theSplitHoldsOutEachUsersLatestItemsAndKeepsTheRestForTraining() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (manifest, root) = try await Self.snapshot(directory)
        let policy = Fixtures.config.training.interactions
        let rows = try TrainingData.interactions(manifest, lakeRoot: root, policy: policy, threads: 2)
        #expect(!rows.isEmpty)
        let split = try TrainingData.split(manifest, lakeRoot: root, policy: policy)
        #expect(split.train.users.count == Set(rows.map(\.user)).count)
        #expect(split.train.items.count == Set(rows.map(\.item)).count)
        // Per user: distinct items, each at its first time.
        var first: [String: [String: Int64]] = [:]
        for row in rows { first[row.user, default: [:]][row.item] = min(first[row.user]?[row.item] ?? .max, row.timestamp) }
        var heldOut = 0
        for (index, test) in split.test {
            let user = split.train.users.id(at: Int32(index))
            let pairs = try #require(first[user])
            #expect(pairs.count >= 5, "only users with five items or more are evaluated")
            #expect(test.count <= max(1, pairs.count / 5))
            let row = split.train.matrix.row(index)
            let trained = Set(row.indices)
            #expect(trained.isDisjoint(with: test), "a held-out item is not trained on for that user")
            // Held-out items are the user's latest: none of the positive trained items came later
            // (a pair cancelled by a negative signal stays in training wherever it falls).
            let positive = zip(row.indices, row.values).filter { $0.1 > 0 }.map(\.0)
            let latestTrained = positive.compactMap { pairs[split.train.items.id(at: $0)] }.max() ?? .min
            let earliestTested = test.compactMap { pairs[split.train.items.id(at: $0)] }.min() ?? .max
            #expect(latestTrained <= earliestTested, "\(user)")
            heldOut += test.count
        }
        #expect(heldOut == split.testInteractions && heldOut > 0)
        #expect(split.evaluatedUsers == split.test.keys.sorted())
        // Users with fewer than five items train only.
        for (user, pairs) in first where pairs.count < 5 {
            #expect(split.test[Int(split.train.users.index(of: user)!)] == nil, "\(user)")
        }
        // The same snapshot splits the same way.
        let again = try TrainingData.split(manifest, lakeRoot: root, policy: policy)
        #expect(again.test == split.test && again.train.matrix.nonZeros == split.train.matrix.nonZeros)
    }

    @Test func weightsScaleAndOnlyListedTypesCount() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (manifest, root) = try await Self.snapshot(directory)
        let views = try TrainingData.interactions(manifest, lakeRoot: root, policy: InteractionPolicy(weights: ["view": 1]), threads: 1)
        let doubled = try TrainingData.interactions(manifest, lakeRoot: root, policy: InteractionPolicy(weights: ["view": 2]), threads: 2)
        #expect(!views.isEmpty && views.count == doubled.count)
        #expect(zip(views, doubled).allSatisfy { $0.user == $1.user && $0.item == $1.item && $1.weight == 2 * $0.weight }, "the same rows, in the same order")
        let both = try TrainingData.interactions(manifest, lakeRoot: root, policy: InteractionPolicy(weights: ["view": 1, "purchase": 8]), threads: 2)
        let purchases = try TrainingData.interactions(manifest, lakeRoot: root, policy: InteractionPolicy(weights: ["purchase": 8]), threads: 2)
        #expect(both.count == views.count + purchases.count)
        #expect(purchases.allSatisfy { $0.weight == 8 })
        // A negative type subtracts.
        let hides = try TrainingData.interactions(
            manifest, lakeRoot: root, policy: InteractionPolicy(weights: ["hide": 1], negativeTypes: ["hide"]), threads: 2)
        #expect(hides.allSatisfy { $0.weight == -1 })
        // With a half-life, the newest interaction keeps its weight and older ones weigh less.
        let decayed = try TrainingData.interactions(
            manifest, lakeRoot: root, policy: InteractionPolicy(weights: ["view": 1], halfLifeMillis: 86_400_000), threads: 2)
        let newest = try #require(decayed.map(\.timestamp).max())
        #expect(decayed.allSatisfy { $0.weight > 0 && $0.weight <= 1 })
        #expect(decayed.filter { $0.timestamp == newest }.allSatisfy { $0.weight == 1 })
        #expect(decayed.contains { $0.weight < 0.5 }, "three days of history span more than one half-life")
    }

    @Test func aPolicyWithoutMatchingEventsHasNothingToSplit() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (manifest, root) = try await Self.snapshot(directory)
        do {
            _ = try TrainingData.split(manifest, lakeRoot: root, policy: InteractionPolicy(weights: ["no_such_type": 1]))
            Issue.record("a split without interactions must be refused")
        } catch let error as StrataError {
            #expect(error.code == "no_interactions" && error.kind == .invalidInput)
            #expect(error.message.contains(String(manifest.version.prefix(12))))
        }
    }

    @Test func samplingEvaluatedUsersKeepsTrainingAndSpreadsEvenly() {
        var rows: [TimedInteraction] = []
        for user in 0..<40 {
            for item in 0..<(5 + user % 4) { rows.append(TimedInteraction(user: "u\(user)", item: "i\(item)", timestamp: Int64(item))) }
        }
        let split = EvaluationSplit.temporal(rows)
        #expect(split.test.count == 40)
        let sampled = split.sampled(users: 10)
        #expect(sampled.test.count == 10)
        #expect(sampled.test.keys.allSatisfy { split.test[$0] == sampled.test[$0] })
        #expect(sampled.evaluatedUsers == stride(from: 0, to: 40, by: 4).map { $0 }, "every fourth user")
        #expect(sampled.train.matrix.nonZeros == split.train.matrix.nonZeros)
        #expect(split.sampled(users: 100).test == split.test, "fewer users than the limit: all of them")
        #expect(split.sampled(users: 0).test == split.test)
        // Numeric ids are ordered as numbers.
        #expect(split.train.users.id(at: 2) == "u10", "text ids sort as text")
        let numeric = EvaluationSplit.temporal([TimedInteraction(user: "10", item: "1", timestamp: 0), TimedInteraction(user: "9", item: "2", timestamp: 0)])
        #expect(numeric.train.users.id(at: 0) == "9")
    }
}
