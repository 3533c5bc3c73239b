import Foundation
import StrataCore
import StrataTesting

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A `strata serve` child process on a free port, for tests that need a real process (crash,
/// signals).
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    private(set) var port = 0
    private let errors = Pipe()

    /// The `strata` binary next to the test bundle (the test target depends on it).
    static var binary: String {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [bundle.appendingPathComponent("strata"), bundle.deletingLastPathComponent().appendingPathComponent("strata")] {
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
        }
        return bundle.appendingPathComponent("strata").path
    }

    /// What the process logged before it reported "serving".
    private(set) var startupLog = ""

    /// `authenticate`: whether requests need keys (most tests are about durability; keys are
    /// tested in AuthTests).
    init(
        dataDirectory: String, arguments: [String] = [], authenticate: Bool = false, environment: [String: String] = [:], waitForServing: Bool = true
    ) throws {
        process.executableURL = URL(fileURLWithPath: Self.binary)
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        process.arguments = ["serve", "--data-dir", dataDirectory, "--port", "0", "--log-format", "json"] + (authenticate ? [] : ["--no-auth"]) + arguments
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        if waitForServing { try awaitServing() }
    }

    /// Reads the log until the "serving" line (which names the bound port); a standby worker
    /// reaches it only once elected.
    func awaitServing(timeout: TimeInterval = 30) throws {
        var seen = startupLog
        let deadline = Date().addingTimeInterval(timeout)
        var found: Int?
        while found == nil && Date() < deadline && process.isRunning {
            let data = PipeReading.available(errors.fileHandleForReading)
            seen += String(decoding: data, as: UTF8.self)
            for line in seen.split(separator: "\n") where line.contains("\"msg\":\"serving\"") {
                if let json = try? JSONValue.parse(String(line)), let url = json["url"]?.stringValue,
                    let port = url.split(separator: ":").last.flatMap({ Int($0) })
                {
                    found = port
                }
            }
        }
        startupLog = seen
        guard let found else {
            process.terminate()
            throw StrataError.internal("strata serve did not start: \(seen)")
        }
        port = found
    }

    /// Sends a signal and waits for the process to exit; returns its status.
    @discardableResult
    func stop(signal: Int32) -> Int32 {
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// What the process wrote to standard error since start (after it exited).
    func remainingLog() -> String {
        String(decoding: PipeReading.readToEnd(errors.fileHandleForReading), as: UTF8.self)
    }

    /// POSTs a JSON body to `path` and parses the answer.
    func postJSON(_ path: String, _ body: JSONValue) async throws -> JSONValue {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body.serializedBytes)
        request.timeoutInterval = 30
        let (data, _) = try await URLSession.shared.data(for: request)
        return try JSONValue.parse(String(decoding: data, as: UTF8.self))
    }

    /// POSTs NDJSON; returns the status code, or nil when the connection failed.
    func post(ndjson: String) async -> Int? {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/events")!)
        request.httpMethod = "POST"
        request.setValue("application/x-ndjson", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(ndjson.utf8)
        request.timeoutInterval = 10
        do {
            let (_, response) = try await URLSession.shared.data(for: request)
            return (response as? HTTPURLResponse)?.statusCode
        } catch {
            return nil
        }
    }
}
