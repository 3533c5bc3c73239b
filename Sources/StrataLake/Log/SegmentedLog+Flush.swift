import Foundation
import StrataCore

/// The flusher thread's own state: the active segment's file. Only that thread touches it
/// once the log is open, which is why it needs no lock.
final class FlusherContext: @unchecked Sendable {
    var fd: Int32
    var size: Int

    init(fd: Int32, size: Int) {
        self.fd = fd
        self.size = size
    }
}

extension SegmentedLog {
    /// Writes and syncs what is queued, rolls the segment when asked or full, and wakes the
    /// waiters. Returns true once the log is closed.
    func flushOnce() -> Bool {
        let work = state.withLock { s -> (bytes: [UInt8], end: Int64, rolls: [CheckedContinuation<Void, any Error>], closing: Bool) in
            let bytes = s.pending
            s.pending = []
            let rolls = s.rollRequests
            s.rollRequests = []
            return (bytes, s.nextOffset, rolls, s.closing)
        }
        var failure: StrataError?
        if !work.bytes.isEmpty {
            do {
                try writeAll(work.bytes)
            } catch {
                failure = error
            }
        }
        let now = clock.nowMillis()
        var rolled: SegmentInfo?
        if failure == nil, !work.rolls.isEmpty || flusher.size >= options.segmentBytes, flusher.size > 0 {
            do {
                rolled = try openNextSegment(base: work.end)
            } catch {
                failure = error
            }
        }

        var toResume: [CheckedContinuation<Void, any Error>] = []
        var toFail: [CheckedContinuation<Void, any Error>] = []
        var tails: [CheckedContinuation<Void, Never>] = []
        var closers: [CheckedContinuation<Void, Never>] = []
        var finished = false
        state.withLock { s in
            if failure != nil {
                // Nothing of this flush nor of what queued behind it is acknowledged: every
                // waiter fails, offsets fall back to the durable end, and callers retry.
                toFail = s.waiters.map(\.continuation)
                s.waiters = []
                s.pending = []
                s.nextOffset = s.durableEnd
                // Tickets queued before now lost their records, also those not waiting yet.
                s.epoch += 1
                s.lastFailure = failure
            } else {
                if work.end > s.durableEnd, var active = s.segments.last {
                    active.firstWriteMillis = active.firstWriteMillis ?? now
                    active.lastWriteMillis = now
                    s.segments[s.segments.count - 1] = active
                }
                s.durableEnd = work.end
                s.waiters.removeAll { waiter in
                    if waiter.end <= work.end {
                        toResume.append(waiter.continuation)
                        return true
                    }
                    return false
                }
                if let rolled {
                    s.segments[s.segments.count - 1].isClosed = true
                    s.segments[s.segments.count - 1].endOffset = rolled.baseOffset
                    s.segments.append(rolled)
                }
            }
            tails = Array(s.tailWaiters.values)
            s.tailWaiters = [:]
            if work.closing && s.pending.isEmpty {
                s.closed = true
                closers = s.closeRequests
                s.closeRequests = []
                toFail += s.waiters.map(\.continuation)
                s.waiters = []
                finished = true
            }
        }
        for continuation in toResume { continuation.resume() }
        for continuation in toFail {
            continuation.resume(throwing: failure ?? StrataError(.unavailable, code: "shutting_down", "the event log closed before this write was durable"))
        }
        for continuation in work.rolls {
            if let failure { continuation.resume(throwing: failure) } else { continuation.resume() }
        }
        for continuation in tails { continuation.resume() }
        if finished {
            Foundation.close(flusher.fd)
            flusher.fd = -1
            for continuation in closers { continuation.resume() }
        }
        return finished
    }

    /// Writes `bytes` at the end of the active segment and syncs it. On failure the file is cut
    /// back to its last durable size, so no partial record stays behind.
    private func writeAll(_ bytes: [UInt8]) throws(StrataError) {
        let start = flusher.size
        var written = 0
        var errorNumber: Int32 = 0
        bytes.withUnsafeBytes { buffer in
            while written < buffer.count {
                let result = pwrite(flusher.fd, buffer.baseAddress! + written, buffer.count - written, off_t(start + written))
                if result < 0 {
                    if errno == EINTR { continue }
                    errorNumber = errno
                    return
                }
                written += result
            }
        }
        if errorNumber == 0 && options.sync && fdatasync(flusher.fd) != 0 { errorNumber = errno }
        if errorNumber != 0 {
            _ = ftruncate(flusher.fd, off_t(start))
            logger.error("event log write failed", metadata: ["errno": "\(errorNumber)", "error": "\(String(cString: strerror(errorNumber)))"])
            throw Self.writeError(errorNumber, directory: directory)
        }
        flusher.size = start + bytes.count
    }

    static func writeError(_ errorNumber: Int32, directory: String) -> StrataError {
        if errorNumber == ENOSPC || errorNumber == EDQUOT {
            return StrataError(
                .insufficientStorage, code: "disk_full",
                "the disk holding \(directory) is full; nothing from this request was stored. Free space, then retry.")
        }
        return StrataError(
            .unavailable, code: "log_write_failed",
            "writing the event log failed (\(String(cString: strerror(errorNumber)))); nothing from this request was stored. Retry.")
    }

    /// Closes the active segment file and starts a new one at `base`.
    private func openNextSegment(base: Int64) throws(StrataError) -> SegmentInfo {
        let path = LogRecovery.segmentPath(directory: directory, base: base)
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Self.writeError(errno, directory: directory) }
        LogRecovery.syncDirectory(directory)
        Foundation.close(flusher.fd)
        flusher.fd = fd
        flusher.size = 0
        logger.debug("rolled log segment", metadata: ["base_offset": "\(base)"])
        return SegmentInfo(baseOffset: base, endOffset: base, path: path, isClosed: false)
    }
}
