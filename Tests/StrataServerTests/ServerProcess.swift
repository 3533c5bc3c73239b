import Foundation
import StrataCore
import StrataTesting
import Synchronization
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
    /// Everything the process wrote to standard error so far, and whether it has closed it. A
    /// thread of its own drains the pipe from the start: a pipe nobody reads fills up (64 KiB),
    /// and the server's next log line then blocks it, and every request behind it, until
    /// each of the test's requests times out.
    private let written = WrittenLog()
    /// How many of those bytes `startupLog` holds.
    private var startupBytes = 0

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
        let (handle, written) = (errors.fileHandleForReading, self.written)
        Thread {
            while true {
                let chunk = PipeReading.available(handle)
                written.state.withLock { log in
                    if chunk.isEmpty { log.ended = true } else { log.bytes += chunk }
                }
                if chunk.isEmpty { return }
            }
        }.start()
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

    /// Waits for the "serving" line (which names the bound port); a standby worker reaches it
    /// only once elected. The limit only bounds a hang (it ends early if the process exits): a
    /// busy machine may take minutes to open the lake and build deployments.
    func awaitServing(timeout: TimeInterval = 300) throws {
        let line = try awaitLogLine(containing: "\"msg\":\"serving\"", timeout: timeout, what: "strata serve did not start")
        guard let url = line["url"]?.stringValue, let port = url.split(separator: ":").last.flatMap({ Int($0) }) else {
            throw StrataError.internal("the serving line names no port: \(line)")
        }
        self.port = port
    }

    /// Waits for a log line containing `marker` (from the start of the log) and answers it
    /// parsed; `startupLog` is then the log up to that moment. The limit only bounds a hang.
    @discardableResult
    func awaitLogLine(containing marker: String, timeout: TimeInterval = 300, what: String? = nil) throws -> JSONValue {
        let deadline = Date().addingTimeInterval(timeout)
        var exitedAt: Date?
        while true {
            let (bytes, ended) = written.state.withLock { ($0.bytes, $0.ended) }
            let text = String(decoding: bytes, as: UTF8.self)
            (startupLog, startupBytes) = (text, bytes.count)
            for line in text.split(separator: "\n") where line.contains(marker) {
                if let json = try? JSONValue.parse(String(line)) { return json }
            }
            // The log ends once the process has exited and the reader has drained the pipe
            // (given a moment, in case a child of the process still holds it open).
            if !process.isRunning, exitedAt == nil { exitedAt = Date() }
            let exited = ended || (exitedAt.map { Date().timeIntervalSince($0) > 2 } ?? false)
            guard Date() < deadline, !exited else {
                let why = exited ? "the process exited" : "time ran out after \(Int(timeout)) s"
                if process.isRunning { process.terminate() }
                throw StrataError.internal("\(what ?? "no log line with \(marker)") (\(why)): \(text)")
            }
            usleep(20_000)
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

    /// What the process wrote to standard error after `startupLog` (waits for it to exit and
    /// its log to end; the limit only bounds a hang).
    func remainingLog(timeout: Duration = .seconds(300)) -> String {
        let deadline = ContinuousClock.now + timeout
        while !written.state.withLock({ $0.ended }) && ContinuousClock.now < deadline { usleep(20_000) }
        return String(decoding: written.state.withLock { $0.bytes }.dropFirst(startupBytes), as: UTF8.self)
    }

    /// POSTs a JSON body to `path` and parses the answer.
    func postJSON(_ path: String, _ body: JSONValue) async throws -> JSONValue {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body.serializedBytes)
        // A slow answer on a busy machine is not a failure; the limit only bounds a hang.
        request.timeoutInterval = 120
        let (data, _) = try await URLSession.uncached.data(for: request)
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
            let (_, response) = try await URLSession.uncached.data(for: request)
            return (response as? HTTPURLResponse)?.statusCode
        } catch {
            return nil
        }
    }
}

/// A child's standard error as read so far, shared with the thread that reads it.
private final class WrittenLog: Sendable {
    let state = Mutex<(bytes: [UInt8], ended: Bool)>(([], false))
}
