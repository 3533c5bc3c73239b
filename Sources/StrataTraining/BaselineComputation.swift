import Foundation
import StrataCore
import StrataFeatures
import StrataLake
import StrataML
import StrataRegistry

extension ModelBaseline {
    /// The population is what drift monitoring then measures live: the training users active
    /// (with an event any numeric feature reads) in the last `window` before the snapshot's end,
    /// each read point-in-time at that end; all training users when fewer than `minActive` were
    /// active (or no feature is numeric). At most `sample` of them (every k-th, deterministic),
    /// and the model's best score for each over the items they never interacted with (`heldOut`:
    /// the holdout's items per user, which the serving cache excludes as it does the rest).
    static func compute(
        model: any Recommender, train: InteractionData, heldOut: [Int: Set<Int32>], manifest: SnapshotManifest, lakeRoot: String,
        contract: Contract, window: Int64, sample: Int = 1000, minActive: Int = 50
    ) throws -> ModelBaseline {
        let numeric = contract.features.filter { $0.entity == .user && [.int, .double, .bool].contains($0.valueType) }
        var needed = Set(numeric.flatMap(\.sources))
        for feature in numeric where feature.aggregation == .ratio {
            for part in [feature.numerator, feature.denominator].compactMap({ $0 }) {
                needed.formUnion(contract.features.first { $0.name == part }?.sources ?? [])
            }
        }
        let snapshot = SnapshotReader(manifest: manifest, lakeRoot: lakeRoot)
        // The fields those features aggregate or filter on: the only columns decoded besides the envelope.
        let involved = contract.features.filter { feature in
            numeric.contains { $0.name == feature.name || $0.numerator == feature.name || $0.denominator == feature.name }
        }
        let fields = Set(involved.compactMap(\.field) + involved.flatMap { $0.filters.map(\.field) })
        // Who was active, and when the data ends, from two columns of the files features read
        // (one file per thread); whole events are built for the sampled users only, below.
        let activity = try snapshot.columns(types: needed, ["user_id", "timestamp"]) { _, columns in
            (users: columns.strings("user_id"), timestamps: columns.millis("timestamp").map { $0 ?? 0 })
        }
        let asOf = numeric.isEmpty ? 0 : (activity.lazy.compactMap { $0.timestamps.max() }.max() ?? 0) + 1
        var activeIDs = Set<String>()
        for file in activity {
            for (user, timestamp) in zip(file.users, file.timestamps) where timestamp >= asOf - window { if let user { activeIDs.insert(user) } }
        }
        let active = (0..<train.users.count).filter { activeIDs.contains(train.users.id(at: Int32($0))) }
        let population = active.count >= minActive ? active : Array(0..<train.users.count)
        let step = max(1, population.count / max(1, sample))
        let picked = stride(from: 0, to: population.count, by: step).map { population[$0] }
        var scores: [Double] = []
        for user in picked {
            // Through the retrieval index when the model has one, as serving scores.
            if let best = Evaluator.top(model, UserQuery.training(user, in: train.matrix), k: 1, excluding: heldOut[user] ?? []).first {
                scores.append(Double(best.score))
            }
        }
        var features: [String: BinnedDistribution] = [:]
        if !numeric.isEmpty {
            let queries = picked.map { FeatureQuery(entity: .user, id: train.users.id(at: Int32($0)), time: asOf) }
            // User features read only their user's events: the sampled users' are all it needs.
            let pickedIDs = Set(queries.map(\.id))
            let theirs = try snapshot.events(types: needed, users: pickedIDs, fields: fields)
            let readings = try PointInTime.compute(definitions: contract.features, events: theirs, queries: queries, features: numeric.map(\.name))
            for (column, feature) in numeric.enumerated() {
                features[feature.name] = .baseline(readings.compactMap { $0[column].value?.featureNumber })
            }
        }
        return ModelBaseline(features: features, scores: .baseline(scores), asOf: asOf, users: picked.count)
    }
}
