import Foundation
import StrataCore
import StrataTesting
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The loop closed in a real `strata serve`: a planted shift in user behaviour is detected as
/// drift within the window, fires the alert, and starts exactly one retraining run (the
/// cooldown holds while the alert stays firing), whose version is a candidate in the registry
/// with its run's experiment naming the alert.
@Suite(.serialized) struct AlertLoopTests {
    @Test func aPlantedShiftTriggersExactlyOneRetraining() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (config, data, users) = try await SwapUnderLoadTests.prepare(directory)
        // The example's monitoring and alerts, made quick and aimed at the planted shift.
        try (try String(contentsOfFile: config, encoding: .utf8))
            .replacingOccurrences(of: "gate_margin: 0 ", with: "gate_margin: -1 ")
            .replacingOccurrences(of: "  interval: 1m ", with: "  interval: 300ms ")
            .replacingOccurrences(of: "  min_samples: 50 ", with: "  min_samples: 20 ")
            .replacingOccurrences(
                of: "  - { name: taste-shift, when: drift, threshold: 0.25, for: 10m, actions: [log, retrain], cooldown: 6h }",
                with: "  - { name: browsing-shift, when: drift, feature: user_views_1h, threshold: 0.5, for: 600ms, actions: [log, retrain], cooldown: 1h }"
            )
            .write(toFile: config, atomically: true, encoding: .utf8)
        let server = try ServerProcess(dataDirectory: data, arguments: ["--config", config])
        defer { server.stop(signal: SIGTERM) }
        func get(_ path: String) async throws -> JSONValue {
            let (body, _) = try await URLSession.uncached.data(from: URL(string: "http://127.0.0.1:\(server.port)\(path)")!)
            return try JSONValue.parse(String(decoding: body, as: UTF8.self))
        }
        func alertRuns() async throws -> [JSONValue] {
            try await get("/v1/training/runs?model=als-main").arrayValue(at: "runs").filter { $0["experiment"] == "alert:browsing-shift" }
        }
        // Calm: the alert does not fire.
        try await Task.sleep(for: .seconds(2))
        #expect(try await get("/v1/monitoring/alerts")["alerts"]?.arrayValue?.first { $0["name"] == "browsing-shift" }?["firings"] == 0)

        // A third of the users suddenly browse a lot.
        let now = SystemClock().nowMillis()
        var lines: [String] = []
        for user in users.prefix(users.count / 3) {
            for step in 0..<25 {
                lines.append(#"{"type":"view","user_id":"\#(user)","item_id":"i\#(step)","timestamp":\#(now - Int64(step) * 1000)}"#)
            }
        }
        #expect(await server.post(ndjson: lines.joined(separator: "\n")) == 200)
        // Waits bound a hang only (the machine may be slow: nothing here measures speed); the
        // alert's `for` and cooldown run on the server's clock and only get more lenient then.
        var runs: [JSONValue] = []
        let appeared = ContinuousClock.now + .seconds(600)
        while runs.isEmpty, ContinuousClock.now < appeared {
            try await Task.sleep(for: .milliseconds(500))
            runs = try await alertRuns()
        }
        #expect(runs.count == 1, "no retraining run named the alert within 10 minutes")
        // While the alert stays firing and beyond, the cooldown allows no second run.
        let finished = ContinuousClock.now + .seconds(600)
        while ContinuousClock.now < finished {
            try await Task.sleep(for: .milliseconds(500))
            if let run = try await alertRuns().first, run["status"] != "running" { break }
        }
        #expect(try await alertRuns().first?["status"] != "running", "the retraining run did not finish within 10 minutes")
        try await Task.sleep(for: .seconds(2))
        let settled = try await alertRuns()
        #expect(settled.count == 1)
        let alert = try await get("/v1/monitoring/alerts")["alerts"]?.arrayValue?.first { $0["name"] == "browsing-shift" }
        #expect(alert?["firings"] == 1)
        let drift = try await get("/v1/monitoring/drift")["deployments"]?.arrayValue?.first
        #expect(drift?["drifting"]?.arrayValue?.contains("user_views_1h") == true)
        let runID = try #require(settled.first?["id"]?.stringValue)
        let versions = try await get("/v1/models?model=als-main").arrayValue(at: "versions")
        let version = try #require(versions.first { $0["run"]?.stringValue == runID }, "the run registered no version")
        #expect(version["stage"] == "candidate")
        let audit = try await get("/v1/audit?action=alert.retrain").arrayValue(at: "entries")
        #expect(audit.filter { $0["outcome"] == "ok" }.count == 1)
    }
}

extension JSONValue {
    fileprivate func arrayValue(at key: String) -> [JSONValue] { self[key]?.arrayValue ?? [] }
}
