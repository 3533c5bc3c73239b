import Foundation
import StrataCore
import StrataLake
import StrataMetadata
import StrataRegistry
import StrataTesting
import StrataTraining
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The dashboard in real headless Chromium (Debian's chromium and chromium-driver, driven by
/// Selenium: `scripts/browser/dashboard-check.py`) over a real `strata serve` with keys on:
/// every section shows live data, the charts are drawn, nothing is fetched from elsewhere, and
/// approving a candidate from the page works and is audited as the key's holder. The
/// screenshot is written to `.build/test-artifacts/dashboard.png`. Skipped with a message where
/// Chromium or Selenium is missing.
@Suite(.serialized) struct DashboardBrowserTests {
    static var browserAvailable: Bool {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium"), FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")
        else { return false }
        return (try? runProcess("/usr/bin/env", ["python3", "-c", "import selenium"]).status) == 0
    }

    @Test func theDashboardRendersLiveDataAndApprovesInChromium() async throws {
        guard Self.browserAvailable else {
            peerMissing(
                "SKIPPED (Chromium): install chromium, chromium-driver and selenium (scripts/install-deps.sh --with-test-peers) to run the browser test")
            return
        }
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (config, data, users) = try await SwapUnderLoadTests.prepare(directory)
        // A third version waits at the approval gate, and an admin key drives the page.
        let (key, candidate) = try await Self.addCandidateAndKey(config: config, data: data)
        let server = try ServerProcess(dataDirectory: data, arguments: ["--config", config], authenticate: true)
        defer { server.stop(signal: SIGTERM) }
        let base = "http://127.0.0.1:\(server.port)"
        func request(_ method: String, _ path: String, body: String? = nil) async throws -> (Int, JSONValue?) {
            var request = URLRequest(url: URL(string: base + path)!)
            request.httpMethod = method
            request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
            if let body {
                request.setValue("application/x-ndjson", forHTTPHeaderField: "Content-Type")
                request.httpBody = Data(body.utf8)
            }
            let (data, response) = try await URLSession.uncached.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, try? JSONValue.parse(String(decoding: data, as: UTF8.self)))
        }
        // Live data: events now, recommendations served, a click on one of them, one bad event.
        let now = SystemClock().nowMillis()
        var lines = users.prefix(40).enumerated().map { index, user in
            #"{"type":"view","user_id":"\#(user)","item_id":"i\#(index % 30)","timestamp":\#(now - Int64(index) * 1000)}"#
        }
        lines.append(#"{"type":"view","user_id":"u-bad"}"#)
        let (ingested, _) = try await request("POST", "/v1/events", body: lines.joined(separator: "\n"))
        #expect(ingested == 200 || ingested == 207)
        for user in users.prefix(20) {
            let (status, answer) = try await request("GET", "/v1/recommendations/\(user)?n=5")
            #expect(status == 200)
            if user == users.first, let id = answer?["recommendation_id"]?.stringValue, let item = answer?["items"]?.arrayValue?.first?["id"]?.stringValue {
                let click =
                    #"{"type":"click","user_id":"\#(user)","item_id":"\#(item)","recommendation_id":"\#(id)","timestamp":\#(SystemClock().nowMillis())}"#
                _ = try await request("POST", "/v1/events", body: click)
            }
        }

        let screenshot = FileManager.default.currentDirectoryPath + "/.build/test-artifacts/dashboard.png"
        try? FileManager.default.removeItem(atPath: screenshot)
        let (status, output, errors) = try runProcess(
            "/usr/bin/env", ["python3", "scripts/browser/dashboard-check.py", base, key, candidate, screenshot])
        #expect(status == 0, "the browser check failed: \(output) \(errors)")
        let seen = try JSONValue.parse(output.split(separator: "\n").last.map(String.init) ?? "{}")
        #expect(seen["versions"]?.intValue ?? 0 >= 3)
        #expect(seen["runs"]?.intValue ?? 0 >= 3)
        #expect(seen["charts"]?.intValue ?? 0 >= 3)
        #expect(seen["alerts"]?.arrayValue?.contains("taste-shift") == true)
        #expect(seen["audit_rows"]?.intValue ?? 0 > 0)
        #expect(FileManager.default.fileExists(atPath: screenshot), "no screenshot at \(screenshot)")

        // The click went through the API with the page's key: approved, and audited as its holder.
        let (_, version) = try await request("GET", "/v1/models/\(candidate)")
        #expect(version?["stage"] == "approved")
        #expect(version?["approvals"]?.arrayValue?.first?["reason"] == "reviewed on the dashboard")
        let (_, audit) = try await request("GET", "/v1/audit?action=model.approve&order=newest&limit=1")
        let entry = audit?["entries"]?.arrayValue?.first
        #expect(entry?["target"]?.stringValue?.contains(candidate) == true)
        #expect(entry?["principal"]?.stringValue?.contains("dashboard-admin") == true)
    }

    /// Trains a third version (left a candidate) and creates an admin key, before the server
    /// starts; returns the key and the candidate's reference.
    static func addCandidateAndKey(config path: String, data: String) async throws -> (key: String, candidate: String) {
        let (store, audit, _, trainer) = try await SwapUnderLoadTests.openTraining(config: try StrataConfig.load(path: path), data: data)
        let spec = try ModelSpec(name: "als-main", algorithm: .als, parameters: ["factors": 16, "iterations": 3, "seed": 3])
        let outcome = try await trainer.train(TrainingRequest(spec: spec, principal: Principal(id: "sci", name: "sam", roles: [.scientist])))
        let keys = try await APIKeys(store: store)
        let (key, _) = try await keys.create(name: "dashboard-admin", roles: [.admin], by: "test")
        try await audit.flush()
        await store.close()
        return (key, try #require(outcome.version?.reference))
    }
}
