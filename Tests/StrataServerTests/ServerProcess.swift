import Foundation
import StrataCore
import StrataTesting
import Testing

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

    /// What the process logged before it reported "serving" (and up to the line
    /// `awaitLogLine` last found).
    private(set) var startupLog = ""
    /// The configuration file written for this server (see `generousShutdownGrace`), if any.
    private var writtenConfig: String?

    /// `authenticate`: whether requests need keys (most tests are about durability; keys are
    /// tested in AuthTests).
    /// `command`: `serve`, or `up` (the quickstart's).
    init(
        dataDirectory: String, arguments: [String] = [], authenticate: Bool = false, environment: [String: String] = [:], waitForServing: Bool = true,
        command: String = "serve"
    ) throws {
        process.executableURL = URL(fileURLWithPath: Self.binary)
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let configured = try Self.generousShutdownGrace(arguments, environment: process.environment ?? ProcessInfo.processInfo.environment)
        writtenConfig = configured.written
        process.arguments =
            [command, "--data-dir", dataDirectory, "--port", "0", "--log-format", "json"] + (authenticate ? [] : ["--no-auth"]) + configured.arguments
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        if waitForServing { try awaitServing() }
    }

    deinit {
        // A test that failed before stopping its server must not leave it running (it would
        // slow the rest of the suite down).
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        if let writtenConfig { try? FileManager.default.removeItem(atPath: writtenConfig) }
    }

    /// The grace a test server gives a SIGTERM shutdown (`server.shutdown_grace`): past it the
    /// shutdown is cut short and the exit is an error, and a machine busy with other work may
    /// take far longer than the example's 10 s to finish in-flight work.
    static let shutdownGrace = "120s"

    /// `arguments` with the configuration's `shutdown_grace: 10s` (the example's) raised to
    /// `shutdownGrace`: the file of `--config` copied with the change, or the built-in example
    /// so changed where no configuration is named; a file without that line is used as it is.
    /// Also answers the file it wrote (removed when the server is gone).
    static func generousShutdownGrace(_ arguments: [String], environment: [String: String]) throws -> (arguments: [String], written: String?) {
        let example = "shutdown_grace: 10s"
        var arguments = arguments
        let text: String
        if let flag = arguments.firstIndex(of: "--config"), flag + 1 < arguments.count {
            let original = try String(contentsOfFile: arguments[flag + 1], encoding: .utf8)
            guard original.contains(example) else { return (arguments, nil) }
            text = original
            arguments.removeSubrange(flag...(flag + 1))
        } else if environment["STRATA_CONFIG"] != nil {
            return (arguments, nil)
        } else {
            text = ExampleConfig.yaml
        }
        let name = "strata-serve-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).yaml"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(name).path
        try text.replacingOccurrences(of: example, with: "shutdown_grace: \(shutdownGrace)").write(toFile: path, atomically: true, encoding: .utf8)
        return (arguments + ["--config", path], path)
    }

    /// Reads the log until the "serving" line (which names the bound port); a standby worker
    /// reaches it only once elected. The limit only bounds a hang (it ends early if the
    /// process exits): a busy machine may take minutes to open the lake and build deployments.
    func awaitServing(timeout: TimeInterval = 300) throws {
        var seen = startupLog
        let deadline = Date().addingTimeInterval(timeout)
        var found: Int?
        while found == nil && Date() < deadline && process.isRunning {
            // At most a second's wait for output, so that a process that hangs silently still
            // meets the deadline.
            var descriptor = pollfd(fd: errors.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 1000) > 0 else { continue }
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
            let why = process.isRunning ? "not serving after \(Int(timeout)) s" : "it exited"
            process.terminate()
            throw StrataError.internal("strata serve did not start (\(why)): \(seen)")
        }
        port = found
    }

    /// Reads the log until a line containing `marker` (the start-up log included) and answers it
    /// parsed. The limit only bounds a hang.
    func awaitLogLine(containing marker: String, timeout: TimeInterval = 300) throws -> JSONValue {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            for line in startupLog.split(separator: "\n") where line.contains(marker) {
                if let json = try? JSONValue.parse(String(line)) { return json }
            }
            guard Date() < deadline, process.isRunning else {
                throw StrataError.internal("no log line with \(marker) (\(process.isRunning ? "time ran out" : "the process exited")): \(startupLog)")
            }
            var descriptor = pollfd(fd: errors.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 1000) > 0 else { continue }
            startupLog += String(decoding: PipeReading.available(errors.fileHandleForReading), as: UTF8.self)
        }
    }

    /// Sends a signal and waits for the process to exit; returns its status (at once when it
    /// already exited). The wait only bounds a hang: past `timeout` the failure is recorded and
    /// the process killed.
    @discardableResult
    func stop(signal: Int32, timeout: Duration = .seconds(300)) -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, signal)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { usleep(20_000) }
        if process.isRunning {
            Issue.record("strata serve did not exit within \(timeout) of signal \(signal); killing it")
            kill(process.processIdentifier, SIGKILL)
        }
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
        // A slow answer on a busy machine is not a failure; the limit only bounds a hang.
        request.timeoutInterval = 120
        let (data, _) = try await URLSession.shared.data(for: request)
        return try JSONValue.parse(String(decoding: data, as: UTF8.self))
    }

    /// POSTs NDJSON; returns the status code, or nil when the connection failed (not when the
    /// answer is merely slow: the limit only bounds a hang).
    func post(ndjson: String) async -> Int? {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/events")!)
        request.httpMethod = "POST"
        request.setValue("application/x-ndjson", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(ndjson.utf8)
        request.timeoutInterval = 120
        do {
            let (_, response) = try await URLSession.shared.data(for: request)
            return (response as? HTTPURLResponse)?.statusCode
        } catch {
            return nil
        }
    }
}
