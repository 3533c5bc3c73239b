import ArgumentParser
import Foundation
import Logging
import StrataCore
import StrataFeatures
import StrataLake
import StrataMetadata
import StrataRedis
import StrataRegistry
import StrataS3
import StrataServer
import StrataServing
import StrataTraining

/// A project's metadata store and what lives in it (the audit log, API keys, the registry, runs),
/// with the blob store of its artifacts: what every command that touches models opens.
struct ProjectMetadata: Sendable {
    let store: MetadataStore
    let audit: AuditLog
    let keys: APIKeys
    let registry: ModelRegistry
    let runs: RunStore
    let directory: DataDirectory
    let config: StrataConfig
    /// Model artifacts and checkpoints: the project folder, or the bucket of `backends.lake`.
    let blobs: any BlobStore

    static func open(config: StrataConfig, dataDirectory: String, logger: Logger) async throws -> ProjectMetadata {
        let directory = DataDirectory(root: dataDirectory, project: config.project)
        let store = try await Backends.metadata(config, directory: directory, logger: logger)
        let audit = AuditLog(store: store, anchor: AuditAnchor(path: "\(directory.projectRoot)/audit/anchors.log"))
        return ProjectMetadata(
            store: store, audit: audit, keys: try await APIKeys(store: store),
            registry: ModelRegistry(
                store: store, audit: audit, rules: GovernanceRules(allowSelfApproval: config.registry.allowSelfApproval)),
            runs: RunStore(store: store), directory: directory, config: config, blobs: try Backends.blobs(config, directory: directory, logger: logger))
    }

    /// `observer`: told as each stage of a run ends (the command line prints it).
    func trainer(threads: Int? = nil, observer: TrainingObserver? = nil) -> Trainer {
        Trainer(
            runs: runs, blobs: blobs, registry: registry, audit: audit, directory: directory, config: config,
            codeVersion: CodeVersion.current, threads: threads ?? ProcessInfo.processInfo.activeProcessorCount,
            mirror: config.mlflowURI.map(MLflowMirror.init(baseURL:)), observer: observer)
    }

    /// Who runs a command: the key in `STRATA_API_KEY` (its roles apply), or the local user,
    /// who can read the data folder anyway.
    func principal() throws -> Principal {
        guard let key = ProcessInfo.processInfo.environment["STRATA_API_KEY"], !key.isEmpty else { return .local() }
        guard let principal = keys.authenticate(key) else { throw StrataError(.unauthorized, code: "invalid_key", "STRATA_API_KEY is not a valid, active key") }
        return principal
    }

    func close() async {
        try? await audit.flush()
        await store.close()
    }
}

/// The code a binary was built from: the git commit the build scripts record next to it
/// (`strata.build-info`), or `STRATA_CODE_VERSION`.
enum CodeVersion {
    static let current: String = {
        if let value = ProcessInfo.processInfo.environment["STRATA_CODE_VERSION"], !value.isEmpty { return value }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let info = executable.deletingLastPathComponent().appendingPathComponent("strata.build-info")
        if let text = try? String(contentsOf: info, encoding: .utf8) {
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if !trimmed.isEmpty { return trimmed }
        }
        return "unknown (built without scripts/stamp-build.sh)"
    }()
}

extension DataOptions {
    /// The HTTP server over an open lake: the feature store, and keys, audit, runs and the
    /// registry from the metadata store (an admin key is created when none exists).
    func makeServer(_ lake: Lake, config: StrataConfig, auth: AuthOptions, role: ServerRole = .all, logger: Logger) async throws -> (
        StrataHTTPServer, ProjectMetadata, firstAdminKey: String?
    ) {
        let governance = try await ProjectMetadata.open(config: config, dataDirectory: dataDirectory(config), logger: logger)
        if role == .api, governance.store.dialect != .postgres {
            await governance.close()
            throw StrataError.invalid(
                "api_role_needs_shared_metadata",
                "--role api shares the registry with a worker: set backends.metadata (or STRATA_METADATA_URL) to postgres://...")
        }
        let (serverGovernance, firstKey) = try await governance.forServer(authenticate: !auth.noAuth, logger: logger)
        let features = try openFeatureStore(lake, config: config, logger: logger)
        // API replicas compute no features: they read the worker's from Redis when it is shared.
        let redis = try Backends.onlineRedis(config)
        let servingFeatures: any OnlineFeatureReader =
            role == .api && redis != nil
            ? RedisFeatureReader(client: redis!, namespace: config.project, definitions: config.contract.features) : features
        let workers = WorkerDirectory(store: governance.store, project: config.project)
        let locate: (@Sendable (Bool) async -> String?)? = role == .api ? { @Sendable refresh in await workers.locate(refresh: refresh) } : nil
        let server = StrataHTTPServer(
            lake: lake, config: config, features: features, governance: serverGovernance,
            serving: try governance.deploymentController(lake: lake, features: servingFeatures, batchJobs: role.runsBackgroundWork, logger: logger),
            authenticate: !auth.noAuth, role: role, locateWorker: locate, logger: logger)
        return (server, governance, firstKey)
    }
}

extension ProjectMetadata {
    /// The serving layer over the registry: deployments, the cache and its batch job, the
    /// activity tracker.
    func deploymentController(lake: Lake, features: (any OnlineFeatureReader)?, batchJobs: Bool = true, logger: Logger) throws -> DeploymentController {
        let activity = try ServingActivity(lake: lake, settings: ServingSettings(config), logger: logger.with("component", "serving"))
        let (cache, bus) = try Backends.recommendationCache(config, logger: logger)
        let sources = ServingSources(lake: lake)
        let service = RecommendationService(sources: sources, features: features, activity: activity, cache: cache, metrics: ServingMetrics())
        return DeploymentController(
            store: DeploymentStore(records: DeploymentRecords(store: store)), service: service, registry: registry,
            loader: ModelLoader(registry: registry, runs: runs, blobs: blobs, searchBreadth: config.serving.ann.efSearch),
            precomputer: Precomputer(
                sources: sources, activity: activity, cache: cache, topN: config.serving.cacheTopN, threads: config.serving.precompute.threads,
                logger: logger.with("component", "precompute")), audit: audit,
            logger: logger.with("component", "serving"), bus: bus, runsBatchJobs: batchJobs)
    }
}

/// `--no-auth`, for development only.
struct AuthOptions: ParsableArguments {
    @Flag(help: "Serve without API keys (development only; every request acts as an admin, and the log says so).")
    var noAuth = false
}

extension ProjectMetadata {
    /// The server's view, and an admin key created (and returned, to print once) when no key
    /// exists yet.
    func forServer(authenticate: Bool, logger: Logger) async throws -> (RegistryServices, firstAdminKey: String?) {
        var firstKey: String?
        if authenticate, try await keys.isEmpty() {
            let (key, record) = try await keys.create(name: "admin", roles: [.admin], by: "strata (first start)")
            try await audit.append(principal: "strata", action: "key.create", target: "key:\(record.id)", detail: "the first admin key, created at first start")
            firstKey = key
        }
        if !authenticate { logger.warning("API keys are OFF (--no-auth): every request acts as an admin. Never expose this server.") }
        let trainer = self.trainer()
        return (
            RegistryServices(
                keys: keys, audit: audit, registry: registry, trainer: trainer, blobs: blobs,
                models: config.training.models, searches: config.searches, reranker: config.reranker), firstKey
        )
    }
}

/// Opens the metadata store for a command, runs `body`, closes it (errors reported as one line).
func withGovernance(_ data: DataOptions, _ body: (ProjectMetadata) async throws -> Void) async throws {
    let logger = data.bootstrapLogging()
    try await runReportingErrors {
        let config = try data.loadConfig()
        let governance = try await ProjectMetadata.open(config: config, dataDirectory: data.dataDirectory(config), logger: logger)
        do {
            try await body(governance)
        } catch {
            await governance.close()
            throw error
        }
        await governance.close()
    }
}
