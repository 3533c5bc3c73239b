import StrataCore
import Synchronization

/// Where an alert stands, like Prometheus: inactive → pending (breached, waiting out `for`) →
/// firing → resolved (inactive again).
public struct AlertStatus: Sendable {
    public enum State: String, Sendable { case inactive, pending, firing }
    public var rule: AlertRule
    public var state: State = .inactive
    /// The watched value at the last evaluation (nil: nothing to judge yet).
    public var value: Double?
    /// When the current pending or firing period began.
    public var since: Int64?
    public var firings = 0
    public var lastFiredAt: Int64?
    public var lastResolvedAt: Int64?

    public var json: JSONValue {
        [
            "name": .string(rule.name), "when": .string(rule.kind.rawValue), "threshold": .double(rule.threshold), "for_ms": .int(rule.forMillis),
            "feature": rule.feature.map(JSONValue.string) ?? .null, "state": .string(state.rawValue), "value": value.map(JSONValue.double) ?? .null,
            "since": since.map { .string(EventTime.format(millis: $0)) } ?? .null, "firings": .int(Int64(firings)),
            "last_fired_at": lastFiredAt.map { .string(EventTime.format(millis: $0)) } ?? .null,
            "last_resolved_at": lastResolvedAt.map { .string(EventTime.format(millis: $0)) } ?? .null,
        ]
    }
}

/// A change of state the caller acts on.
public struct AlertTransition: Sendable {
    public var rule: AlertRule
    public var to: AlertStatus.State
    /// `resolved` when a firing alert went back to inactive.
    public var resolved: Bool
    public var value: Double?
}

/// Evaluates alert rules over values the caller measures: a rule breaches when its value
/// exceeds its threshold; it fires once the breach has lasted `for`, and resolves when it
/// stops.
public final class AlertEngine: Sendable {
    private let statuses: Mutex<[AlertStatus]>

    public init(rules: [AlertRule]) {
        statuses = Mutex(rules.map { AlertStatus(rule: $0) })
    }

    public var current: [AlertStatus] { statuses.withLock { $0 } }

    /// One evaluation: `values[rule name]` (nil, missing or NaN: not judged, state kept).
    public func evaluate(_ values: [String: Double], now: Int64) -> [AlertTransition] {
        statuses.withLock { all in
            var transitions: [AlertTransition] = []
            for index in all.indices {
                var status = all[index]
                guard let value = values[status.rule.name], !value.isNaN else { continue }
                status.value = value
                let breached = value > status.rule.threshold
                switch (status.state, breached) {
                case (.inactive, true):
                    status.state = .pending
                    status.since = now
                    transitions.append(AlertTransition(rule: status.rule, to: .pending, resolved: false, value: value))
                    fallthrough
                case (.pending, true):
                    if now - (status.since ?? now) >= status.rule.forMillis {
                        status.state = .firing
                        status.since = now
                        status.firings += 1
                        status.lastFiredAt = now
                        transitions.append(AlertTransition(rule: status.rule, to: .firing, resolved: false, value: value))
                    }
                case (.pending, false):
                    status.state = .inactive
                    status.since = nil
                    transitions.append(AlertTransition(rule: status.rule, to: .inactive, resolved: false, value: value))
                case (.firing, false):
                    status.state = .inactive
                    status.since = nil
                    status.lastResolvedAt = now
                    transitions.append(AlertTransition(rule: status.rule, to: .inactive, resolved: true, value: value))
                case (.firing, true), (.inactive, false):
                    break
                }
                all[index] = status
            }
            return transitions
        }
    }
}
