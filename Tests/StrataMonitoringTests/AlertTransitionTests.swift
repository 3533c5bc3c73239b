import StrataCore
import StrataMonitoring
import Testing

/// The alert engine's states over many evaluations: pending, firing, resolved, per rule.
@Suite struct AlertTransitionTests {
    static let minute: Int64 = 60_000

    @Test func aValueEqualToTheThresholdIsNoBreach() {
        let engine = AlertEngine(rules: [AlertRule(name: "errors", kind: .errorRate, threshold: 0.05)])
        #expect(engine.evaluate(["errors": 0.05], now: 0).isEmpty)
        #expect(engine.current[0].state == .inactive)
        #expect(engine.current[0].value == 0.05, "the value is kept even when nothing changes")
        #expect(engine.evaluate(["errors": 0.050_000_1], now: 1).map(\.to) == [.pending, .firing])
    }

    @Test func firingWaitsExactlyForTheRulesDuration() {
        let engine = AlertEngine(rules: [AlertRule(name: "drift", kind: .drift, threshold: 0.2, forMillis: 5 * Self.minute)])
        #expect(engine.evaluate(["drift": 0.3], now: 1000).map(\.to) == [.pending])
        #expect(engine.current[0].since == 1000)
        #expect(engine.evaluate(["drift": 0.3], now: 1000 + 5 * Self.minute - 1).isEmpty, "one millisecond short")
        let fired = engine.evaluate(["drift": 0.4], now: 1000 + 5 * Self.minute)
        #expect(fired.map(\.to) == [.firing])
        #expect(fired[0].value == 0.4 && !fired[0].resolved && fired[0].rule.name == "drift")
        let status = engine.current[0]
        #expect(status.state == .firing)
        #expect(status.since == 1000 + 5 * Self.minute, "a firing period starts when it fires")
        #expect(status.firings == 1 && status.lastFiredAt == 1000 + 5 * Self.minute && status.lastResolvedAt == nil)
    }

    @Test func eachEpisodeFiresOnceAndResolvesOnce() {
        let engine = AlertEngine(rules: [AlertRule(name: "x", kind: .ingestRejections, threshold: 0.1)])
        var fired = 0
        var resolved = 0
        // Three episodes of breaches, separated by healthy values.
        let values: [Double] = [0, 0.5, 0.6, 0.7, 0, 0, 0.2, 0.01, 0.3, 0.3, 0.3, 0.05]
        for (index, value) in values.enumerated() {
            for transition in engine.evaluate(["x": value], now: Int64(index) * 1000) {
                if transition.to == .firing { fired += 1 }
                if transition.resolved { resolved += 1 }
            }
        }
        #expect(fired == 3 && resolved == 3)
        let status = engine.current[0]
        #expect(status.firings == 3)
        #expect(status.lastFiredAt == 8000 && status.lastResolvedAt == 11_000)
        #expect(status.state == .inactive && status.since == nil)
    }

    @Test func aPendingBreachThatEndsIsNotAResolution() {
        let engine = AlertEngine(rules: [AlertRule(name: "x", kind: .drift, threshold: 0.2, forMillis: 10_000)])
        _ = engine.evaluate(["x": 0.5], now: 0)
        let ended = engine.evaluate(["x": 0.1], now: 5000)
        #expect(ended.map(\.to) == [.inactive])
        #expect(!ended[0].resolved)
        #expect(engine.current[0].firings == 0 && engine.current[0].lastResolvedAt == nil)
        // A new breach starts its own wait.
        #expect(engine.evaluate(["x": 0.5], now: 6000).map(\.to) == [.pending])
        #expect(engine.evaluate(["x": 0.5], now: 15_000).isEmpty, "9 s into the new breach, not 15 s since the first")
        #expect(engine.evaluate(["x": 0.5], now: 16_000).map(\.to) == [.firing])
    }

    @Test func aMissingValueKeepsTheState() {
        let engine = AlertEngine(rules: [AlertRule(name: "a", kind: .drift, threshold: 0.2), AlertRule(name: "b", kind: .freshness, threshold: 0)])
        _ = engine.evaluate(["a": 1, "b": 2], now: 0)
        #expect(engine.current.map(\.state) == [.firing, .firing])
        // `a` is not measured this time: it stays firing with its last value.
        let transitions = engine.evaluate(["b": 0], now: 1000)
        #expect(transitions.map(\.rule.name) == ["b"])
        #expect(transitions.first?.resolved == true)
        #expect(engine.current.map(\.state) == [.firing, .inactive])
        #expect(engine.current[0].value == 1)
        // Values for rules that do not exist are ignored.
        #expect(engine.evaluate(["zzz": 100], now: 2000).isEmpty)
    }

    @Test func rulesAreIndependentAndReportedInRuleOrder() {
        let rules = [
            AlertRule(name: "drift", kind: .drift, threshold: 0.2, forMillis: 1000), AlertRule(name: "errors", kind: .errorRate, threshold: 0.01),
            AlertRule(name: "ctr", kind: .ctrDrop, threshold: 0.3),
        ]
        let engine = AlertEngine(rules: rules)
        let first = engine.evaluate(["drift": 0.5, "errors": 0.5, "ctr": 0.1], now: 0)
        #expect(first.map(\.rule.name) == ["drift", "errors", "errors"])
        #expect(first.map(\.to) == [.pending, .pending, .firing])
        #expect(engine.current.map(\.rule) == rules)
        #expect(engine.current.map(\.state) == [.pending, .firing, .inactive])
        let second = engine.evaluate(["drift": 0.5, "errors": 0, "ctr": 0.4], now: 1000)
        #expect(second.map(\.rule.name) == ["drift", "errors", "ctr", "ctr"])
        #expect(second.map(\.to) == [.firing, .inactive, .pending, .firing])
    }

    @Test func theStatusJSONSaysWhereTheAlertStands() throws {
        let rule = AlertRule(name: "views", kind: .drift, threshold: 0.25, forMillis: 60_000, feature: "user_views_1h")
        let engine = AlertEngine(rules: [rule])
        let fresh = engine.current[0].json
        #expect(fresh["name"] == .string("views") && fresh["when"] == .string("drift"))
        #expect(fresh["state"] == .string("inactive") && fresh["value"] == .null && fresh["since"] == .null)
        #expect(fresh["threshold"] == .double(0.25) && fresh["for_ms"] == .int(60_000) && fresh["feature"] == .string("user_views_1h"))
        let start: Int64 = 1_790_000_000_000
        _ = engine.evaluate(["views": 0.5], now: start)
        _ = engine.evaluate(["views": 0.5], now: start + 60_000)
        let firing = engine.current[0].json
        #expect(firing["state"] == .string("firing"))
        #expect(firing["value"] == .double(0.5))
        #expect(firing["firings"] == .int(1))
        #expect(firing["since"] == .string(EventTime.format(millis: start + 60_000)))
        #expect(firing["last_fired_at"] == .string(EventTime.format(millis: start + 60_000)))
        #expect(firing["last_resolved_at"] == .null)
        _ = engine.evaluate(["views": 0], now: start + 120_000)
        #expect(engine.current[0].json["last_resolved_at"] == .string(EventTime.format(millis: start + 120_000)))
    }

    /// The example configuration with its `alerts:` section replaced by `alerts`.
    static func example(alerts: String) -> String {
        let yaml = ExampleConfig.yaml
        guard let start = yaml.range(of: "\nalerts:\n"), let end = yaml.range(of: "\n# Backends", range: start.upperBound..<yaml.endIndex) else {
            return yaml
        }
        return String(yaml[..<start.lowerBound]) + "\nalerts:\n" + alerts + "\n" + String(yaml[end.lowerBound...])
    }

    @Test func theExampleAlertsParse() {
        let rules = StrataConfig.example().alerts
        #expect(rules.map(\.name) == ["taste-shift", "ctr-drop", "stale-features"])
        #expect(rules[0].kind == .drift && rules[0].threshold == 0.25 && rules[0].forMillis == 600_000)
        #expect(rules[0].actions == [.log, .retrain] && rules[0].cooldownMillis == 6 * 3_600_000)
        #expect(rules[1].kind == .ctrDrop && rules[1].minImpressions == 500)
        #expect(rules[2].kind == .freshness && rules[2].threshold == 0, "freshness's default threshold")
    }

    @Test func rulesParseWithTheirDefaults() throws {
        let yaml = Self.example(
            alerts: """
                  - {name: drifting, when: drift, feature: user_views_1h, for: 10m, threshold: 0.3}
                  - {name: errors, when: error_rate, cooldown: 30m, actions: [log, retrain, {webhook: "https://hooks.example.com/a"}]}
                  - {name: ctr, when: ctr_drop, min_impressions: 50}
                """)
        let rules = try StrataConfig.parse(yaml: yaml, file: "alerts.yaml").alerts
        #expect(rules.map(\.name) == ["drifting", "errors", "ctr"])
        #expect(rules[0].kind == .drift && rules[0].forMillis == 600_000 && rules[0].threshold == 0.3 && rules[0].feature == "user_views_1h")
        #expect(rules[0].actions == [.log] && rules[0].cooldownMillis == 3_600_000)
        #expect(rules[1].threshold == 0.01, "error_rate's default threshold")
        #expect(rules[1].cooldownMillis == 1_800_000)
        #expect(rules[1].actions == [.log, .retrain, .webhook("https://hooks.example.com/a")])
        #expect(rules[2].threshold == 0.3 && rules[2].minImpressions == 50)
        for (body, problem) in [
            ("  - {name: a, when: drift}\n  - {name: a, when: drift}", "two alerts are named 'a'"),
            ("  - {name: a, when: nonsense}", "nonsense"),
            ("  - {name: a, when: drift, actions: [{webhook: 'ftp://x'}]}", "http(s) URL"),
            ("  - {when: drift}", "needs a name and when"),
        ] {
            do {
                _ = try StrataConfig.parse(yaml: Self.example(alerts: body), file: "alerts.yaml")
                Issue.record("expected a refusal: \(problem)")
            } catch {
                #expect(error.description.contains(problem), "got \(error)")
            }
        }
    }
}
