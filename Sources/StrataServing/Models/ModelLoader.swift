import StrataCore
import StrataML
import StrataRegistry
import Synchronization

/// Loads model versions from the registry and the blob store, keeping the recently served
/// ones in memory so that a rollback to the previous version swaps without loading.
public final class ModelLoader: Sendable {
    let registry: ModelRegistry
    let runs: RunStore
    let blobs: any BlobStore
    let capacity: Int
    /// `serving.ann.ef_search`, applied to loaded retrieval indexes (nil: as trained).
    let searchBreadth: Int?
    private let loaded = Mutex<[(key: String, model: ServedModel)]>([])

    public init(registry: ModelRegistry, runs: RunStore, blobs: any BlobStore, capacity: Int = 8, searchBreadth: Int? = nil) {
        self.registry = registry
        self.runs = runs
        self.blobs = blobs
        self.capacity = capacity
        self.searchBreadth = searchBreadth
    }

    /// The model version `reference` names (`NAME@VERSION`, `NAME@production`, ...), loaded.
    public func load(_ reference: String) async throws -> ServedModel {
        let version = try await registry.resolve(reference)
        if let cached = cached(version.reference) { return cached }
        let bytes: [UInt8]
        do {
            bytes = try await blobs.get(version.artifactHash)
        } catch {
            throw StrataError(.unavailable, code: "artifact_unavailable", "\(version.reference): its artifact cannot be read (\(error))")
        }
        let recommender = try ModelTrainer.load(try ModelArtifact(decoding: bytes))
        if let searchBreadth, let retrieval = (recommender as? any FactorRecommender)?.retrieval { retrieval.setSearchBreadth(searchBreadth) }
        let run = try? await runs.get(version.runID)
        let lineage = ServingLineage(
            model: version.model, version: version.version, runID: version.runID, artifactHash: version.artifactHash,
            dataVersion: run?.dataVersion ?? "unknown", contractVersion: run?.contractVersion ?? "unknown", codeVersion: run?.codeVersion ?? "unknown")
        let model = ServedModel(version: version, recommender: recommender, lineage: lineage)
        loaded.withLock { list in
            list.removeAll { $0.key == model.key }
            list.append((model.key, model))
            if list.count > capacity { list.removeFirst(list.count - capacity) }
        }
        return model
    }

    func cached(_ key: String) -> ServedModel? {
        loaded.withLock { list in
            guard let index = list.firstIndex(where: { $0.key == key }) else { return nil }
            let entry = list.remove(at: index)
            list.append(entry)
            return entry.model
        }
    }

    /// Every model in memory (the catalog refresher walks them).
    public var models: [ServedModel] { loaded.withLock { $0.map(\.model) } }
}
