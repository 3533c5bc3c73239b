import Foundation
import StrataCore

/// Files of checksummed frames (the log's format), for checkpoints and snapshots that other
/// modules write with `AtomicFile` and read back here.
public enum FramedFile {
    /// Calls `body` with each frame's payload; fails on a damaged frame. Returns false when the
    /// file does not exist.
    @discardableResult
    public static func forEach(_ path: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var info = stat()
        fstat(fd, &info)
        var reader = SegmentFileReader(fd: fd, fileSize: Int(info.st_size), position: 0)
        while true {
            switch try reader.next(body) {
            case .record: continue
            case .end: return true
            case .invalid: throw StrataError.internal("\(path) is damaged at byte \(reader.position); delete it to rebuild")
            }
        }
    }
}
