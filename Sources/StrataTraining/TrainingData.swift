import Foundation
import StrataCore
import StrataLake
import StrataML

/// The interactions of a lake snapshot, weighted by the interaction policy and split by time per
/// user: what every run trains and evaluates on.
public enum TrainingData {
    public static func split(_ manifest: SnapshotManifest, lakeRoot: String, policy: InteractionPolicy) throws -> EvaluationSplit {
        let rows = try interactions(manifest, lakeRoot: lakeRoot, policy: policy)
        guard !rows.isEmpty else {
            throw StrataError.invalid("no_interactions", "snapshot \(manifest.version.prefix(12)) holds no events of the types in interactions.weights")
        }
        return EvaluationSplit.temporal(rows)
    }

    /// Every weighted interaction of the snapshot (what the split divides), in file order and
    /// log order within a file. Only the columns an interaction needs are decoded, one file per
    /// thread: at millions of events, building whole events cost more than the fit.
    public static func interactions(_ manifest: SnapshotManifest, lakeRoot: String, policy: InteractionPolicy, threads: Int = Parallel.coreCount) throws
        -> [TimedInteraction]
    {
        let snapshot = SnapshotReader(manifest: manifest, lakeRoot: lakeRoot)
        let types = Set(policy.weights.keys)
        let files = snapshot.files(types: types)
        let read = try snapshot.columns(types: types, ["offset", "user_id", "item_id", "timestamp"], threads: threads) { _, columns in FileRows(columns) }
        let reference = read.lazy.compactMap { $0.timestamps.max() }.max() ?? 0
        var interactions: [TimedInteraction] = []
        interactions.reserveCapacity(read.reduce(0) { $0 + $1.timestamps.count })
        for (file, rows) in zip(files, read) {
            for row in rows.order {
                guard let user = rows.users[row], let item = rows.items[row],
                    let weight = policy.weight(type: file.type, timestamp: rows.timestamps[row], reference: reference)
                else { continue }
                interactions.append(TimedInteraction(user: user, item: item, timestamp: rows.timestamps[row], weight: Float(weight)))
            }
        }
        return interactions
    }

    /// One file's interaction columns, and its rows in log order (files Strata writes are in
    /// that order already; others may carry an `offset` column in any order, or none).
    private struct FileRows: Sendable {
        var users: [String?]
        var items: [String?]
        var timestamps: [Int64]
        var order: [Int]

        init(_ columns: LakeColumns) {
            users = columns.strings("user_id")
            items = columns.strings("item_id")
            timestamps = columns.millis("timestamp").map { $0 ?? 0 }
            let offsets = columns.millis("offset")
            let ordered = zip(offsets, offsets.dropFirst()).allSatisfy { ($0 ?? 0) <= ($1 ?? 0) }
            order = ordered ? Array(0..<columns.rows) : (0..<columns.rows).sorted { (offsets[$0] ?? Int64($0), $0) < (offsets[$1] ?? Int64($1), $1) }
        }
    }
}
