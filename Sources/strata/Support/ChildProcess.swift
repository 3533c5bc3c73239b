import ArgumentParser
import Foundation
import StrataCore

/// This binary run as a child (`strata bench scale` runs each stage so), with its wall time
/// and peak resident memory (`wait4`'s `ru_maxrss`: the child's own peak, not the parent's).
struct ChildProcess {
    let pid: pid_t
    let started: UInt64

    struct Exit {
        var status: Int32
        var seconds: Double
        /// Peak resident memory, bytes.
        var peakRSS: Int
    }

    /// The running executable (`/proc/self/exe` on Linux, else the command line's).
    static var executable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// Starts `strata ARGUMENTS` with standard output and error going to files.
    static func start(_ arguments: [String], output: String, errors: String, environment: [String: String] = [:]) throws -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let started = MonotonicClock.nanoseconds()
        let result = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard result == 0 else { throw ValidationError("could not start \(executable): error \(result)") }
        return ChildProcess(pid: pid, started: started)
    }

    /// Waits for the child to exit.
    func wait() -> Exit {
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let exitStatus = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return Exit(status: exitStatus, seconds: Double(MonotonicClock.nanoseconds() - started) / 1e9, peakRSS: Int(usage.ru_maxrss) * 1024)
    }

    /// Runs `strata ARGUMENTS` to the end; a failure throws with the end of its error output.
    static func run(_ arguments: [String], in directory: String, name: String) throws -> (exit: Exit, output: String) {
        let output = "\(directory)/\(name).out"
        let errors = "\(directory)/\(name).log"
        let exit = try start(arguments, output: output, errors: errors).wait()
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        guard exit.status == 0 else {
            let log = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
            throw ValidationError("strata \(arguments.prefix(2).joined(separator: " ")) failed (status \(exit.status)): \(log.suffix(2000))")
        }
        return (exit, text)
    }
}
