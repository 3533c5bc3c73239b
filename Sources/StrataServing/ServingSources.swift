import StrataCore
import StrataLake

/// What the serving components read of the data layer, and nothing more: the event stream's
/// acknowledged end (so a read follows the caller's writes), the catalog, who was forgotten,
/// the clock, the contract version every answer carries, and serving's own folder for the
/// precompute checkpoints. The wiring builds it from an open `Lake` (`init(lake:)`); through it
/// no component reaches ingestion, compaction or the configuration.
public struct ServingSources: Sendable {
    public let events: EventStream
    public let catalog: CatalogView
    public let forgets: ForgetList
    public let clock: any WallClock
    public let contractVersion: String
    /// Where the batch job keeps its checkpoints (`serving/precompute` in the project folder).
    public let precomputeDirectory: String

    public init(events: EventStream, catalog: CatalogView, forgets: ForgetList, clock: any WallClock, contractVersion: String, precomputeDirectory: String) {
        self.events = events
        self.catalog = catalog
        self.forgets = forgets
        self.clock = clock
        self.contractVersion = contractVersion
        self.precomputeDirectory = precomputeDirectory
    }

    public init(lake: Lake) {
        self.init(
            events: lake.events, catalog: lake.catalog, forgets: lake.forgets, clock: lake.clock, contractVersion: lake.ingestor.contract.version,
            precomputeDirectory: lake.directory.precompute)
    }
}
