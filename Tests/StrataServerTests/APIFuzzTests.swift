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
            peerMissing("SKIPPED (schemathesis): pip install schemathesis (scripts/install-deps.sh --with-test-peers) to fuzz the API")
            return
        }
        let project = try KeyedProject()
        defer { project.remove() }
        let configPath = project.configPath
        let admin = try project.key("fuzzer", roles: "admin")
        let approver = try project.key("approver", roles: "approver")
        let server = try project.startServer()
        defer { server.stop(signal: SIGTERM) }
        let base = "http://127.0.0.1:\(server.port)"
        func call(_ method: String, _ path: String, key: String, body: String, type: String = "application/json") async throws -> JSONValue {
            try await KeyedClient(port: server.port, key: key).call(method, path, body: body, type: type).json
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
                "--checks", "not_a_server_error,status_code_conformance", "--max-examples", "12", "--seed", "7", "--request-timeout", "120",
                "--phases", "examples,coverage,fuzzing",
            ], timeout: .seconds(1500))
        let summary = result.output.split(separator: "\n").suffix(25).joined(separator: "\n")
        print("schemathesis:\n\(summary)")
        #expect(result.status == 0, "schemathesis found failures:\n\(result.output.suffix(6000))")
        // Still up, nothing crashed.
        let (_, response) = try await URLSession.uncached.data(from: URL(string: "\(base)/healthz")!)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        server.stop(signal: SIGTERM)
        #expect(!server.remainingLog().contains("Fatal error"))
    }
}
