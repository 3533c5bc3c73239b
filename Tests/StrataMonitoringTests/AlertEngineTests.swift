import StrataCore
import StrataMonitoring
import Testing

@Suite struct AlertEngineTests {
    @Test("pending until the breach has lasted `for`, then firing once, then resolved")
    func pendingFiringResolved() {
        let engine = AlertEngine(rules: [AlertRule(name: "drift", kind: .drift, threshold: 0.2, forMillis: 60_000)])
        #expect(engine.evaluate(["drift": 0.1], now: 0).isEmpty)
        #expect(engine.evaluate(["drift": 0.5], now: 1000).map(\.to) == [.pending])
        #expect(engine.evaluate(["drift": 0.6], now: 30_000).isEmpty)
        #expect(engine.evaluate(["drift": 0.6], now: 61_000).map(\.to) == [.firing])
        #expect(engine.evaluate(["drift": 0.7], now: 90_000).isEmpty, "firing does not fire again while it lasts")
        let resolved = engine.evaluate(["drift": 0.05], now: 120_000)
        #expect(resolved.map(\.to) == [.inactive] && resolved[0].resolved)
        #expect(engine.current[0].firings == 1)
        // A breach that ends before `for` never fires.
        _ = engine.evaluate(["drift": 0.5], now: 130_000)
        let dropped = engine.evaluate(["drift": 0.1], now: 140_000)
        #expect(dropped.map(\.to) == [.inactive] && !dropped[0].resolved)
        // No value: not judged.
        #expect(engine.evaluate([:], now: 150_000).isEmpty)
    }

    @Test("for: 0 fires at the first breach")
    func immediate() {
        let engine = AlertEngine(rules: [AlertRule(name: "x", kind: .errorRate, threshold: 0.01)])
        #expect(engine.evaluate(["x": 0.5], now: 0).map(\.to) == [.pending, .firing])
    }
}
