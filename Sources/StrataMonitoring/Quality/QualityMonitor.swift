import StrataCore
import StrataServing

/// Prediction quality per variant: CTR and conversion of its recommendations in the
/// monitoring window against the same variant before the window (its own baseline), judged
/// per user once both have the minimum of impressions; degraded when CTR fell by more than
/// `monitoring.ctr_drop` and the always-valid test finds the drop significant (`CTRChange`).
public struct QualityMonitor: Sendable {
    let controller: DeploymentController
    let config: MonitoringConfig
    let experiments: ExperimentSettings
    let clock: any WallClock

    public init(controller: DeploymentController, config: MonitoringConfig, experiments: ExperimentSettings, clock: any WallClock) {
        self.controller = controller
        self.config = config
        self.experiments = experiments
        self.clock = clock
    }

    public func report() -> JSONValue {
        let now = clock.nowMillis()
        let start = now - config.windowMillis
        let service = controller.service
        var deployments: [JSONValue] = []
        for state in service.allStates {
            let name = state.deployment.name
            var variants: [JSONValue] = []
            for variant in state.variants {
                let window = service.activity.arm(deployment: name, variant: variant.spec.name, from: start, to: now + 60_000)
                let before = service.activity.arm(deployment: name, variant: variant.spec.name, from: 0, to: start)
                func rate(_ part: Int, _ whole: Int) -> Double? { whole > 0 ? Double(part) / Double(whole) : nil }
                let ctr = rate(window.clicks, window.impressions)
                let baseline = rate(before.clicks, before.impressions)
                let measured = CTRChange.measure(
                    service.activity, deployment: name, variant: variant.spec.name, windowStart: start, minImpressions: config.minImpressions,
                    experiments: experiments)
                let judged = measured.judged
                let change = measured.change
                variants.append([
                    "variant": .string(variant.spec.name), "model": variant.model.map { .string($0.key) } ?? .null,
                    "window": [
                        "impressions": .int(Int64(window.impressions)), "clicks": .int(Int64(window.clicks)), "purchases": .int(Int64(window.purchases)),
                        "ctr": ctr.map(JSONValue.double) ?? .null, "conversion": rate(window.purchases, window.impressions).map(JSONValue.double) ?? .null,
                    ],
                    "baseline": [
                        "impressions": .int(Int64(before.impressions)), "clicks": .int(Int64(before.clicks)), "purchases": .int(Int64(before.purchases)),
                        "ctr": baseline.map(JSONValue.double) ?? .null, "conversion": rate(before.purchases, before.impressions).map(JSONValue.double) ?? .null,
                    ],
                    "ctr_change": change.map(JSONValue.double) ?? .null, "judged": .bool(judged), "users": .int(Int64(measured.recent.users)),
                    "p_value": .double(measured.pValue),
                    "degraded": .bool(measured.significantDrop(alpha: experiments.alpha) > config.ctrDrop),
                    // The last hour minute by minute, for charts.
                    "minutes": .array(
                        service.activity.armMinutes(deployment: name, variant: variant.spec.name, from: now - 3_600_000, to: now + 60_000).map {
                            [
                                "at": .string(EventTime.format(millis: $0.minute * 60_000)), "impressions": .int(Int64($0.impressions)),
                                "clicks": .int(Int64($0.clicks)), "purchases": .int(Int64($0.purchases)),
                            ]
                        }),
                ])
            }
            deployments.append(["deployment": .string(name), "variants": .array(variants)])
        }
        return ["window_ms": .int(config.windowMillis), "min_impressions": .int(Int64(config.minImpressions)), "deployments": .array(deployments)]
    }
}
