import Foundation
import StrataCore
import Synchronization

/// Where each embedded store keeps its files. Every path derives from the data directory and
/// the project id, so several projects can later share one data directory.
public struct DataDirectory: Sendable {
    public let root: String
    public let project: String

    public init(root: String, project: String) {
        self.root = (root as NSString).standardizingPath
        self.project = project
    }

    public var projectRoot: String { "\(root)/\(project)" }
    public var log: String { "\(projectRoot)/log" }
    public var deadLetters: String { "\(projectRoot)/dead-letters" }
    public var lake: String { "\(projectRoot)/lake" }
    /// Parquet files, partitioned `type=<event type>/date=<YYYY-MM-DD>/<sha256>.parquet`.
    public var lakeEvents: String { "\(lake)/events" }
    public var snapshots: String { "\(lake)/snapshots" }
    /// Strata's own bookkeeping inside the lake (compaction state, snapshot index).
    public var lakeState: String { "\(lake)/_strata" }
    public var catalog: String { "\(projectRoot)/catalog" }
    public var lockFile: String { "\(projectRoot)/LOCK" }
    /// The serving batch job's checkpoints: the lists it computed, per model version.
    public var precompute: String { "\(projectRoot)/serving/precompute" }
}

/// Writing files so that readers see the old content or the new, never a mix: write a temporary
/// file, fsync it, rename it into place, fsync the directory.
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to path: String) throws(StrataError) {
        // A bare file name lives in the working directory.
        let directory = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StrataError(.unavailable, code: "data_dir_unwritable", "cannot create \(directory): \(error.localizedDescription)")
        }
        let temporary = "\(directory)/.tmp-\(UInt64.random(in: 0...UInt64.max))-\((path as NSString).lastPathComponent)"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure(errno, path) }
        var written = 0
        var errorNumber: Int32 = 0
        bytes.withUnsafeBytes { raw in
            while written < raw.count {
                let result = Foundation.write(fd, raw.baseAddress! + written, raw.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    errorNumber = errno
                    return
                }
                written += result
            }
        }
        if errorNumber == 0 && fsync(fd) != 0 { errorNumber = errno }
        close(fd)
        if errorNumber == 0 && rename(temporary, path) != 0 { errorNumber = errno }
        if errorNumber != 0 {
            unlink(temporary)
            throw failure(errorNumber, path)
        }
        LogRecovery.syncDirectory(directory)
    }

    public static func write(_ text: String, to path: String) throws(StrataError) {
        try write(Array(text.utf8), to: path)
    }

    public static func read(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { [UInt8]($0) }
    }

    static func failure(_ errorNumber: Int32, _ path: String) -> StrataError {
        if errorNumber == ENOSPC || errorNumber == EDQUOT {
            return StrataError(.insufficientStorage, code: "disk_full", "the disk is full while writing \(path); free space, then retry")
        }
        return StrataError(.unavailable, code: "write_failed", "cannot write \(path): \(String(cString: strerror(errorNumber)))")
    }
}

/// An exclusive lock on a project's data: one process writes it at a time.
public final class DirectoryLock: Sendable {
    private let fd: Mutex<Int32>

    /// Takes the lock or fails naming what holds it.
    public init(path: String) throws(StrataError) {
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StrataError(.unavailable, code: "data_dir_unwritable", "cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd)
            throw StrataError(
                .conflict, code: "data_dir_locked",
                "another Strata process (\(holder.isEmpty ? "unknown" : holder)) holds \((path as NSString).deletingLastPathComponent); stop it, or talk to it over HTTP"
            )
        }
        ftruncate(fd, 0)
        let note = "pid \(getpid())\n"
        _ = note.withCString { Foundation.write(fd, $0, strlen($0)) }
        self.fd = Mutex(fd)
    }

    /// Releases the lock (also done when the lock is deallocated).
    public func release() {
        fd.withLock { fd in
            guard fd >= 0 else { return }
            flock(fd, LOCK_UN)
            close(fd)
            fd = -1
        }
    }

    deinit { release() }
}
