import Dispatch
import Foundation
import Logging
import StrataCore
import StrataLake
import Synchronization
import Testing

/// A folder under the system's temporary directory, removed by `remove()`.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(_ name: String = "strata-test") {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(getpid())-\(UInt64.random(in: 0...UInt64.max))").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    public func file(_ name: String) -> String { "\(path)/\(name)" }
}

/// A wall clock the test sets.
public final class ManualClock: WallClock {
    private let now: Mutex<Int64>

    public init(_ millis: Int64) {
        now = Mutex(millis)
    }

    public func nowMillis() -> Int64 { now.withLock { $0 } }
    public func set(_ millis: Int64) { now.withLock { $0 = millis } }
    public func advance(_ millis: Int64) { now.withLock { $0 += millis } }
}

/// A wait in a test that failed: what was awaited, and why (its time ran out, or what would have
/// ended it is gone). Such time limits only bound a hang (minutes), so that a machine busy with
/// other work is never mistaken for a failure.
public struct WaitFailed: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Waits until `condition` holds, checking every `interval`; throws `WaitFailed` naming
/// `description` (what was awaited) once `timeout` has passed without it. Keep `timeout`
/// generous: it is there to end a hang loudly, not to measure speed.
public func waitUntil(
    _ description: String, timeout: Duration = .seconds(120), interval: Duration = .milliseconds(50),
    _ condition: @Sendable () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return }
        guard ContinuousClock.now < deadline else { throw WaitFailed("gave up after \(timeout) waiting for \(description)") }
        try await Task.sleep(for: interval)
    }
}

/// A test's peer (a server or tool it runs against) is missing. Locally the test skips with
/// `message`, which says how to install it; in CI (`CI=true`, as `.ci/run` sets) the test
/// fails instead, so a run that silently tested less never passes there.
public func peerMissing(_ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
    print(message)
    if ProcessInfo.processInfo.environment["CI"] == "true" {
        Issue.record("\(message) — in CI (CI=true) every peer must be present", sourceLocation: sourceLocation)
    }
}

/// A logger that prints nothing.
public let quietLogger = Logger(label: "strata-test") { _ in SwiftLogNoOpLogHandler() }

/// Fixtures built on the documented example contract.
public enum Fixtures {
    public static var config: StrataConfig { StrataConfig.example() }

    /// `count` generated events ending now, with ids unique to `seed`.
    public static func events(_ count: Int, seed: UInt64 = 7, endMillis: Int64 = SystemClock().nowMillis()) -> [IncomingEvent] {
        var generatorConfig = GeneratorConfig(endMillis: endMillis)
        generatorConfig.seed = seed
        generatorConfig.days = 3
        generatorConfig.users = 300
        generatorConfig.items = 500
        var generator = SyntheticGenerator(contract: config.contract, config: generatorConfig)
        return generator.history(limit: count)
    }

    /// The event ids in a project's log (opened after its server stopped), with how often each
    /// occurs: the check that acknowledged events were neither lost nor stored twice.
    public static func storedEventIDs(config: StrataConfig = Fixtures.config, dataDirectory: String) async throws -> [String: Int] {
        let lake = try Lake(config: config, dataDirectory: dataDirectory, logger: quietLogger)
        var counts: [String: Int] = [:]
        _ = try lake.log.scan(from: lake.log.startOffset) { _, payload in
            if let id = try EventCodec.decode(payload).eventID { counts[id, default: 0] += 1 }
            return true
        }
        await lake.close()
        return counts
    }

    /// Opens a lake on a fresh directory.
    public static func lake(_ directory: TemporaryDirectory, config: StrataConfig = Fixtures.config, clock: any WallClock = SystemClock()) throws -> Lake {
        try Lake(config: config, dataDirectory: directory.path, clock: clock, logger: quietLogger)
    }
}

/// Runs a Python snippet with `python3`; returns nil (after printing why) when Python or one of
/// `modules` is missing, so that peer-backed tests skip visibly.
public func runPython(_ script: String, arguments: [String] = [], requiring modules: [String]) throws -> String? {
    let check = Process()
    check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    check.arguments = ["python3", "-c", modules.map { "import \($0)" }.joined(separator: "; ")]
    check.standardOutput = FileHandle.nullDevice
    check.standardError = FileHandle.nullDevice
    do {
        try check.run()
        check.waitUntilExit()
    } catch {
        peerMissing("SKIPPED: python3 is not available (scripts/install-deps.sh --with-test-peers installs the peers)")
        return nil
    }
    guard check.terminationStatus == 0 else {
        peerMissing("SKIPPED: python3 lacks \(modules.joined(separator: ", ")) (scripts/install-deps.sh --with-test-peers installs them)")
        return nil
    }
    let result = try runProcess("/usr/bin/env", ["python3", "-c", script] + arguments)
    guard result.status == 0 else { throw StrataError.internal("python failed: \(result.errors)") }
    return result.output
}

/// Reading child processes' pipes with POSIX `read`, retrying when a signal interrupts it
/// (Foundation's `FileHandle` traps on EINTR, which other children's SIGCHLD can cause).
public enum PipeReading {
    /// What is there now (blocking until something is, or end of file: empty).
    public static func available(_ handle: FileHandle) -> Data {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(handle.fileDescriptor, $0.baseAddress, $0.count) }
            if count >= 0 { return Data(buffer[0..<count]) }
            if errno != EINTR { return Data() }
        }
    }

    /// Everything until end of file.
    public static func readToEnd(_ handle: FileHandle) -> Data {
        var data = Data()
        while true {
            let chunk = available(handle)
            if chunk.isEmpty { return data }
            data.append(chunk)
        }
    }
}

/// Runs a program to completion; returns its exit status, standard output and standard error.
/// Past `timeout`, which only bounds a hang (a busy machine may be many times slower than
/// usual), the program is killed and the call throws, naming it and what it printed.
public func runProcess(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(900)) throws -> (
    status: Int32, output: String, errors: String
) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    // Read standard error on another thread so that neither pipe fills and blocks the child.
    let errorData = Mutex(Data())
    let done = DispatchSemaphore(value: 0)
    Thread {
        errorData.withLock { $0 = PipeReading.readToEnd(errors.fileHandleForReading) }
        done.signal()
    }.start()
    // Killed past the deadline unless it has exited (decided under one lock with the exit).
    let state = Mutex((exited: false, killed: false))
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout / .seconds(1)) {
        state.withLock { state in
            guard !state.exited else { return }
            state.killed = true
            kill(process.processIdentifier, SIGKILL)
        }
    }
    let data = PipeReading.readToEnd(output.fileHandleForReading)
    process.waitUntilExit()
    state.withLock { $0.exited = true }
    done.wait()
    let (out, err) = (String(decoding: data, as: UTF8.self), String(decoding: errorData.withLock { $0 }, as: UTF8.self))
    if state.withLock({ $0.killed }) {
        throw WaitFailed(
            "\(executable) \(arguments.joined(separator: " ")) ran past \(timeout) and was killed; it printed:\n\(out.suffix(2000))\n\(err.suffix(4000))")
    }
    return (process.terminationStatus, out, err)
}
