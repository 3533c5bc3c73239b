import Foundation
import StrataCore

/// Top-k ranking quality, with the definitions of `../shared/anchors/implicit_anchor.py`:
/// binary relevance; precision divided by k; NDCG with a log2 discount and the ideal DCG over
/// min(|test|, k); AP@k normalised by min(|test|, k); each the mean over evaluated users;
/// coverage = distinct recommended items / catalog size.
public struct RankingMetrics: Sendable, Equatable {
    public var k: Int
    public var precision: Double
    public var recall: Double
    public var ndcg: Double
    public var map: Double
    public var hitRate: Double
    public var coverage: Double
    public var evaluatedUsers: Int

    /// Metrics of ranked recommendations (train items already excluded) against test sets.
    public static func compute(recommendations: [Int: [Int32]], test: [Int: Set<Int32>], catalogSize: Int, k: Int = 10) -> RankingMetrics {
        var totals = (precision: 0.0, recall: 0.0, ndcg: 0.0, map: 0.0, hit: 0.0)
        var seen = Set<Int32>()
        let discounts = (0..<k).map { 1 / log2(Double($0) + 2) }
        let users = test.keys.sorted()
        for user in users {
            let relevant = test[user]!
            let ranked = Array((recommendations[user] ?? []).prefix(k))
            seen.formUnion(ranked)
            var hits = 0.0
            var dcg = 0.0
            var precisionSum = 0.0
            for (position, item) in ranked.enumerated() where relevant.contains(item) {
                hits += 1
                dcg += discounts[position]
                precisionSum += hits / Double(position + 1)
            }
            let ideal = discounts.prefix(min(relevant.count, k)).reduce(0, +)
            totals.precision += hits / Double(k)
            totals.recall += hits / Double(relevant.count)
            totals.ndcg += dcg / ideal
            totals.map += precisionSum / Double(min(relevant.count, k))
            totals.hit += hits > 0 ? 1 : 0
        }
        let n = Double(max(users.count, 1))
        return RankingMetrics(
            k: k, precision: totals.precision / n, recall: totals.recall / n, ndcg: totals.ndcg / n, map: totals.map / n, hitRate: totals.hit / n,
            coverage: catalogSize == 0 ? 0 : Double(seen.count) / Double(catalogSize), evaluatedUsers: users.count)
    }

    /// Keyed like the anchor's output: `precision@10`, ..., `coverage`.
    public var json: JSONValue {
        [
            "precision@\(k)": .double(precision), "recall@\(k)": .double(recall), "ndcg@\(k)": .double(ndcg), "map@\(k)": .double(map),
            "hit_rate@\(k)": .double(hitRate), "coverage": .double(coverage), "evaluated_users": .int(evaluatedUsers),
        ]
    }

    /// The value of a metric by name (`ndcg@10`, `ndcg`, `coverage`, ...).
    public func value(named name: String) -> Double? {
        switch name.split(separator: "@").first.map(String.init) ?? name {
        case "precision": precision
        case "recall": recall
        case "ndcg": ndcg
        case "map": map
        case "hit_rate", "hitrate": hitRate
        case "coverage": coverage
        default: nil
        }
    }
}

/// Recommends for every evaluated user of a split and measures the result.
public enum Evaluator {
    public static func evaluate(_ model: any Recommender, split: EvaluationSplit, k: Int = 10, threads: Int = Parallel.coreCount) -> RankingMetrics {
        let users = split.evaluatedUsers
        let results = ChunkResults<[(Int, [Int32])]>(count: (users.count + 63) / 64)
        let matrix = split.train.matrix
        Parallel.forEachChunk(users.count, chunkSize: 64, threads: threads) { range in
            var local: [(Int, [Int32])] = []
            for position in range {
                let user = users[position]
                local.append((user, top(model, UserQuery.training(user, in: matrix), k: k).map(\.index)))
            }
            results.set(range.lowerBound / 64, local)
        }
        var recommendations: [Int: [Int32]] = [:]
        for part in results.values { for (user, items) in part ?? [] { recommendations[user] = items } }
        return RankingMetrics.compute(recommendations: recommendations, test: split.test, catalogSize: split.train.items.count, k: k)
    }
}

extension Evaluator {
    /// A user's top `k` as serving finds them: through the model's retrieval index when it has
    /// one (a large catalogue; the history is excluded during the search), else by scoring
    /// every item. So the holdout measures what users get, at a cost independent of the
    /// catalogue's size.
    public static func top(_ model: any Recommender, _ query: UserQuery, k: Int, excluding excluded: Set<Int32> = []) -> [(index: Int32, score: Float)] {
        if let factor = model as? any FactorRecommender, let retrieval = factor.retrieval {
            let history = Set(query.items).union(excluded)
            return retrieval.recommend(factor.userVector(query), n: k) { history.contains(Int32($0)) }.map { (Int32($0.index), $0.score) }
        }
        return model.recommend(query, n: k, excluding: excluded)
    }

    /// Evaluates a model trained on other data (another snapshot) on this split: users and items
    /// are matched by id, each user's training history is mapped into the model's items (its
    /// unknown items dropped), and users the model never saw are folded in from that history
    /// where the algorithm can. The gate compares a candidate with production this way.
    public static func evaluateByID(_ model: any Recommender, split: EvaluationSplit, k: Int = 10) -> RankingMetrics {
        let matrix = split.train.matrix
        var recommendations: [Int: [Int32]] = [:]
        for user in split.evaluatedUsers {
            let row = matrix.row(user)
            var items: [Int32] = []
            var weights: [Float] = []
            for (item, weight) in zip(row.indices, row.values) {
                guard let mapped = model.items.index(of: split.train.items.id(at: item)) else { continue }
                items.append(mapped)
                weights.append(weight)
            }
            let query = UserQuery(userIndex: model.users.index(of: split.train.users.id(at: Int32(user))).map(Int.init), items: items, weights: weights)
            recommendations[user] = top(model, query, k: k).compactMap { split.train.items.index(of: model.items.id(at: $0.index)) }
        }
        return RankingMetrics.compute(recommendations: recommendations, test: split.test, catalogSize: split.train.items.count, k: k)
    }
}
