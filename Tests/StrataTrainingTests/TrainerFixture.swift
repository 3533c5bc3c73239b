import StrataCore
import StrataLake
import StrataMetadata
import StrataRegistry
import StrataTesting

@testable import StrataTraining

/// A small shop (3,000 generated events) in a temporary folder, its lake open, and a trainer
/// over an embedded SQLite registry: what the training suites build on.
struct TrainerFixture {
    let directory: TemporaryDirectory
    let config: StrataConfig
    let lake: Lake
    let store: MetadataStore
    let audit: AuditLog
    let registry: ModelRegistry
    let trainer: Trainer
    /// The snapshot taken at setup (`snapshot: true`), which `latest` names.
    let snapshot: String?

    init(
        config: StrataConfig = Fixtures.config, seed: UInt64, snapshot: Bool, codeVersion: String = "git:test", observer: TrainingObserver? = nil
    ) async throws {
        directory = TemporaryDirectory("strata-training")
        self.config = config
        lake = try Fixtures.lake(directory, config: config)
        _ = try await lake.ingestor.ingest(events: Fixtures.events(3000, seed: seed), source: "test", allowLate: true)
        if snapshot {
            _ = try await lake.maintain(force: true)
            self.snapshot = try await lake.compactor.snapshot().version
        } else {
            self.snapshot = nil
        }
        store = try await MetadataStore.open(url: "sqlite:", defaultSQLitePath: directory.file("metadata.sqlite"), logger: quietLogger)
        audit = AuditLog(store: store)
        registry = ModelRegistry(store: store, audit: audit)
        trainer = Trainer(
            runs: RunStore(store: store), blobs: FileBlobStore(root: directory.file("blobs")), registry: registry, audit: audit,
            directory: DataDirectory(root: directory.path, project: config.project), config: config, codeVersion: codeVersion, threads: 2,
            observer: observer)
    }

    func close() async {
        await lake.close()
        await store.close()
        directory.remove()
    }
}
