import Foundation
import StrataCore
import StrataTesting

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A project folder for tests that run a real `strata serve` with keys on: the example
/// strata.yaml with the rate limit off (these tests send bursts on purpose), a data folder, and
/// keys made the way an operator makes them (`strata keys create`).
struct KeyedProject {
    let directory = TemporaryDirectory()
    var configPath: String { directory.file("strata.yaml") }
    var data: String { directory.file("data") }

    init() throws {
        try ExampleConfig.yaml.replacingOccurrences(of: "rate_limit: { per_key: 1000, burst: 2000 }", with: "rate_limit: off").write(
            toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// A new key with `roles` (comma-separated).
    func key(_ name: String, roles: String) throws -> String {
        try runProcess(ServerProcess.binary, ["keys", "create", "--name", name, "--roles", roles, "--data-dir", data, "--config", configPath]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func startServer() throws -> ServerProcess {
        try ServerProcess(dataDirectory: data, arguments: ["--config", configPath], authenticate: true)
    }

    func remove() { directory.remove() }
}

/// Calls a server's API with a key (`key` by default) and answers the status and the parsed body
/// (null when the body is not JSON).
struct KeyedClient: Sendable {
    let port: Int
    let key: String

    func call(_ method: String, _ path: String, key: String? = nil, body: String? = nil, type: String = "application/json") async throws -> (
        status: Int, json: JSONValue
    ) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.setValue("Bearer \(key ?? self.key)", forHTTPHeaderField: "Authorization")
        if let body {
            request.setValue(type, forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(body.utf8)
        }
        request.timeoutInterval = 120
        let (answer, response) = try await URLSession.uncached.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, (try? JSONValue.parse(String(decoding: answer, as: UTF8.self))) ?? .null)
    }
}
