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
    ///
    /// `trainedVersions`: how many versions of `recs` are trained (seeds 1, 2, …; the first promoted).
    ///
    /// The project (lake, snapshot, metadata, trained versions) is built once per distinct input
    /// and each fixture gets its own copy of that folder (`ServingTemplates`): the fixtures stay
    /// independent, and the suite does not ingest and train the same shop twenty times. A copy's
    /// data ends when its project was built: a `ManualClock` behind that is moved to it, as if
    /// the fixture had built the project itself.
    init(
        historyLimit: Int? = 6000, clock: any WallClock = SystemClock(), catalog: Bool = true, trainedVersions: Int = 2,
        configure: (inout StrataConfig) -> Void = { _ in }, generate: (inout GeneratorConfig) -> Void = { _ in }
    ) async throws {
        var config = Self.baseConfig
        configure(&config)
        self.config = config
        let now = clock.nowMillis()
        var generatorConfig = GeneratorConfig(endMillis: now)
        generatorConfig.seed = 21
        generatorConfig.days = 3
        generatorConfig.users = 300
        generatorConfig.items = 500
        generate(&generatorConfig)
        let inputs = ProjectInputs(config: config, generator: generatorConfig, historyLimit: historyLimit, catalog: catalog, trainedVersions: trainedVersions)
        let project = try await ServingTemplates.shared.project(inputs.key(now: now)) { try await Self.build(inputs, clock: clock) }
        directory = TemporaryDirectory("strata-serving")
        try project.copy(into: directory)
        if let manual = clock as? ManualClock, manual.nowMillis() < project.builtAt { manual.set(project.builtAt) }
        history = project.history
        versions = project.versions
        lake = try Fixtures.lake(directory, config: config, clock: clock)
        (store, audit, registry, runs, blobs) = try await Self.openMetadata(directory)
        features = try FeatureStore(lake: lake, definitions: config.contract.features, logger: quietLogger)
        controller = makeController()
        try await controller.start()
    }

    /// The fixture's settings before a test's own changes.
    static var baseConfig: StrataConfig {
        var config = Fixtures.config
        config.serving.model = "recs"
        config.serving.precomputeIntervalMillis = 0
        config.registry.gateMargin = -1
        return config
    }

    /// What a project is built from.
    struct ProjectInputs {
        let config: StrataConfig
        let generator: GeneratorConfig
        let historyLimit: Int?
        let catalog: Bool
        let trainedVersions: Int

        /// Equal for inputs that build the same project: serving and monitoring settings, which
        /// only the serving layer built per fixture reads, are left out — except those that
        /// training reads (the retrieval index, the baseline window) — and the history's end is
        /// taken relative to now, rounded to the minute.
        func key(now: Int64) -> String {
            var trained = config
            trained.serving = ServingFixture.baseConfig.serving
            trained.serving.ann = config.serving.ann
            trained.monitoring = ServingFixture.baseConfig.monitoring
            trained.monitoring.windowMillis = config.monitoring.windowMillis
            var generated = generator
            generated.endMillis = (generator.endMillis - now) / 60_000
            return [stableDescription(trained), stableDescription(generated), String(describing: historyLimit), String(catalog), String(trainedVersions)]
                .joined(separator: "|")
        }
    }

    /// Generates the shop's history, ingests and snapshots it, and trains the approved versions
    /// of `recs` (the first promoted), in a folder of its own, closed when done.
    static func build(_ inputs: ProjectInputs, clock: any WallClock) async throws -> ServingProject {
        let directory = TemporaryDirectory("strata-serving-project")
        let config = inputs.config
        let lake = try Fixtures.lake(directory, config: config, clock: clock)
        var generator = SyntheticGenerator(contract: config.contract, config: inputs.generator)
        if inputs.catalog { _ = try await lake.ingestor.upsertCatalog(.item, generator.catalog().items, source: "test") }
        let history = generator.history(limit: inputs.historyLimit)
        for chunk in stride(from: 0, to: history.count, by: 10_000) {
            _ = try await lake.ingestor.ingest(events: Array(history[chunk..<min(chunk + 10_000, history.count)]), source: "test", allowLate: true)
        }
        try lake.catalog.catchUp()
        _ = try await lake.maintain(force: true)
        _ = try await lake.compactor.snapshot()
        let (store, audit, registry, runs, blobs) = try await openMetadata(directory)
        let trainer = Trainer(
            runs: runs, blobs: blobs, registry: registry, audit: audit, directory: DataDirectory(root: directory.path, project: config.project), config: config,
            codeVersion: "git:test", threads: 2)
        let scientist = Principal(id: "sci", name: "sam", roles: [.scientist])
        var versions: [ModelVersion] = []
        for seed in 1...inputs.trainedVersions {
            let spec = try ModelSpec(name: "recs", algorithm: .als, parameters: ["factors": 8, "iterations": 3, "seed": Double(seed)])
            let version = try await trainer.train(TrainingRequest(spec: spec, principal: scientist)).version!
            versions.append(try await registry.approve(version.reference, reason: "test", by: approver))
        }
        _ = try await registry.promote(versions[0].reference, by: approver)
        await lake.close()
        await store.close()
        return ServingProject(directory: directory, history: history, versions: versions, builtAt: clock.nowMillis())
    }

    static func openMetadata(_ directory: TemporaryDirectory) async throws -> (MetadataStore, AuditLog, ModelRegistry, RunStore, FileBlobStore) {
        let store = try await MetadataStore.open(url: "sqlite:", defaultSQLitePath: directory.file("metadata.sqlite"), logger: quietLogger)
        let audit = AuditLog(store: store)
        return (store, audit, ModelRegistry(store: store, audit: audit), RunStore(store: store), FileBlobStore(root: directory.file("blobs")))
    }

    /// A fresh serving layer over the same metadata and lake (what a restart builds).
    func makeController(bus: (any DeploymentChangeBus)? = nil) -> DeploymentController {
        let activity = try! ServingActivity(lake: lake, settings: ServingSettings(config), logger: quietLogger)
        let cache = MemoryRecommendationCache()
        let sources = ServingSources(lake: lake)
        let service = RecommendationService(
            sources: sources, features: features, activity: activity, cache: cache, metrics: ServingMetrics())
        return DeploymentController(
            store: DeploymentStore(records: DeploymentRecords(store: store)), service: service, registry: registry,
            loader: ModelLoader(registry: registry, runs: runs, blobs: blobs),
            precomputer: Precomputer(sources: sources, activity: activity, cache: cache, topN: 50, threads: 2), audit: audit,
            logger: quietLogger,
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
