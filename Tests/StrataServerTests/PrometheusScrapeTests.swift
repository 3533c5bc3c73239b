import Foundation
import StrataCore
import StrataTesting
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A real Prometheus (Debian's package) scrapes a real `strata serve`: the target is up and
/// Strata's series are in its database. Skipped with a message where Prometheus is missing.
@Suite(.serialized) struct PrometheusScrapeTests {
    @Test func prometheusScrapesTheServer() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/prometheus") else {
            peerMissing("SKIPPED (Prometheus): install Debian's prometheus package (scripts/install-deps.sh --with-test-peers) to run the scrape test")
            return
        }
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let server = try ServerProcess(dataDirectory: directory.file("data"))
        defer { server.stop(signal: SIGTERM) }
        let port = LocalPorts.free()
        try """
        global: { scrape_interval: 1s, evaluation_interval: 1s }
        # A scrape's timeout is at most its interval; on a machine busy with the other suites a
        # debug build's /metrics can take over a second, so this job scrapes every 5 s.

        rule_files: [\(FileManager.default.currentDirectoryPath)/deploy/prometheus/strata-rules.yml]
        scrape_configs:
          - job_name: strata
            scrape_interval: 5s
            scrape_timeout: 5s
            static_configs: [{ targets: ["127.0.0.1:\(server.port)"] }]
        """.write(toFile: directory.file("prometheus.yml"), atomically: true, encoding: .utf8)
        let prometheus = Process()
        prometheus.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus")
        prometheus.arguments = [
            "--config.file=\(directory.file("prometheus.yml"))", "--storage.tsdb.path=\(directory.file("tsdb"))",
            "--web.listen-address=127.0.0.1:\(port)",
        ]
        prometheus.standardOutput = FileHandle.nullDevice
        prometheus.standardError = FileHandle.nullDevice
        try prometheus.run()
        defer {
            prometheus.terminate()
            prometheus.waitUntilExit()
        }
        @Sendable func answer(_ promql: String) async -> JSONValue? {
            await prometheusAPI(port: port, "query", [URLQueryItem(name: "query", value: promql)])
        }
        @Sendable func query(_ promql: String) async -> [JSONValue] { await answer(promql)?["data"]?["result"]?.arrayValue ?? [] }
        // The limits only bound a hang: Prometheus may take minutes to start and scrape on a
        // busy machine (seen: not yet up after 180 s while the suites started together).
        do {
            try await waitUntil("Prometheus to scrape the server", timeout: .seconds(600), interval: .milliseconds(500)) {
                guard prometheus.isRunning else { throw StrataError.internal("Prometheus exited (status \(prometheus.terminationStatus))") }
                return !(await query(#"up{job="strata"} == 1"#)).isEmpty
            }
        } catch let failure as WaitFailed {
            // Say why: the target's last error as Prometheus saw it (a timeout, a refused connection, a parse error).
            throw WaitFailed("\(failure.description); \(await targetHealth(port: port))")
        }
        #expect(await query(#"up{job="strata"} == 1"#).count == 1, "Prometheus did not scrape the server")
        #expect(!(await query("strata_process_resident_memory_bytes")).isEmpty)
        // Each scrape's own latency shows in the next one.
        try await waitUntil("a scrape's latency to show in the next", timeout: .seconds(120), interval: .milliseconds(500)) {
            !(await query(#"strata_http_request_duration_seconds_count{route="/metrics"}"#)).isEmpty
        }
        #expect(!(await query("strata_consumer_lag_events")).isEmpty)
        // Every query of the Grafana dashboard is valid PromQL for this Prometheus.
        let dashboard = try JSONValue.parse(String(contentsOfFile: "deploy/grafana/strata-dashboard.json", encoding: .utf8))
        let expressions = (dashboard["panels"]?.arrayValue ?? []).flatMap { $0["targets"]?.arrayValue ?? [] }.compactMap { $0["expr"]?.stringValue }
        #expect(expressions.count > 10)
        for expression in expressions {
            let status = await answer(expression)?["status"]?.stringValue
            #expect(status == "success", "\(expression): \(status ?? "no answer")")
        }
    }
}

/// An answer of Prometheus's HTTP API (`/api/v1/<endpoint>`), nil when it does not answer.
private func prometheusAPI(port: Int, _ endpoint: String, _ query: [URLQueryItem] = []) async -> JSONValue? {
    var components = URLComponents(string: "http://127.0.0.1:\(port)/api/v1/\(endpoint)")!
    components.queryItems = query.isEmpty ? nil : query
    guard let (data, _) = try? await URLSession.uncached.data(from: components.url!) else { return nil }
    return try? JSONValue.parse(String(decoding: data, as: UTF8.self))
}

/// The scrape targets' health and last error, from Prometheus's targets API.
private func targetHealth(port: Int) async -> String {
    guard let targets = await prometheusAPI(port: port, "targets")?["data"]?["activeTargets"]?.arrayValue
    else { return "Prometheus's targets API did not answer on 127.0.0.1:\(port)" }
    return targets.map { target in
        let health = target["health"]?.stringValue ?? "?"
        let error = target["lastError"]?.stringValue ?? ""
        let duration = target["lastScrapeDuration"]?.doubleValue.map { String($0) } ?? "?"
        return "target \(target["scrapeUrl"]?.stringValue ?? "?"): \(health), last scrape \(duration) s, last error \(error.isEmpty ? "none" : error)"
    }.joined(separator: "; ")
}
