import Foundation
import StrataCore
import StrataTesting
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Property-based fuzzing of every operation in docs/openapi.json with schemathesis (PyPI)
/// against a real `strata serve` with keys on, data, and a model in production: no request may
/// get a 5xx, every answer's status must be one the document lists, and the server must still be
/// up (and have logged no crash) at the end. Skipped with a message without schemathesis.
@Suite(.serialized) struct APIFuzzTests {
    @Test func schemathesisFindsNoServerError() async throws {
        guard let schemathesis = executableInPath("schemathesis") else {
            print("SKIPPED (schemathesis): pip install schemathesis (scripts/install-deps.sh --with-test-peers) to fuzz the API")
            return
        }
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let configPath = directory.file("strata.yaml")
        try ExampleConfig.yaml.replacingOccurrences(of: "rate_limit: { per_key: 1000, burst: 2000 }", with: "rate_limit: off").write(
            toFile: configPath, atomically: true, encoding: .utf8)
        let data = directory.file("data")
        func key(_ name: String, _ roles: String) throws -> String {
            let created = try runProcess(
                ServerProcess.binary, ["keys", "create", "--name", name, "--roles", roles, "--data-dir", data, "--config", configPath])
            return created.output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let admin = try key("fuzzer", "admin")
        let approver = try key("approver", "approver")
        let server = try ServerProcess(dataDirectory: data, arguments: ["--config", configPath], authenticate: true)
        defer { server.stop(signal: SIGTERM) }
        let base = "http://127.0.0.1:\(server.port)"
        func call(_ method: String, _ path: String, key: String, body: String, type: String = "application/json") async throws -> JSONValue {
            var request = URLRequest(url: URL(string: base + path)!)
            request.httpMethod = method
            request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
            request.setValue(type, forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(body.utf8)
            request.timeoutInterval = 120
            let (answer, _) = try await URLSession.shared.data(for: request)
            return try JSONValue.parse(String(decoding: answer, as: UTF8.self))
        }
        // History, a trained model in production: the fuzzer reaches the serving paths.
        let events = try runProcess(ServerProcess.binary, ["generate", "--events", "3000", "--config", configPath]).output
        #expect(try await call("POST", "/v1/events", key: admin, body: events, type: "application/x-ndjson")["accepted"] == 3000)
        _ = try await call("POST", "/v1/lake/compact", key: admin, body: "{}")
        _ = try await call("POST", "/v1/lake/snapshots", key: admin, body: "{}")
        let run = try await call("POST", "/v1/training/runs", key: admin, body: #"{"model": "als-main"}"#)
        let reference = try #require(run["version"]?["reference"]?.stringValue, "\(run)")
        _ = try await call("POST", "/v1/models/\(reference)/approve", key: approver, body: #"{"reason": "fuzzing"}"#)
        _ = try await call("POST", "/v1/models/\(reference)/promote", key: approver, body: "{}")

        let result = try runProcess(
            schemathesis,
            [
                "run", OpenAPITests.root.appendingPathComponent("docs/openapi.json").path, "--url", base, "-H", "Authorization: Bearer \(admin)",
                "--checks", "not_a_server_error,status_code_conformance", "--max-examples", "12", "--seed", "7", "--request-timeout", "30",
                "--phases", "examples,coverage,fuzzing",
            ])
        let summary = result.output.split(separator: "\n").suffix(25).joined(separator: "\n")
        print("schemathesis:\n\(summary)")
        #expect(result.status == 0, "schemathesis found failures:\n\(result.output.suffix(6000))")
        // Still up, nothing crashed.
        let (_, response) = try await URLSession.shared.data(from: URL(string: "\(base)/healthz")!)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        server.stop(signal: SIGTERM)
        #expect(!server.remainingLog().contains("Fatal error"))
    }
}
