import StrataCore
import StrataLake
import StrataMetadata
import StrataRegistry
import StrataTraining

/// A small shop (generated events) in a temporary folder, its lake open, and a trainer over an
/// embedded SQLite registry: what the training suites, and the MLflow mirror's, build on.
public struct TrainingProject: Sendable {
    public let directory: TemporaryDirectory
    public let config: StrataConfig
    public let lake: Lake
    public let store: MetadataStore
    public let audit: AuditLog
    public let registry: ModelRegistry
    public let trainer: Trainer
    /// The snapshot taken at setup (`snapshot: true`), which `latest` names.
    public let snapshot: String?

    /// `events` generated with `seed`; `mirror`: an MLflow server the trainer mirrors runs to.
    public init(
        config: StrataConfig = Fixtures.config, events: Int = 3000, seed: UInt64, snapshot: Bool, codeVersion: String = "git:test",
        mirror: MLflowMirror? = nil, observer: TrainingObserver? = nil
    ) async throws {
        directory = TemporaryDirectory("strata-training")
        self.config = config
        lake = try Fixtures.lake(directory, config: config)
        _ = try await lake.ingestor.ingest(events: Fixtures.events(events, seed: seed), source: "test", allowLate: true)
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
            mirror: mirror, observer: observer)
    }

    public func close() async {
        await lake.close()
        await store.close()
        directory.remove()
    }
}
