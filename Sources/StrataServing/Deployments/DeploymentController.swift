import Foundation
import Logging
import ServiceLifecycle
import StrataCore
import StrataLake
import StrataRegistry
import Synchronization

/// Runs deployments inside the server: builds each deployment's serving state from the
/// metadata store (loading model versions before the swap, so a request never waits for or
/// mixes versions), watches for changes made elsewhere (another replica, the registry's
/// production alias), judges canaries against their guardrails, and keeps the precomputed
/// cache current.
public final class DeploymentController: Service, Sendable {
    public let store: DeploymentStore
    public let service: RecommendationService
    let registry: ModelRegistry
    let loader: ModelLoader
    let precomputer: Precomputer
    let audit: AuditLog
    let logger: Logger
    let config: ServingConfig
    /// The model the default deployment serves when none is stored yet.
    public let defaultModel: String?
    private let changes = AsyncSerialLock()
    /// What the running states were built from: revisions, and production versions followed.
    private let built = Mutex<[String: (revision: Int64, production: [String: Int64])]>([:])
    private let precomputing = Mutex<[String: Task<Int, any Error>]>([:])
    /// When the scheduled batch job last ran (start counts: start-up already computes what is missing).
    private let lastPrecompute: Mutex<Int64>
    private let canaryBaselines = Mutex<[String: CanaryBaseline]>([:])
    /// Replicas' announcements of changes (nil: polling only, as on one machine).
    let bus: (any DeploymentChangeBus)?
    /// Whether this process runs the batch job and judges canaries (the worker, or the only
    /// process); API replicas read the worker's tables from the shared cache.
    public let runsBatchJobs: Bool

    /// Serving's clock (canary steps, the batch job's schedule).
    private var clock: any WallClock { service.sources.clock }

    public init(
        store: DeploymentStore, service: RecommendationService, registry: ModelRegistry, loader: ModelLoader, precomputer: Precomputer, audit: AuditLog,
        logger: Logger, bus: (any DeploymentChangeBus)? = nil, runsBatchJobs: Bool = true
    ) {
        self.bus = bus
        self.runsBatchJobs = runsBatchJobs
        self.store = store
        self.service = service
        self.registry = registry
        self.loader = loader
        self.precomputer = precomputer
        self.audit = audit
        self.logger = logger
        self.config = service.activity.settings.serving
        self.lastPrecompute = Mutex(service.sources.clock.nowMillis())
        self.defaultModel = service.activity.settings.defaultModel
    }

    // MARK: - Building states

    /// Creates the default deployment when none is stored, then builds every deployment.
    public func start() async throws {
        if try await store.get(config.deployment) == nil, let model = defaultModel {
            do {
                try await store.save(
                    .initial(name: config.deployment, model: model), expectedRevision: nil, principal: "strata", kind: "created",
                    detail: "the default deployment: \(model)@production")
            } catch let error as StrataError where error.code == "deployment_changed" {
                // Another replica created it first.
            }
        }
        for deployment in try await store.all() { _ = try await reload(deployment.name) }
        await refreshReranker()
    }

    /// Serves the re-ranker's production version (or none), swapping when it changes.
    func refreshReranker() async {
        guard let name = service.activity.settings.reranker else { return }
        let production = try? await registry.resolve("\(name)@production")
        guard production?.reference != service.reranker?.reference else { return }
        guard let production else {
            service.install(reranker: nil)
            return
        }
        do {
            service.install(reranker: try await loader.loadReranker(production.reference))
            logger.info("re-ranker swapped", metadata: ["version": "\(production.reference)"])
        } catch {
            logger.error("the re-ranker cannot be served", metadata: ["version": "\(production.reference)", "error": "\(error)"])
        }
    }

    /// Rebuilds a deployment's state from the store and swaps it in.
    @discardableResult
    public func reload(_ name: String) async throws -> ServingState {
        try await changes.run { try await build(name) }
    }

    private func build(_ name: String) async throws -> ServingState {
        guard let deployment = try await store.get(name) else {
            throw StrataError.notFound("deployment_not_found", "no deployment \(name) (GET /v1/deployments lists them)")
        }
        var production: [String: Int64] = [:]
        func resolve(_ spec: VariantSpec) async -> ServingState.Variant {
            do {
                let model = try await loader.load(spec.reference)
                if spec.version == nil { production[spec.model] = model.version.version }
                model.refreshCatalog(from: service.sources.catalog)
                return ServingState.Variant(spec: spec, model: model, error: nil)
            } catch {
                if spec.version == nil { production[spec.model] = 0 }
                return ServingState.Variant(spec: spec, model: nil, error: (error as? StrataError)?.message ?? "\(error)")
            }
        }
        var variants: [ServingState.Variant] = []
        for spec in deployment.variants { variants.append(await resolve(spec)) }
        let shadow: ServingState.Variant? = deployment.shadow == nil ? nil : await resolve(deployment.shadow!)
        let state = ServingState(deployment: deployment, variants: variants, shadow: shadow)
        let previous = service.state(name)
        service.install(state)
        built.withLock { $0[name] = (deployment.revision, production) }
        let before = previous?.variants.map { "\($0.spec.name)=\($0.model?.key ?? "none")" } ?? []
        let after = variants.map { "\($0.spec.name)=\($0.model?.key ?? "none")" }
        if before != after {
            logger.info("deployment swapped", metadata: ["deployment": "\(name)", "variants": "\(after.joined(separator: ", "))"])
            // The replica that sees a change first tells the others (they find nothing new to announce).
            if previous != nil { await bus?.announce() }
        }
        for variant in variants + (shadow.map { [$0] } ?? []) where variant.error != nil {
            logger.warning(
                "a variant cannot be served", metadata: ["deployment": "\(name)", "variant": "\(variant.spec.reference)", "error": "\(variant.error!)"])
        }
        await precomputeMissing(state.models)
        return state
    }

    // MARK: - Changing deployments

    /// Replaces a deployment's variants (and shadow); a new salt re-randomises assignment.
    public func update(_ name: String, variants: [VariantSpec], shadow: VariantSpec?, salt: String?, principal: Principal) async throws -> Deployment {
        try checkName(name)
        let saved = try await changes.run { () -> Deployment in
            let current = try await store.get(name)
            if current?.canary?.status == .running {
                throw StrataError(.conflict, code: "canary_running", "a canary is ramping on \(name); roll it back first (strata deploy rollback \(name))")
            }
            var deployment = current ?? Deployment(name: name, salt: salt ?? name, variants: variants)
            deployment.variants = variants
            deployment.shadow = shadow
            if let salt { deployment.salt = salt }
            for spec in variants + (shadow.map { [$0] } ?? []) {
                let version = try await registry.resolve(spec.reference)
                // Users see a variant: a person must have approved it (a shadow is never shown).
                if spec != shadow, ![.approved, .production, .archived].contains(version.stage) {
                    throw StrataError(
                        .conflict, code: "approval_required",
                        "\(version.reference) is \(version.stage.rawValue); a variant shown to users must be approved first (strata models approve)")
                }
            }
            let detail = variants.map { "\($0.name)=\($0.reference):\($0.weight)" }.joined(separator: ", ") + (shadow.map { ", shadow=\($0.reference)" } ?? "")
            return try await store.save(deployment, expectedRevision: current?.revision, principal: principal.label, kind: "updated", detail: detail)
        }
        try await audit.append(principal: principal.label, action: "deploy.update", target: name, detail: saved.json.serialized)
        _ = try await reload(name)
        return saved
    }

    /// What a rollback did.
    public struct RollbackOutcome: Sendable {
        public var deployment: String
        public var action: String
        public var serving: [String]
        public var milliseconds: Double
        public var json: JSONValue {
            ["deployment": .string(deployment), "action": .string(action), "serving": .array(serving.map(JSONValue.string)), "ms": .double(milliseconds)]
        }
    }

    /// Stops a running canary, or else puts the previous production version of the control's
    /// model back; the running server serves it as soon as this returns.
    public func rollback(_ name: String, principal: Principal, reason: String = "manual rollback") async throws -> RollbackOutcome {
        let start = MonotonicClock.nanoseconds()
        guard let deployment = try await store.get(name) else {
            throw StrataError.notFound("deployment_not_found", "no deployment \(name) (GET /v1/deployments lists them)")
        }
        guard principal.has(.approver) else {
            try await audit.append(principal: principal.label, action: "deploy.rollback", target: name, outcome: "denied", detail: "needs the approver role")
            throw StrataError(.forbidden, code: "approver_role_required", "rolling back needs the approver role")
        }
        let action: String
        if deployment.canary?.status == .running {
            try await abortCanary(name, reason: "\(reason) by \(principal.label)", principal: principal.label)
            action = "canary stopped"
        } else {
            guard deployment.control.version == nil else {
                throw StrataError(
                    .conflict, code: "control_pinned",
                    "\(name)'s control is pinned to \(deployment.control.reference); set the variants you want instead (strata deploy set)")
            }
            let restored = try await registry.rollback(model: deployment.control.model, by: principal)
            try await store.note(name, principal: principal.label, kind: "rollback", detail: "\(restored.reference) is production again (\(reason))")
            _ = try await reload(name)
            action = "\(restored.reference) is production again"
        }
        let state = service.state(name)
        return RollbackOutcome(
            deployment: name, action: action, serving: state?.variants.map { "\($0.spec.name)=\($0.model?.key ?? "none")" } ?? [],
            milliseconds: Double(MonotonicClock.nanoseconds() - start) / 1e6)
    }

    /// Starts a canary: `reference` (an approved version) takes `steps[0]` percent of traffic,
    /// then each following step after `interval` while its guardrails hold; the last step
    /// promotes it. A breach rolls it back and records why.
    public func startCanary(_ name: String, reference: String, steps: [Double], intervalMillis: Int64, principal: Principal) async throws -> Deployment {
        guard principal.has(.approver) else { throw StrataError(.forbidden, code: "approver_role_required", "a canary needs the approver role") }
        guard !steps.isEmpty, steps.allSatisfy({ $0 > 0 && $0 <= 100 }), zip(steps, steps.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw StrataError.invalid("invalid_steps", "steps are increasing percentages in (0, 100], e.g. 5,25,50,100", field: "steps")
        }
        guard intervalMillis >= 100 else { throw StrataError.invalid("invalid_interval", "the interval must be at least 100ms", field: "interval") }
        let version = try await registry.resolve(reference)
        guard version.stage == .approved else {
            throw StrataError(
                .conflict, code: "approval_required", "\(version.reference) is \(version.stage.rawValue); a canary exposes users, so it must be approved first")
        }
        let saved = try await changes.run { () -> Deployment in
            guard var deployment = try await store.get(name) else {
                throw StrataError.notFound("deployment_not_found", "no deployment \(name) (GET /v1/deployments lists them)")
            }
            guard deployment.canary?.status != .running else {
                throw StrataError(.conflict, code: "canary_running", "a canary is already ramping on \(name)")
            }
            guard deployment.variants.count == 1 else {
                throw StrataError(.conflict, code: "experiment_running", "\(name) runs an A/B test; a canary needs a deployment with the control alone")
            }
            guard deployment.control.model == version.model else {
                throw StrataError.invalid("model_mismatch", "\(name) serves \(deployment.control.model); a canary replaces it with a version of the same model")
            }
            deployment.variants = [
                VariantSpec(name: deployment.control.name, model: deployment.control.model, version: deployment.control.version, weight: 100 - steps[0]),
                VariantSpec(name: "canary", model: version.model, version: version.version, weight: steps[0]),
            ]
            deployment.canary = CanaryState(
                variant: "canary", steps: steps, intervalMillis: intervalMillis, stepStartedAt: clock.nowMillis(), principal: principal.label)
            return try await store.save(
                deployment, expectedRevision: deployment.revision, principal: principal.label, kind: "canary.started",
                detail: "\(version.reference) at \(steps.map { "\(Int($0))%" }.joined(separator: " → ")), every \(DurationText.format(millis: intervalMillis))")
        }
        try await audit.append(principal: principal.label, action: "deploy.canary", target: name, detail: "\(version.reference) steps \(steps)")
        _ = try await reload(name)
        return saved
    }

    /// Takes the canary out of traffic and records why.
    func abortCanary(_ name: String, reason: String, principal: String) async throws {
        try await changes.run {
            guard var deployment = try await store.get(name), var canary = deployment.canary, canary.status == .running else { return }
            let canaryReference = deployment.variants.first { $0.name == canary.variant }?.reference ?? "?"
            deployment.variants = [
                VariantSpec(name: deployment.control.name, model: deployment.control.model, version: deployment.control.version, weight: 100)
            ]
            canary.status = .rolledBack
            canary.reason = reason
            deployment.canary = canary
            try await store.save(
                deployment, expectedRevision: deployment.revision, principal: principal, kind: "canary.rolled_back", detail: "\(canaryReference): \(reason)")
            try await audit.append(
                principal: principal, action: "deploy.canary.rollback", target: name, outcome: "rolled_back", detail: "\(canaryReference): \(reason)")
            logger.warning("canary rolled back", metadata: ["deployment": "\(name)", "canary": "\(canaryReference)", "reason": "\(reason)"])
            _ = try await build(name)
        }
    }

    /// Computes the cache of every served model now; returns users written per model.
    public func precompute(_ name: String? = nil) async throws -> [String: Int] {
        var written: [String: Int] = [:]
        let states = name.map { service.state($0).map { [$0] } ?? [] } ?? service.allStates
        for model in Set(states.flatMap(\.models).map(\.key)).sorted() {
            guard let served = states.flatMap(\.models).first(where: { $0.key == model }) else { continue }
            written[model] = try await precomputeNow(served)
        }
        lastPrecompute.withLock { $0 = clock.nowMillis() }
        return written
    }

    /// The batch job's latest run per model version.
    public var precomputeProgress: [PrecomputeProgress] { precomputer.progress }

    /// Runs the batch job for one model, or joins the run already going.
    private func precomputeNow(_ model: ServedModel) async throws -> Int {
        let precomputer = self.precomputer
        let logger = self.logger
        let task = precomputing.withLock { running -> Task<Int, any Error> in
            if let existing = running[model.key] { return existing }
            let task = Task<Int, any Error> {
                let start = MonotonicClock.nanoseconds()
                let users = try await precomputer.run(model)
                let progress = precomputer.progress.first { $0.model == model.key }
                logger.info(
                    "precomputed recommendations",
                    metadata: [
                        "model": "\(model.key)", "users": "\(users)", "computed": "\(progress?.computed ?? 0)", "reused": "\(progress?.reused ?? 0)",
                        "users_per_second": "\(Int(progress?.usersPerSecond ?? 0))", "ms": "\((MonotonicClock.nanoseconds() - start) / 1_000_000)",
                    ])
                return users
            }
            running[model.key] = task
            return task
        }
        defer { _ = precomputing.withLock { $0.removeValue(forKey: model.key) } }
        return try await task.value
    }

    /// The models whose cache tables are kept: those served, and the versions still in memory
    /// (a rollback to one answers from its cache).
    private var cachedModels: Set<String> { Set(service.allStates.flatMap(\.models).map(\.key)).union(loader.models.map(\.key)) }

    /// Drops a forgotten user's precomputed lists from every table kept, and what serving
    /// learnt of them (their seen, hidden and impressed items).
    public func forget(user: String) async throws {
        service.activity.forget(user: user)
        try await service.cache.forget(user: user, models: cachedModels)
        try precomputer.forget(user: user, models: cachedModels)
    }

    /// Starts the batch job for served models that have no cache table yet.
    private func precomputeMissing(_ models: [ServedModel]) async {
        guard runsBatchJobs else { return }
        await service.cache.retain(models: cachedModels)
        precomputer.retain(models: cachedModels)
        for model in models where await service.cache.tableInfo(model: model.key) == nil {
            Task.detached(priority: .utility) {
                do {
                    _ = try await self.precomputeNow(model)
                } catch is CancellationError {
                    // Stopped: the server is shutting down.
                } catch {
                    self.logger.error("precomputing failed", metadata: ["model": "\(model.key)", "error": "\(error)"])
                }
            }
        }
    }

    func checkName(_ name: String) throws(StrataError) {
        guard !name.isEmpty, name.utf8.count <= 64,
            name.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") })
        else { throw StrataError.invalid("invalid_deployment_name", "deployment names use a-z, 0-9, - and _ (at most 64)", field: "name") }
    }

    // MARK: - Running

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            // Announcements from other replicas trigger a pass at once; the poll below remains.
            let listener = self.bus.map { bus in
                Task {
                    for await _ in bus.changes() { await self.watchOnce() }
                }
            }
            defer { listener?.cancel() }
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(self.config.watchIntervalMillis))
                guard !Task.isCancelled else { return }
                await self.watchOnce()
            }
        }
        await stopBatchJobs()
    }

    /// Stops the batch job and returns once no run is left: a run in progress stops after its
    /// chunks in hand (what it finished stays checkpointed) and none starts again. Graceful
    /// shutdown calls it, so no job outlives the server.
    public func stopBatchJobs() async {
        precomputer.stop()
        for task in precomputing.withLock({ Array($0.values) }) { _ = try? await task.value }
    }

    /// One pass of the watcher: changes made elsewhere, the catalog, canaries, the schedule.
    public func watchOnce() async {
        do {
            let revisions = try await store.revisions()
            let seen = built.withLock { $0 }
            for (name, revision) in revisions {
                var stale = seen[name]?.revision != revision
                if !stale, let followed = seen[name]?.production {
                    for (model, version) in followed where (try await registry.aliases(model: model))["production"] ?? 0 != version { stale = true }
                }
                if stale { _ = try await reload(name) }
            }
        } catch {
            logger.error("the deployment watcher failed", metadata: ["error": "\(error)"])
        }
        await refreshReranker()
        for state in service.allStates {
            for model in state.models { model.refreshCatalog(from: service.sources.catalog) }
            if runsBatchJobs, state.deployment.canary?.status == .running {
                do {
                    try await judgeCanary(state)
                } catch {
                    logger.error("judging the canary failed", metadata: ["deployment": "\(state.deployment.name)", "error": "\(error)"])
                }
            }
        }
        if runsBatchJobs, config.precomputeIntervalMillis > 0,
            clock.nowMillis() - lastPrecompute.withLock({ $0 }) >= config.precomputeIntervalMillis
        {
            lastPrecompute.withLock { $0 = clock.nowMillis() }
            let controller = self
            Task.detached(priority: .utility) { _ = try? await controller.precompute() }
        }
    }

    // MARK: - Canary guardrails

    /// Where a canary step's window starts: the canary's serving statistics then (its
    /// impressions and clicks are counted per user in the serving activity's window `key`).
    struct CanaryBaseline: Sendable {
        var canary: VariantServingStats
        var window: String
    }

    /// Rolls the canary back on a breached guardrail; moves it a step on when its interval
    /// passed cleanly; promotes it after the last step.
    func judgeCanary(_ state: ServingState) async throws {
        let deployment = state.deployment
        guard let canary = deployment.canary, canary.status == .running,
            let canaryVariant = state.variants.first(where: { $0.spec.name == canary.variant })
        else { return }
        let name = deployment.name
        let control = deployment.control.name
        let key = "\(name):\(deployment.revision)"
        let serving = service.metrics.variant(deployment: name, variant: canary.variant)
        let activity = service.activity
        let baseline = canaryBaselines.withLock { all in
            if let existing = all[key] { return existing }
            // A new step (revision): earlier steps' windows are done with.
            for old in all.keys where old.hasPrefix("\(name):") { activity.endWindow("canary:\(old)") }
            all = all.filter { !$0.key.hasPrefix("\(name):") }
            activity.startWindow("canary:\(key)", deployment: name)
            all[key] = CanaryBaseline(canary: serving, window: "canary:\(key)")
            return all[key]!
        }
        let arms = activity.window(baseline.window)
        let guardrails = config.canary
        if let reason = Self.breach(
            loadError: canaryVariant.error, serving: serving.since(baseline.canary),
            canaryArm: arms[canary.variant] ?? ArmSummary(impressions: 0, clicks: 0), controlArm: arms[control] ?? ArmSummary(impressions: 0, clicks: 0),
            guardrails: guardrails, experiments: config.experiments)
        {
            try await abortCanary(name, reason: reason, principal: "strata (canary guardrail)")
            return
        }
        guard clock.nowMillis() - canary.stepStartedAt >= canary.intervalMillis else { return }
        try await changes.run {
            guard var deployment = try await store.get(name), var canary = deployment.canary, canary.status == .running,
                deployment.revision == state.deployment.revision
            else { return }
            let canarySpec = deployment.variants.first { $0.name == canary.variant }!
            if canary.step + 1 < canary.steps.count {
                canary.step += 1
                canary.stepStartedAt = clock.nowMillis()
                let share = canary.steps[canary.step]
                deployment.variants = [
                    VariantSpec(name: deployment.control.name, model: deployment.control.model, version: deployment.control.version, weight: 100 - share),
                    VariantSpec(name: canarySpec.name, model: canarySpec.model, version: canarySpec.version, weight: share),
                ]
                deployment.canary = canary
                try await store.save(
                    deployment, expectedRevision: deployment.revision, principal: canary.principal, kind: "canary.step",
                    detail: "\(canarySpec.reference) at \(Int(share))%")
                logger.info("canary stepped up", metadata: ["deployment": "\(name)", "canary": "\(canarySpec.reference)", "percent": "\(share)"])
            } else {
                let approver = Principal(id: "canary", name: canary.principal, roles: [.approver])
                let promoted = try await registry.promote(canarySpec.reference, by: approver)
                canary.status = .completed
                canary.reason = "every step held its guardrails"
                deployment.canary = canary
                deployment.variants = [
                    VariantSpec(name: deployment.control.name, model: deployment.control.model, version: deployment.control.version, weight: 100)
                ]
                if deployment.control.version != nil { deployment.variants[0].version = promoted.version }
                try await store.save(
                    deployment, expectedRevision: deployment.revision, principal: canary.principal, kind: "canary.completed",
                    detail: "\(promoted.reference) promoted to production")
                try await audit.append(principal: approver.label, action: "deploy.canary.complete", target: name, detail: "\(promoted.reference) promoted")
                logger.info("canary completed: promoted", metadata: ["deployment": "\(name)", "version": "\(promoted.reference)"])
            }
            _ = try await build(name)
        }
    }

    /// The first guardrail the canary's window breaches, in words; nil when all hold. The CTR
    /// guardrail is judged per user with the same always-valid test as the A/B report
    /// (`SequentialComparison`, mixture SPRT): it is looked at on every pass of the watcher, and
    /// a drop is declared only when it is larger than `max_ctr_drop` and significant at
    /// `serving.experiments.alpha` whenever it is looked at.
    static func breach(
        loadError: String?, serving: VariantServingStats, canaryArm: ArmSummary, controlArm: ArmSummary, guardrails: CanaryGuardrails,
        experiments: ExperimentSettings
    ) -> String? {
        if let loadError { return "the canary cannot be served: \(loadError)" }
        if serving.requests >= guardrails.minRequests {
            if serving.errorRate > guardrails.maxErrorRate {
                return String(
                    format: "error rate %.1f%% over %d requests exceeds %.1f%%", serving.errorRate * 100, serving.requests, guardrails.maxErrorRate * 100)
                    + (serving.lastError.map { " (\($0))" } ?? "")
            }
            let p99 = serving.latency.quantileMillis(0.99)
            if p99 > guardrails.maxP99Millis {
                return String(format: "latency p99 %.1f ms over %d requests exceeds %.1f ms", p99, serving.requests, guardrails.maxP99Millis)
            }
        }
        if canaryArm.impressions >= guardrails.minImpressions, controlArm.impressions >= guardrails.minImpressions {
            let canaryCTR = UserLevelMetrics.ctr(canaryArm)
            let controlCTR = UserLevelMetrics.ctr(controlArm)
            let test = SequentialComparison(treatment: canaryCTR, control: controlCTR, mixingLift: experiments.mixingLift, alpha: experiments.alpha)
            if canaryCTR.value < controlCTR.value * (1 - guardrails.maxCTRDrop), test.pValue <= experiments.alpha {
                return String(
                    format: "CTR %.2f%% vs control %.2f%% (%d and %d impressions, %d and %d users) dropped more than %.0f%% (always-valid p = %.4f)",
                    canaryCTR.value * 100, controlCTR.value * 100, canaryArm.impressions, controlArm.impressions, canaryArm.users, controlArm.users,
                    guardrails.maxCTRDrop * 100, test.pValue)
            }
        }
        return nil
    }
}
