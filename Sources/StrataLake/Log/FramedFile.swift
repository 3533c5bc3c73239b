import Foundation
import StrataCore

/// Files of checksummed frames (the log's format), for checkpoints and snapshots that other
/// modules write with `AtomicFile` and read back here.
public enum FramedFile {
    /// Calls `body` with each frame's payload; fails on a damaged frame. Returns false when the
    /// file does not exist.
    @discardableResult
    public static func forEach(_ path: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        try withReader(path) { (reader: inout SegmentFileReader) throws -> Void in
            while true {
                switch try reader.next(body) {
                case .record: continue
                case .end: return
                case .invalid: throw StrataError.internal("\(path) is damaged at byte \(reader.position); delete it to rebuild")
                }
            }
        } != nil
    }

    /// Calls `body` with each intact frame's payload from the start until `body` returns false
    /// or a frame is incomplete or damaged — the torn tail an append cut short by a crash
    /// leaves, which a file only ever appended to can drop. Returns false when the file does not
    /// exist.
    @discardableResult
    public static func forEachIntact(_ path: String, _ body: (UnsafeRawBufferPointer) -> Bool) -> Bool {
        withReader(path) { (reader: inout SegmentFileReader) -> Void in
            var going = true
            while going, reader.next({ going = body($0) }) == .record {}
        } != nil
    }

    /// Runs `body` with a reader at the start of the file; nil when the file does not exist.
    private static func withReader<T>(_ path: String, _ body: (inout SegmentFileReader) throws -> T) rethrows -> T? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        fstat(fd, &info)
        var reader = SegmentFileReader(fd: fd, fileSize: Int(info.st_size), position: 0)
        return try body(&reader)
    }
}
