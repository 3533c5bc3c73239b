import StrataCore
import StrataFeatures
import StrataML

/// The learning-to-rank stage in production: re-orders the live model's best candidates by
/// gradient-boosted trees over the user's and the items' features, read from the online store
/// (the same definitions the training set computed point-in-time).
public final class LoadedReranker: Sendable {
    public let reference: String
    let ranker: GradientBoostedRanker
    let entities: [FeatureDefinition.Entity]
    public let candidates: Int

    init(reference: String, artifact bytes: [UInt8]) throws {
        let artifact = try ModelArtifact(decoding: bytes)
        self.reference = reference
        self.ranker = try ModelTrainer.loadRanker(bytes)
        self.entities = (artifact.idLists["entities"] ?? []).map { FeatureDefinition.Entity(rawValue: $0) ?? .item }
        self.candidates = artifact.metadata["candidates"] ?? 50
        guard entities.count == ranker.features.count else { throw StrataError.invalid("invalid_artifact", "the re-ranker's features and entities disagree") }
    }

    /// The candidates (item ids, best first by the first stage) in the ranker's order, with its
    /// scores; ties keep the first stage's order.
    func order(user: String, items: [String], reader: any OnlineFeatureReader) async throws -> [(index: Int, score: Float)] {
        let userNames = zip(ranker.features, entities).filter { $0.1 == .user }.map(\.0)
        let itemNames = zip(ranker.features, entities).filter { $0.1 == .item }.map(\.0)
        let userValues = userNames.isEmpty ? [] : try await reader.read(.user, ids: [user], features: userNames)[0]
        let itemValues = itemNames.isEmpty ? Array(repeating: [], count: items.count) : try await reader.read(.item, ids: items, features: itemNames)
        var rows: [Float] = []
        rows.reserveCapacity(items.count * ranker.features.count)
        for row in items.indices {
            var userColumn = 0
            var itemColumn = 0
            for entity in entities {
                let reading = entity == .user ? userValues[userColumn] : itemValues[row][itemColumn]
                if entity == .user { userColumn += 1 } else { itemColumn += 1 }
                rows.append(reading.value?.featureNumber.map(Float.init) ?? .nan)
            }
        }
        let scores = try ranker.predict(rows: rows, count: items.count)
        return items.indices.map { ($0, scores[$0]) }.sorted { ($0.score, -$0.index) > ($1.score, -$1.index) }
    }
}

extension ModelLoader {
    /// The re-ranker version `reference` names.
    public func loadReranker(_ reference: String) async throws -> LoadedReranker {
        let version = try await registry.resolve(reference)
        return try LoadedReranker(reference: version.reference, artifact: try await blobs.get(version.artifactHash))
    }
}
