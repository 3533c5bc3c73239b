import Foundation
import StrataCore

/// One record read back from the log.
public struct LogRecord: Sendable {
    public var offset: Int64
    public var payload: [UInt8]
}

extension SegmentedLog {
    /// Calls `body` for each durable record in `[from, to)` (to the durable end when `to` is
    /// nil), in offset order, until it returns false. Returns the offset after the last record
    /// visited. Reading below `startOffset` (deleted by retention) is an error.
    @discardableResult
    public func scan(from: Int64, to: Int64? = nil, _ body: (Int64, UnsafeRawBufferPointer) throws -> Bool) throws -> Int64 {
        let (segments, durableEnd) = state.withLock { ($0.segments, $0.durableEnd) }
        let end = min(to ?? durableEnd, durableEnd)
        guard let first = segments.first else { return from }
        guard from >= first.baseOffset else {
            throw StrataError(.notFound, code: "offset_out_of_range", "offset \(from) was deleted by log retention; the log now starts at \(first.baseOffset)")
        }
        var current = from
        for (index, segment) in segments.enumerated() where current < end {
            let segmentEnd = index + 1 < segments.count ? segments[index + 1].baseOffset : durableEnd
            guard segmentEnd > current else { continue }
            let fd = open(segment.path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                throw StrataError(.unavailable, code: "log_read_failed", "cannot open \(segment.path): \(String(cString: strerror(errno)))")
            }
            defer { Foundation.close(fd) }
            var info = stat()
            fstat(fd, &info)
            let hint = indexHint(segment: segment.baseOffset, offset: current)
            var reader = SegmentFileReader(fd: fd, fileSize: Int(info.st_size), position: hint.position)
            var offset = hint.offset
            while offset < current {
                guard reader.skip() else { throw StrataError.internal("log segment \(segment.path) is shorter than its offsets") }
                offset += 1
            }
            var keepGoing = true
            while offset < min(segmentEnd, end) && keepGoing {
                let status = try reader.next { payload in keepGoing = try body(offset, payload) }
                guard status == .record else {
                    throw StrataError.internal("log segment \(segment.path) has a damaged record at offset \(offset)")
                }
                offset += 1
            }
            recordHint(segment: segment.baseOffset, offset: offset, position: reader.position)
            current = offset
            if !keepGoing { break }
        }
        return current
    }

    /// Up to `limit` durable records from `from`.
    public func read(from: Int64, limit: Int) throws -> [LogRecord] {
        var records: [LogRecord] = []
        try scan(from: from) { offset, payload in
            records.append(LogRecord(offset: offset, payload: Array(payload)))
            return records.count < limit
        }
        return records
    }
}
