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

    /// Every weighted interaction of the snapshot (what the split divides).
    public static func interactions(_ manifest: SnapshotManifest, lakeRoot: String, policy: InteractionPolicy) throws -> [TimedInteraction] {
        var events: [Event] = []
        for file in manifest.files where policy.weights[file.type] != nil {
            events += try LakeFileReader.read(path: "\(lakeRoot)/\(file.path)", type: file.type)
        }
        let reference = events.map(\.timestamp).max() ?? 0
        return events.compactMap { event -> TimedInteraction? in
            guard let user = event.userID, let item = event.itemID,
                let weight = policy.weight(type: event.type, timestamp: event.timestamp, reference: reference)
            else { return nil }
            return TimedInteraction(user: user, item: item, timestamp: event.timestamp, weight: Float(weight))
        }
    }
}
