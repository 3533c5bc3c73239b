import Foundation
import StrataCore

/// The demo's planted change in user tastes: from `at` (epoch ms; nil: never), `fraction` of
/// the simulated users like three other categories and browse more. The live event stream and
/// the simulated visitors both switch at that moment, so monitoring sees drift in browsing
/// features and a CTR drop of the served model, and the drift alert retrains.
struct DemoShift: Sendable {
    var at: Int64?
    var fraction = 2.0 / 3

    func isDue(_ now: Int64) -> Bool { at.map { now >= $0 } ?? false }
}

/// The demo's monitoring tempo: the example's production settings (an hour's window, minutes
/// before alerts fire) would keep a newcomer waiting, so the demo watches a 5-minute window,
/// evaluates every 10 seconds and fires alerts after at most a minute. Printed at start.
enum DemoTempo {
    static func apply(to config: inout StrataConfig) {
        config.monitoring.windowMillis = min(config.monitoring.windowMillis, 300_000)
        config.monitoring.intervalMillis = min(config.monitoring.intervalMillis, 10_000)
        config.monitoring.minImpressions = min(config.monitoring.minImpressions, 300)
        for index in config.alerts.indices {
            config.alerts[index].forMillis = min(config.alerts[index].forMillis, 60_000)
            config.alerts[index].minImpressions = min(config.alerts[index].minImpressions, 300)
        }
    }

    static let summary = "demo tempo: monitoring window 5m, evaluated every 10s, alerts fire after at most 1m"
}
