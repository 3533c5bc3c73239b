import Logging
import ServiceLifecycle
import StrataCore
import StrataFeatures
import StrataLake
import StrataML
import StrataRegistry
import StrataServing
import Synchronization

/// Drift of what a deployment's control model sees and says, against what it saw at training:
/// each numeric user feature over the users active in the window (read from the online store
/// now) and the model's best score of the precomputed answers served in the window (the
/// baseline scores the training users the same way), binned on the baseline's deciles; PSI and
/// Kolmogorov–Smirnov against the baseline.
public struct DriftMonitor: Sendable {
    let controller: DeploymentController
    let baselines: BaselineStore
    let features: (any OnlineFeatureReader)?
    let config: MonitoringConfig
    let clock: any WallClock

    public init(
        controller: DeploymentController, baselines: BaselineStore, features: (any OnlineFeatureReader)?, config: MonitoringConfig, clock: any WallClock
    ) {
        self.controller = controller
        self.baselines = baselines
        self.features = features
        self.config = config
        self.clock = clock
    }

    public struct Measure: Sendable {
        public var name: String
        public var psi: Double
        public var ks: Double
        public var samples: Int
        public var threshold: Double
        /// Judged only with enough samples.
        public var drifting: Bool
        public var live: BinnedDistribution

        public var json: JSONValue {
            [
                "name": .string(name), "psi": .double(psi), "ks": .double(ks), "samples": .int(Int64(samples)), "threshold": .double(threshold),
                "drifting": .bool(drifting), "live_shares": .array(live.shares.map(JSONValue.double)),
            ]
        }
    }

    public struct Report: Sendable {
        public var deployment: String
        public var model: String?
        public var windowMillis: Int64
        public var features: [Measure]
        public var scores: Measure?
        public var note: String?
        public var drifting: [String] { (features + (scores.map { [$0] } ?? [])).filter(\.drifting).map(\.name) }

        public var json: JSONValue {
            [
                "deployment": .string(deployment), "model": model.map(JSONValue.string) ?? .null, "window_ms": .int(windowMillis),
                "features": .array(features.map(\.json)), "scores": scores?.json ?? .null, "drifting": .array(drifting.map(JSONValue.string)),
                "note": note.map(JSONValue.string) ?? .null,
            ]
        }
    }

    /// The drift of `deployment`'s control model now.
    public func report(_ deployment: String) async throws -> Report {
        let service = controller.service
        guard let state = service.state(deployment), let control = state.variants.first, let model = control.model else {
            return Report(deployment: deployment, model: nil, windowMillis: config.windowMillis, features: [], scores: nil, note: "no model is served")
        }
        guard let baseline = try await baselines.get(runID: model.version.runID) else {
            return Report(
                deployment: deployment, model: model.key, windowMillis: config.windowMillis, features: [], scores: nil,
                note: "\(model.key) has no training baseline (trained before baselines were recorded: retrain it)")
        }
        let since = clock.nowMillis() - config.windowMillis
        var measures: [Measure] = []
        if let features, !baseline.features.isEmpty {
            let names = baseline.features.keys.sorted()
            // At most 5,000 of them (every k-th): enough for deciles, bounded work per pass.
            let active = service.activity.activeUsers(since: since)
            let users = stride(from: 0, to: active.count, by: max(1, active.count / 5000)).map { active[$0] }
            var values = [[Double]](repeating: [], count: names.count)
            for chunk in stride(from: 0, to: users.count, by: 500) {
                let readings = try await features.read(.user, ids: Array(users[chunk..<min(chunk + 500, users.count)]), features: names)
                for row in readings {
                    for (column, reading) in row.enumerated() { if let value = reading.value?.featureNumber { values[column].append(value) } }
                }
            }
            for (column, name) in names.enumerated() {
                measures.append(measure(name, baseline: baseline.features[name]!, live: values[column], threshold: config.featureThresholds[name]))
            }
        }
        let scores = service.metrics.scores(deployment: deployment, variant: control.spec.name, since: since)
        return Report(
            deployment: deployment, model: model.key, windowMillis: config.windowMillis, features: measures,
            scores: measure("model_score", baseline: baseline.scores, live: scores, threshold: nil), note: nil)
    }

    func measure(_ name: String, baseline: BinnedDistribution, live values: [Double], threshold: Double?) -> Measure {
        let live = BinnedDistribution.binned(values, edges: baseline.edges)
        let psi = baseline.psi(live)
        let limit = threshold ?? config.psiThreshold
        return Measure(
            name: name, psi: psi, ks: baseline.ks(live), samples: live.count, threshold: limit, drifting: live.count >= config.minSamples && psi > limit,
            live: live)
    }
}

/// Keeps the latest drift report of each deployment, recomputed every minute (what `/metrics`
/// and alerting read), and on request.
public final class DriftWatcher: Service, Sendable {
    public let monitor: DriftMonitor
    let interval: Duration
    let logger: Logger
    private let latest = Mutex<[String: DriftMonitor.Report]>([:])

    public init(monitor: DriftMonitor, interval: Duration = .seconds(60), logger: Logger) {
        self.monitor = monitor
        self.interval = interval
        self.logger = logger
    }

    /// Computes every deployment's report now.
    @discardableResult
    public func refresh() async -> [DriftMonitor.Report] {
        var reports: [DriftMonitor.Report] = []
        for state in monitor.controller.service.allStates {
            do {
                let report = try await monitor.report(state.deployment.name)
                latest.withLock { $0[report.deployment] = report }
                reports.append(report)
            } catch {
                logger.error("drift could not be computed", metadata: ["deployment": "\(state.deployment.name)", "error": "\(error)"])
            }
        }
        return reports
    }

    public var reports: [DriftMonitor.Report] { latest.withLock { Array($0.values) }.sorted { $0.deployment < $1.deployment } }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.refresh()
                try? await Task.sleep(for: self.interval)
            }
        }
    }
}
