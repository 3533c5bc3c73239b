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
            print("SKIPPED (Prometheus): install Debian's prometheus package (scripts/install-deps.sh --with-test-peers) to run the scrape test")
            return
        }
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let server = try ServerProcess(dataDirectory: directory.file("data"))
        defer { server.stop(signal: SIGTERM) }
        let port = 19_000 + Int(getpid() % 1000)
        try """
        global: { scrape_interval: 1s, evaluation_interval: 1s }
        rule_files: [\(FileManager.default.currentDirectoryPath)/deploy/prometheus/strata-rules.yml]
        scrape_configs:
          - job_name: strata
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
        func answer(_ promql: String) async -> JSONValue? {
            var components = URLComponents(string: "http://127.0.0.1:\(port)/api/v1/query")!
            components.queryItems = [URLQueryItem(name: "query", value: promql)]
            guard let (data, _) = try? await URLSession.shared.data(from: components.url!) else { return nil }
            return try? JSONValue.parse(String(decoding: data, as: UTF8.self))
        }
        func query(_ promql: String) async -> [JSONValue] { await answer(promql)?["data"]?["result"]?.arrayValue ?? [] }
        var up: [JSONValue] = []
        for _ in 0..<60 {
            up = await query(#"up{job="strata"} == 1"#)
            if !up.isEmpty { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(up.count == 1, "Prometheus did not scrape the server")
        #expect(!(await query("strata_process_resident_memory_bytes")).isEmpty)
        // Each scrape's own latency shows in the next one.
        var scrapes: [JSONValue] = []
        for _ in 0..<20 {
            scrapes = await query(#"strata_http_request_duration_seconds_count{route="/metrics"}"#)
            if !scrapes.isEmpty { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(!scrapes.isEmpty)
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
