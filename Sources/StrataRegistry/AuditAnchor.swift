import Foundation
import StrataCore

/// The audit chain's head, written outside the database after every write: an append-only
/// file of `{"seq": N, "hash": "..."}` lines in the data folder, each flushed to disk. The
/// hash chain alone shows an entry edited, removed or reordered *within* the log, but not the
/// newest entries removed (the shorter chain still verifies), nor the whole chain recomputed by
/// someone who can write the database; `strata audit verify` compares the database with the
/// highest head recorded here and names either.
///
/// What it does not protect against: someone who can also rewrite this file (keep a copy of it
/// elsewhere, e.g. a bucket with object lock, for that), and entries written by a process with
/// another data folder (each process anchors what it wrote).
public struct AuditAnchor: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// Appends the head `(seq, hash)` and flushes it to disk.
    func record(seq: Int64, hash: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StrataError.internal("cannot open the audit anchor \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let line = Array((JSONValue.object(["seq": .int(seq), "hash": .string(hash)]).serialized + "\n").utf8)
        // One write of a short line with O_APPEND: lines from several processes never interleave.
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == line.count, fsync(fd) == 0 else {
            throw StrataError.internal("cannot write the audit anchor \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// The highest head recorded (nil: none yet). A torn last line (a crash mid-write) is
    /// skipped; an unreadable file is an error, since it should only ever grow.
    func highest() throws -> (seq: Int64, hash: String)? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else { throw StrataError.internal("cannot read the audit anchor \(path)") }
        let bytes = [UInt8](data)
        var best: (seq: Int64, hash: String)?
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            guard let json = try? JSONValue.parse(bytes: Array(line)), let seq = json["seq"]?.intValue, let hash = json["hash"]?.stringValue else { continue }
            if seq > best?.seq ?? 0 { best = (seq, hash) }
        }
        return best
    }
}
