import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import StrataCore
import StrataFeatures
import StrataLake
import StrataMonitoring
import StrataServing
import StrataTraining

/// The HTTP API over a project's layers, and its life cycle: run with the lake's services in one
/// service group; SIGTERM/SIGINT stop the listener, let in-flight requests finish, stop the
/// services, then flush and close the lake.
public struct StrataHTTPServer: Sendable {
    public let lake: Lake
    /// strata.yaml as loaded; the server hands each component its own sections.
    public let config: StrataConfig
    public let features: FeatureStore?
    public let readiness = Readiness()
    public let evaluations = EvaluationBoard()
    /// `GET /metrics`.
    public let metrics = PrometheusExporter()
    let logger: Logger

    /// Keys, audit, runs and the registry (nil: none of their routes, and no auth).
    public let governance: RegistryServices?
    /// Whether requests need an API key (only with governance).
    public let authenticates: Bool
    /// Deployments and the recommendation path (nil: no serving routes).
    public let serving: DeploymentController?
    /// Drift of served models against their training baselines (with serving and governance).
    public let drift: DriftWatcher?
    /// The alert rules of strata.yaml (nil: none).
    let alerts: AlertService?
    /// Snapshot-then-train for the schedule, the retrain route and alerts (with governance).
    let retrainer: Retrainer?
    /// What this process does among several (`all` on one machine).
    public let role: ServerRole
    /// API replicas: where the elected worker is (`refresh`: the last address failed).
    let locateWorker: (@Sendable (_ refresh: Bool) async -> String?)?

    public init(
        lake: Lake, config: StrataConfig, features: FeatureStore? = nil, governance: RegistryServices? = nil, serving: DeploymentController? = nil,
        authenticate: Bool = true,
        role: ServerRole = .all, locateWorker: (@Sendable (_ refresh: Bool) async -> String?)? = nil, logger: Logger
    ) {
        self.lake = lake
        self.config = config
        self.role = role
        self.locateWorker = locateWorker
        self.features = features
        self.governance = governance
        self.serving = serving
        self.drift = serving.flatMap { serving in
            guard role.runsBackgroundWork else { return nil }
            return
                governance.map { governance in
                    DriftWatcher(
                        monitor: DriftMonitor(
                            controller: serving, baselines: governance.trainer.runs.baselines, features: features, config: config.monitoring,
                            clock: lake.clock
                        ),
                        interval: .milliseconds(config.monitoring.intervalMillis), logger: logger)
                }
        }
        let drift = self.drift
        let retrainer = governance.map { Retrainer(lake: lake, trainer: $0.trainer, audit: $0.audit, models: $0.models, logger: logger) }
        self.retrainer = retrainer
        self.alerts =
            config.alerts.isEmpty || !role.runsBackgroundWork
            ? nil
            : AlertService(
                rules: config.alerts, project: config.project, monitoring: config.monitoring, experiments: config.serving.experiments,
                retrainModels: config.retraining.models, clock: lake.clock, ingestCounts: { lake.ingestor.counts }, features: features, drift: drift,
                serving: serving, retrainer: retrainer,
                audit: governance?.audit, logger: logger)
        self.authenticates = governance != nil && authenticate
        self.logger = logger
        metrics.addCollector(
            MetricsRoutes.lake(lake) {
                (features.map { [("features", $0.engine.appliedThrough)] } ?? []) + (serving.map { [("serving", $0.service.activity.appliedThrough)] } ?? [])
            })
        if let features { metrics.addCollector(MetricsRoutes.features(features, clock: lake.clock)) }
        if let serving {
            metrics.addCollector(MetricsRoutes.serving(serving))
            metrics.addCollector(MetricsRoutes.precompute(serving))
        }
        if let drift { metrics.addCollector(MetricsRoutes.drift(drift)) }
        if let governance { metrics.addAsyncCollector(MetricsRoutes.training(governance.trainer.runs)) }
    }

    /// Every route of the API.
    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: MetricsMiddleware(exporter: metrics))
        router.add(middleware: JSONErrorMiddleware())
        router.add(middleware: RequestLogMiddleware())
        if role == .api, let locateWorker {
            router.add(
                middleware: WorkerForwarding(
                    maxBodyBytes: config.ingest.maxBodyBytes, patience: .milliseconds(config.server.failoverWaitMillis), locate: locateWorker))
        }
        if authenticates, let governance {
            let server = config.server
            let limiter = server.rateLimitPerSecond > 0 ? RateLimiter(rate: server.rateLimitPerSecond, burst: server.rateLimitBurst, clock: lake.clock) : nil
            router.add(middleware: AuthMiddleware(keys: governance.keys, audit: governance.audit, limiter: limiter))
        }
        // Every handler is for an operation routes.json declares (the registrar refuses others).
        let routes = RouteRegistrar(router: router)
        HealthRoutes(readiness: readiness).register(on: routes)
        MetricsRoutes(exporter: metrics).register(on: routes)
        EventRoutes(lake: lake, ingest: config.ingest).register(on: routes)
        CatalogRoutes(lake: lake, ingest: config.ingest).register(on: routes)
        LakeRoutes(lake: lake).register(on: routes)
        ContractRoutes(contract: config.contract, project: config.project).register(on: routes)
        EvaluationRoutes(board: evaluations).register(on: routes)
        if let features { FeatureRoutes(store: features, lake: lake, definitions: config.contract.features).register(on: routes) }
        if let governance {
            var governanceRoutes = GovernanceRoutes(governance: governance, keys: authenticates ? governance.keys : nil)
            if let serving { governanceRoutes.productionChanged = { await serving.watchOnce() } }
            governanceRoutes.register(on: routes)
            if let retrainer { governanceRoutes.registerRetraining(on: routes, retrainer: retrainer) }
        }
        if let serving { ServingRoutes(controller: serving, keys: authenticates ? governance?.keys : nil).register(on: routes) }
        let forgetting = UserForgetting(
            lake: lake, features: features, serving: serving, registry: governance?.registry, runs: governance?.trainer.runs, audit: governance?.audit)
        ForgetRoute(forgetting: forgetting, keys: authenticates ? governance?.keys : nil).register(on: routes)
        MonitoringRoutes(
            drift: drift,
            quality: serving.map { QualityMonitor(controller: $0, config: config.monitoring, experiments: config.serving.experiments, clock: lake.clock) },
            alerts: alerts
        ).register(on: routes)
        DashboardRoutes().register(on: routes)
        routes.get("/openapi.json") { _, _ -> Response in JSONResponse.make(serialized: OpenAPIDocument.served) }
        return router
    }

    /// The audit writer, and the retraining schedule when strata.yaml has one.
    func governanceServices(_ governance: RegistryServices) -> [any Service] {
        var services: [any Service] = [GovernanceMaintenance(governance: governance, logger: logger)]
        if role.runsBackgroundWork, let schedule = config.retraining.schedule, let retrainer {
            services.append(RetrainingScheduler(retrainer: retrainer, schedule: schedule, models: config.retraining.models, clock: lake.clock))
        }
        return services
    }

    /// Serves until a shutdown signal, then closes the lake. `onRunning` receives the bound
    /// port (useful with port 0).
    public func run(
        host: String, port: Int, extraServices: [any Service] = [], stop: StopHandle? = nil,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let readiness = self.readiness
        // Deployments are built (their models loaded) before the first request is accepted.
        try await serving?.start()
        let servingServices: [any Service] = (serving.map { [$0.service.activity, $0] } ?? []) + (drift.map { [$0] } ?? []) + (alerts.map { [$0] } ?? [])
        let application = Application(
            router: router(),
            server: .http1(configuration: .init(idleTimeout: .milliseconds(config.server.idleTimeoutMillis))),
            configuration: ApplicationConfiguration(
                address: .hostname(host, port: port), serverName: "strata/\(StrataVersion.current)",
                availableConnectionsDelegate: MaximumAvailableConnections(config.server.maxConnections)),
            onServerRunning: { channel in
                readiness.set(true)
                await onRunning(channel.localAddress?.port ?? port)
            },
            logger: logger)
        var configuration = ServiceGroupConfiguration(
            services: (lake.services + (features.map { [$0] } ?? []) + (governance.map { governanceServices($0) } ?? [])
                + servingServices + extraServices).map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) }
                + [
                    ServiceGroupConfiguration.ServiceConfiguration(service: ShutdownNotice(readiness: readiness, logger: logger)),
                    ServiceGroupConfiguration.ServiceConfiguration(service: application),
                ]
                + (stop.map { [ServiceGroupConfiguration.ServiceConfiguration(service: $0, successTerminationBehavior: .gracefullyShutdownGroup)] } ?? []),
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        // Past the grace period, in-flight requests are cancelled; the lake still closes cleanly.
        configuration.maximumGracefulShutdownDuration = .seconds(config.server.shutdownGraceSeconds)
        let group = ServiceGroup(configuration: configuration)
        do {
            try await group.run()
        } catch {
            logger.error("server stopped with an error", metadata: ["error": "\(error)"])
            await flushAuditLog()
            await lake.close()
            throw error
        }
        await flushAuditLog()
        await lake.close()
        logger.info("stopped cleanly; the event log is flushed and closed")
    }
}

extension StrataHTTPServer {
    /// Writes the audit entries still queued once every service has stopped (a task of its own:
    /// the shutdown's cancellation must not cut it short).
    func flushAuditLog() async {
        guard let audit = governance?.audit else { return }
        do {
            try await Task.detached { try await audit.flush() }.value
        } catch {
            logger.error("could not write the audit log at shutdown", metadata: ["error": "\(error)"])
        }
    }
}

/// Stops a running server gracefully from code, as SIGTERM would (benchmarks, embedding).
public final class StopHandle: Service, Sendable {
    private let stream = AsyncStream<Void>.makeStream()

    public init() {}

    /// Begins a graceful shutdown of the server this handle was passed to.
    public func stop() { stream.continuation.finish() }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            for await _ in self.stream.stream {}
        }
    }
}

/// Marks the server not ready as soon as shutdown begins, so load balancers drain it while
/// in-flight requests finish.
struct ShutdownNotice: Service {
    let readiness: Readiness
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        readiness.set(false)
        logger.info("shutting down: finishing in-flight requests")
    }
}

/// One structured log line per request.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = MonotonicClock.nanoseconds()
        let response = try await next(request, context)
        context.logger.debug(
            "request",
            metadata: [
                "method": "\(request.method)", "path": "\(request.uri.path)", "status": "\(response.status.code)",
                "ms": "\(Double(MonotonicClock.nanoseconds() - start) / 1e6)",
            ])
        return response
    }
}
