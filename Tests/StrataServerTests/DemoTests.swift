import Foundation
import StrataCore
import StrataTesting
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The README's first command shows what the README promises: `strata up --demo` (a smaller
/// history and an earlier taste shift than the quickstart's, the same code path) runs an A/B
/// test with impressions in both variants, measures drift, and after the planted shift fires
/// an alert whose action starts a retraining run — whatever order the first models finish
/// training in. Every wait only bounds a hang.
@Suite(.serialized) struct DemoTests {
    @Test func theDemoClosesTheLoop() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let server = try ServerProcess(
            dataDirectory: directory.file("data"), arguments: ["--demo", "--users", "300", "--items", "800", "--days", "4", "--shift-after", "60s"],
            command: "up")
        defer { server.stop(signal: SIGTERM) }
        let base = "http://127.0.0.1:\(server.port)"
        @Sendable func get(_ path: String) async throws -> JSONValue {
            var request = URLRequest(url: URL(string: base + path)!)
            request.timeoutInterval = 120
            let (body, _) = try await URLSession.uncached.data(for: request)
            return try JSONValue.parse(String(decoding: body, as: UTF8.self))
        }
        try await waitUntil("an A/B test with impressions in both variants", timeout: .seconds(900), interval: .seconds(1)) {
            let variants = try await get("/v1/experiments/default")["variants"]?.arrayValue ?? []
            return variants.count == 2 && variants.allSatisfy { ($0["impressions"]?.intValue ?? 0) > 0 }
        }
        try await waitUntil("drift values of the served model", timeout: .seconds(900), interval: .seconds(1)) {
            let features = try await get("/v1/monitoring/drift")["deployments"]?.arrayValue?.first?["features"]?.arrayValue ?? []
            return features.contains { $0["psi"]?.doubleValue != nil }
        }
        try await waitUntil("an alert firing after the planted shift", timeout: .seconds(900), interval: .seconds(2)) {
            let alerts = try await get("/v1/monitoring/alerts")["alerts"]?.arrayValue ?? []
            return alerts.contains { ($0["firings"]?.intValue ?? 0) > 0 }
        }
        try await waitUntil("a retraining run started by the alert", timeout: .seconds(900), interval: .seconds(2)) {
            let runs = try await get("/v1/training/runs")["runs"]?.arrayValue ?? []
            return runs.contains { $0["experiment"]?.stringValue?.hasPrefix("alert:") == true }
        }
        let report = try await get("/v1/experiments/default")
        print(
            "demo: A/B \(report["variants"]?.arrayValue?.map { "\($0["variant"]?.stringValue ?? "")=\($0["model"]?.stringValue ?? "") \($0["impressions"]?.intValue ?? 0) impressions" } ?? []); \(report["verdict"]?.stringValue ?? "")"
        )
    }
}
