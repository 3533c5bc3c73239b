import Foundation
import Logging
import ServiceLifecycle
import StrataCore
import StrataFeatures
import StrataLake
import StrataRegistry
import StrataServing
import StrataTraining
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Evaluates the alert rules of strata.yaml every `monitoring.interval` and acts on firing:
/// a log line, a webhook (POST, retried), or a retraining run (at most once per cooldown)
/// whose experiment names the alert, so its candidate's lineage leads back to it. Every
/// action is audited.
public final class AlertService: Service, Sendable {
    public let engine: AlertEngine
    let clock: any WallClock
    /// The ingestor's running totals (accepted, rejected), for the ingestion rates.
    let ingestCounts: @Sendable () -> IngestCounters
    let features: FeatureStore?
    let drift: DriftWatcher?
    let serving: DeploymentController?
    let retrainer: Retrainer?
    let audit: AuditLog?
    let logger: Logger
    let project: String
    /// `monitoring`: how often rules are evaluated, the window and the least samples for drift.
    let monitoring: MonitoringConfig
    /// `serving.experiments`: the test a CTR drop must pass.
    let experiments: ExperimentSettings
    /// `retraining.models`: what a retrain action trains (nil: every model).
    let retrainModels: [String]?
    /// Running totals over time, for windowed rates.
    private let samples = Mutex<[(at: Int64, totals: [String: Double])]>([])
    private let lastRetrain = Mutex<[String: Int64]>([:])

    /// `project`, `monitoring`, `serving.experiments` and `retraining.models` are those of
    /// strata.yaml; the other readers are whichever layers this process runs (nil: none).
    public init(
        rules: [AlertRule], project: String, monitoring: MonitoringConfig, experiments: ExperimentSettings, retrainModels: [String]?, clock: any WallClock,
        ingestCounts: @escaping @Sendable () -> IngestCounters, features: FeatureStore?, drift: DriftWatcher?, serving: DeploymentController?,
        retrainer: Retrainer?, audit: AuditLog?, logger: Logger
    ) {
        self.project = project
        self.monitoring = monitoring
        self.experiments = experiments
        self.retrainModels = retrainModels
        self.engine = AlertEngine(rules: rules)
        self.clock = clock
        self.ingestCounts = ingestCounts
        self.features = features
        self.drift = drift
        self.serving = serving
        self.retrainer = retrainer
        self.audit = audit
        self.logger = logger
    }

    public func run() async throws {
        let interval = monitoring.intervalMillis
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(interval))
                guard !Task.isCancelled else { return }
                await self.evaluateOnce()
            }
        }
    }

    /// One evaluation of every rule, and the actions of those that began firing.
    public func evaluateOnce() async {
        // Drift comes from the watcher's latest pass (it recomputes on the same interval).
        let now = clock.nowMillis()
        let values = measure(now: now)
        for transition in engine.evaluate(values, now: now) {
            let value = transition.value.map { String(format: "%.4g", $0) } ?? "–"
            switch transition.to {
            case .firing:
                audit?.record(
                    principal: "monitoring", action: "alert.fire", target: "alert:\(transition.rule.name)",
                    detail: "\(transition.rule.kind.rawValue) \(value) > \(transition.rule.threshold)")
                await act(transition.rule, value: value, now: now)
            case .inactive where transition.resolved:
                audit?.record(principal: "monitoring", action: "alert.resolve", target: "alert:\(transition.rule.name)", detail: "\(value)")
                logger.info("alert resolved", metadata: ["alert": "\(transition.rule.name)", "value": "\(value)"])
            default: break
            }
        }
    }

    func act(_ rule: AlertRule, value: String, now: Int64) async {
        let summary = "alert \(rule.name) fired: \(rule.kind.rawValue) \(value) over \(rule.threshold)"
        for action in rule.actions {
            switch action {
            case .log:
                logger.warning("alert firing", metadata: ["alert": "\(rule.name)", "when": "\(rule.kind.rawValue)", "value": "\(value)"])
            case .webhook(let url):
                let payload: JSONValue = [
                    "alert": .string(rule.name), "when": .string(rule.kind.rawValue), "value": .string(value), "threshold": .double(rule.threshold),
                    "state": "firing", "at": .string(EventTime.format(millis: now)), "project": .string(project),
                ]
                let audit = self.audit
                let logger = self.logger
                Task.detached {
                    let delivered = await Self.post(payload, to: url)
                    audit?.record(
                        principal: "monitoring", action: "alert.webhook", target: "alert:\(rule.name)", outcome: delivered ? "ok" : "failed", detail: url)
                    if !delivered { logger.error("the alert webhook failed after retries", metadata: ["alert": "\(rule.name)", "url": "\(url)"]) }
                }
            case .retrain:
                guard let retrainer else { continue }
                let allowed = lastRetrain.withLock { last -> Bool in
                    if let previous = last[rule.name], now - previous < rule.cooldownMillis { return false }
                    last[rule.name] = now
                    return true
                }
                guard allowed else {
                    audit?.record(principal: "monitoring", action: "alert.retrain", target: "alert:\(rule.name)", outcome: "denied", detail: "in cooldown")
                    continue
                }
                // A change: durable before the retraining starts.
                do {
                    try await audit?.append(principal: "monitoring", action: "alert.retrain", target: "alert:\(rule.name)", detail: summary)
                } catch {
                    logger.error("could not audit the retraining; it is not started", metadata: ["alert": "\(rule.name)", "error": "\(error)"])
                    continue
                }
                let models = retrainModels
                let logger = self.logger
                Task.detached {
                    do {
                        _ = try await retrainer.retrain(
                            models: models, reason: summary, experiment: "alert:\(rule.name)",
                            by: Principal(id: "monitoring", name: "alert \(rule.name)", roles: [.scientist]))
                    } catch {
                        logger.error("retraining on alert failed", metadata: ["alert": "\(rule.name)", "error": "\(error)"])
                    }
                }
            }
        }
    }

    /// POSTs JSON; three attempts, one, two and four seconds apart.
    static func post(_ payload: JSONValue, to url: String) async -> Bool {
        guard let target = URL(string: url) else { return false }
        for attempt in 0..<3 {
            var request = URLRequest(url: target)
            request.httpMethod = "POST"
            request.timeoutInterval = 10
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(payload.serializedBytes)
            if let (_, response) = try? await URLSession.uncached.data(for: request), let status = (response as? HTTPURLResponse)?.statusCode,
                (200..<300).contains(status)
            {
                return true
            }
            try? await Task.sleep(for: .seconds(1 << attempt))
        }
        return false
    }

    /// Each rule's value now.
    func measure(now: Int64) -> [String: Double] {
        let window = monitoring.windowMillis
        let totals = currentTotals()
        let earlier = samples.withLock { list -> [String: Double]? in
            list.append((now, totals))
            list.removeAll { now - $0.at > window * 2 }
            return list.first { now - $0.at <= window }?.totals
        }
        func delta(_ key: String) -> Double { (totals[key] ?? 0) - (earlier?[key] ?? 0) }
        var values: [String: Double] = [:]
        for status in engine.current {
            let rule = status.rule
            switch rule.kind {
            case .drift:
                let measures = (drift?.reports ?? []).flatMap { $0.features + ($0.scores.map { [$0] } ?? []) }
                    .filter { $0.samples >= monitoring.minSamples && (rule.feature == nil || $0.name == rule.feature) }
                if let worst = measures.map(\.psi).max() { values[rule.name] = worst }
            case .freshness:
                if let features {
                    values[rule.name] = Double(features.engine.freshness(now: now).filter { $0["within_sla"]?.boolValue == false }.count)
                }
            case .errorRate:
                let requests = delta("requests")
                if requests > 0 { values[rule.name] = delta("errors") / requests }
            case .ingestRejections:
                let all = delta("accepted") + delta("rejected")
                if all > 0 { values[rule.name] = delta("rejected") / all }
            case .ctrDrop:
                // Per variant and per user: CTR in the window against CTR before it; a drop
                // counts only when the always-valid test finds it significant (CTRChange). The
                // worst drop is the value.
                var worst: Double?
                if let serving {
                    for state in serving.service.allStates {
                        for variant in state.variants {
                            let change = CTRChange.measure(
                                serving.service.activity, deployment: state.deployment.name, variant: variant.spec.name, windowStart: now - window,
                                minImpressions: rule.minImpressions, experiments: experiments)
                            guard change.judged, change.before.clicks > 0 else { continue }
                            worst = max(worst ?? 0, change.significantDrop(alpha: experiments.alpha))
                        }
                    }
                }
                if let worst { values[rule.name] = worst }
            }
        }
        return values
    }

    func currentTotals() -> [String: Double] {
        let counts = ingestCounts()
        var totals: [String: Double] = ["accepted": Double(counts.accepted), "rejected": Double(counts.rejected)]
        if let serving {
            var requests = 0
            var errors = 0
            for state in serving.service.allStates {
                for variant in state.variants {
                    let stats = serving.service.metrics.variant(deployment: state.deployment.name, variant: variant.spec.name)
                    requests += stats.requests
                    errors += stats.errors
                }
            }
            totals["requests"] = Double(requests)
            totals["errors"] = Double(errors)
        }
        return totals
    }
}
