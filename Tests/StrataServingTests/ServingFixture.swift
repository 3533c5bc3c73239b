import Foundation
import StrataCore
import StrataFeatures
import StrataLake
import StrataMetadata
import StrataRegistry
import StrataServing
import StrataTesting
import StrataTraining

/// A project with generated shop history in a snapshot, two trained and approved versions of
/// one ALS model (`recs`), the feature store, and the serving layer over SQLite metadata.
final class ServingFixture: @unchecked Sendable {
    let directory: TemporaryDirectory
    let config: StrataConfig
    let lake: Lake
    let store: MetadataStore
    let audit: AuditLog
    let registry: ModelRegistry
    let runs: RunStore
    let blobs: FileBlobStore
    let features: FeatureStore
    var controller: DeploymentController!
    var versions: [ModelVersion] = []
    /// The generated history the project was given.
    private(set) var history: [IncomingEvent] = []
    static let approver = Principal(id: "apr", name: "ann", roles: [.approver])

    /// `historyLimit`: the oldest events only (nil: the whole history, ending now). `clock`: the
    /// lake's (and so serving's and monitoring's) clock; a `ManualClock` keeps time-window checks
    /// independent of how long the setup takes on a busy machine.
    /// `catalog`: whether the generated catalog is upserted first (false: interactions only, as
    /// after importing a history); `generate` adjusts the generator (users, items, days, end).
    init(
        historyLimit: Int? = 6000, clock: any WallClock = SystemClock(), catalog: Bool = true, configure: (inout StrataConfig) -> Void = { _ in },
        generate: (inout GeneratorConfig) -> Void = { _ in }
    ) async throws {
        directory = TemporaryDirectory("strata-serving")
        var config = Fixtures.config
        config.serving.model = "recs"
        config.serving.precomputeIntervalMillis = 0
        config.registry.gateMargin = -1
        configure(&config)
        self.config = config
        lake = try Fixtures.lake(directory, config: config, clock: clock)
        var generatorConfig = GeneratorConfig(endMillis: clock.nowMillis())
        generatorConfig.seed = 21
        generatorConfig.days = 3
        generatorConfig.users = 300
        generatorConfig.items = 500
        generate(&generatorConfig)
        var generator = SyntheticGenerator(contract: config.contract, config: generatorConfig)
        if catalog { _ = try await lake.ingestor.upsertCatalog(.item, generator.catalog().items, source: "test") }
        history = generator.history(limit: historyLimit)
        for chunk in stride(from: 0, to: history.count, by: 10_000) {
            _ = try await lake.ingestor.ingest(events: Array(history[chunk..<min(chunk + 10_000, history.count)]), source: "test", allowLate: true)
        }
        try lake.catalog.catchUp()
        _ = try await lake.maintain(force: true)
        _ = try await lake.compactor.snapshot()
        store = try await MetadataStore.open(url: "sqlite:", defaultSQLitePath: directory.file("metadata.sqlite"), logger: quietLogger)
        audit = AuditLog(store: store)
        registry = ModelRegistry(store: store, audit: audit)
        runs = RunStore(store: store)
        blobs = FileBlobStore(root: directory.file("blobs"))
        features = try FeatureStore(lake: lake, definitions: config.contract.features, logger: quietLogger)
        let trainer = Trainer(
            runs: runs, blobs: blobs, registry: registry, audit: audit, directory: DataDirectory(root: directory.path, project: config.project), config: config,
            codeVersion: "git:test", threads: 2)
        let scientist = Principal(id: "sci", name: "sam", roles: [.scientist])
        for seed in [1, 2] {
            let spec = try ModelSpec(name: "recs", algorithm: .als, parameters: ["factors": 8, "iterations": 3, "seed": Double(seed)])
            let version = try await trainer.train(TrainingRequest(spec: spec, principal: scientist)).version!
            versions.append(try await registry.approve(version.reference, reason: "test", by: Self.approver))
        }
        _ = try await registry.promote(versions[0].reference, by: Self.approver)
        controller = makeController()
        try await controller.start()
    }

    /// A fresh serving layer over the same metadata and lake (what a restart builds).
    func makeController(bus: (any DeploymentChangeBus)? = nil) -> DeploymentController {
        let activity = try! ServingActivity(lake: lake, settings: ServingSettings(config), logger: quietLogger)
        let cache = MemoryRecommendationCache()
        let service = RecommendationService(lake: lake, features: features, activity: activity, cache: cache, metrics: ServingMetrics())
        return DeploymentController(
            store: DeploymentStore(records: DeploymentRecords(store: store)), service: service, registry: registry,
            loader: ModelLoader(registry: registry, runs: runs, blobs: blobs),
            precomputer: Precomputer(lake: lake, activity: activity, cache: cache, topN: 50, threads: 2), audit: audit, lake: lake, logger: quietLogger,
            bus: bus)
    }

    var service: RecommendationService { controller.service }

    /// Ingests events and waits until serving and the feature store have applied them.
    func ingest(_ events: [IncomingEvent]) async throws {
        _ = try await lake.ingestor.ingest(events: events, source: "test", allowLate: true)
        try features.catchUp()
        await service.activity.waitUntilApplied(through: lake.log.endOffset)
    }

    func event(_ type: String, user: String, item: String, at: Int64? = nil, _ extra: [(name: String, value: FieldValue?)] = []) -> IncomingEvent {
        IncomingEvent(type: type, userID: user, time: .millis(at ?? lake.clock.nowMillis()), fields: [("item_id", .string(item))] + extra)
    }

    /// Users the generator made (and the model trained on).
    var knownUsers: [String] { controller.service.state("default")!.variants[0].model!.recommender.users.ids }

    func close() async {
        await controller.stopBatchJobs()
        await lake.close()
        await store.close()
        directory.remove()
    }
}
