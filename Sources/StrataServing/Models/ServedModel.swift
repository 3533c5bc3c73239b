import StrataCore
import StrataLake
import StrataML
import StrataRegistry
import Synchronization

/// What a response names for lineage: the model version and the data and contract behind it.
public struct ServingLineage: Sendable, Equatable {
    public var model: String
    public var version: Int64
    public var runID: String
    public var artifactHash: String
    public var dataVersion: String
    public var contractVersion: String
    public var codeVersion: String

    public var json: JSONValue {
        [
            "model": .string("\(model)@\(version)"), "run": .string(runID), "artifact": .string(artifactHash), "data_version": .string(dataVersion),
            "contract_version": .string(contractVersion), "code_version": .string(codeVersion),
        ]
    }
}

/// A loaded model version ready to answer: the recommender, its lineage, and a view of the
/// catalog aligned to its item indices (what may be recommended, and the fields business
/// filters test), refreshed when the catalog changes.
public final class ServedModel: Sendable {
    public let version: ModelVersion
    public let recommender: any Recommender
    public let lineage: ServingLineage
    private let catalogView = Mutex(ItemCatalog(entries: [], through: -1))

    public init(version: ModelVersion, recommender: any Recommender, lineage: ServingLineage) {
        self.version = version
        self.recommender = recommender
        self.lineage = lineage
    }

    /// `NAME@VERSION`: the key of its cache entries.
    public var key: String { version.reference }
    public var itemCount: Int { recommender.items.count }

    public var catalog: ItemCatalog { catalogView.withLock { $0 } }

    /// Rebuilds the aligned catalog if an entry changed since the last build.
    public func refreshCatalog(from catalog: CatalogView) {
        let through = catalog.revision
        guard catalogView.withLock({ $0.through }) != through else { return }
        let entries = catalog.itemsForServing(recommender.items.ids)
        catalogView.withLock { $0 = ItemCatalog(entries: entries, through: through) }
    }
}

/// Catalog entries by a model's item index. Hidden and deleted items are never recommended;
/// an item the catalog has no entry for may be (a shop that imported its history and adds
/// entries as it goes loses nothing), but it passes no business filter. A catalog change
/// never makes a precomputed list stale: what it affects is skipped here, at read time.
public struct ItemCatalog: Sendable {
    let entries: [CatalogEntry?]
    let through: Int64

    /// Whether `index` may be recommended and passes `filter`.
    @inline(__always)
    func allows(_ index: Int, _ filter: ItemFilter) -> Bool {
        let entry = index < entries.count ? entries[index] : nil
        if entry?.isRecommendable == false { return false }
        return filter.isEmpty || filter.matches(entry)
    }
}
