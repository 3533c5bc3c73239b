import Dispatch
import Foundation
import Logging
import StrataCore
import Synchronization

/// Settings of one segmented log.
public struct LogOptions: Sendable {
    /// The active segment is closed once it reaches this size.
    public var segmentBytes: Int
    /// Whether appends are fsynced before they are acknowledged (only tests of other things
    /// turn this off).
    public var sync: Bool

    public init(segmentBytes: Int = 64 << 20, sync: Bool = true) {
        self.segmentBytes = segmentBytes
        self.sync = sync
    }
}

/// One segment file: records `[baseOffset, endOffset)`.
public struct SegmentInfo: Sendable, Equatable {
    public var baseOffset: Int64
    public var endOffset: Int64
    public var path: String
    public var isClosed: Bool
    /// When the first record of this segment was written (epoch ms), nil while empty.
    public var firstWriteMillis: Int64?
    public var lastWriteMillis: Int64?
}

/// Where an enqueued batch went: its offsets, and the log's write epoch when it was queued.
public struct LogTicket: Sendable {
    public let range: Range<Int64>
    let epoch: UInt64
}

/// The embedded streaming platform: an append-only, segmented, checksummed log on disk.
///
/// Appends are acknowledged only once fsynced. One flusher thread writes whatever has queued
/// since its last flush with a single `write` + `fdatasync` (group commit), so concurrent
/// requests share a flush and durability costs one sync per batch of batches. Offsets are
/// dense record numbers; a segment file is named by its first offset. On open, the active
/// segment's tail is verified and a torn or corrupt tail (a crash mid-write) is truncated.
/// Readers see only durable records.
public final class SegmentedLog: Sendable {
    public let directory: String
    public let options: LogOptions
    let logger: Logger
    let clock: any WallClock
    let state: Mutex<State>
    let flusher: FlusherContext
    private let wakeup = DispatchSemaphore(value: 0)
    private let index = Mutex<[Int64: [(offset: Int64, position: Int)]]>([:])

    struct Waiter {
        var end: Int64
        var continuation: CheckedContinuation<Void, any Error>
    }

    struct State {
        /// Counts failed writes: a ticket of an earlier epoch lost its records.
        var epoch: UInt64 = 0
        var lastFailure: StrataError?
        var pending: [UInt8] = []
        var nextOffset: Int64
        var durableEnd: Int64
        var waiters: [Waiter] = []
        var tailWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextTailWaiterID = 0
        var rollRequests: [CheckedContinuation<Void, any Error>] = []
        var closeRequests: [CheckedContinuation<Void, Never>] = []
        var closing = false
        var closed = false
        var segments: [SegmentInfo]
    }

    /// Opens (creating if needed) the log in `directory`, recovering the active segment.
    public init(directory: String, options: LogOptions = LogOptions(), clock: any WallClock = SystemClock(), logger: Logger) throws(StrataError) {
        self.directory = directory
        self.options = options
        self.clock = clock
        self.logger = logger
        let recovered = try LogRecovery.recover(directory: directory, logger: logger)
        self.flusher = FlusherContext(fd: recovered.activeFD, size: recovered.activeSize)
        self.state = Mutex(State(nextOffset: recovered.endOffset, durableEnd: recovered.endOffset, segments: recovered.segments))
        let thread = Thread { [self] in self.flushLoop() }
        thread.name = "strata-log-flusher"
        thread.start()
    }

    // MARK: - Appending

    /// Queues a framed batch and returns the offsets it received. The records are not durable
    /// until `waitDurable(through:)` returns; callers that must act atomically with offset
    /// assignment (de-duplication) call this under their own lock.
    public func enqueue(_ batch: FramedBatch) throws(StrataError) -> LogTicket {
        let ticket = try state.withLock { (s) throws(StrataError) -> LogTicket in
            guard !s.closing else { throw StrataError(.unavailable, code: "shutting_down", "the event log is closing; retry against a running server") }
            let start = s.nextOffset
            s.nextOffset += Int64(batch.count)
            s.pending.append(contentsOf: batch.bytes)
            return LogTicket(range: start..<s.nextOffset, epoch: s.epoch)
        }
        if !batch.isEmpty { wakeup.signal() }
        return ticket
    }

    /// Returns once every record of `ticket` (and every record below `end`, when later) is
    /// durable; throws if the write failed. A failed write drops everything queued with it and
    /// offsets are handed out again, so a ticket from before a failure can never be
    /// acknowledged by the records written after it: it fails with that failure.
    public func waitDurable(_ ticket: LogTicket, through end: Int64? = nil) async throws {
        let end = max(end ?? 0, ticket.range.upperBound)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let outcome = state.withLock { s -> Result<Bool, StrataError> in
                if s.durableEnd >= end { return .success(true) }
                if s.epoch != ticket.epoch { return .failure(s.lastFailure ?? StrataError.internal("the event log dropped a write")) }
                s.waiters.append(Waiter(end: end, continuation: continuation))
                return .success(false)
            }
            switch outcome {
            case .success(true): continuation.resume()
            case .success(false): break
            case .failure(let error): continuation.resume(throwing: error)
            }
        }
    }

    /// Appends a batch and returns its offsets once it is durable.
    @discardableResult
    public func append(_ batch: FramedBatch) async throws -> Range<Int64> {
        let ticket = try enqueue(batch)
        try await waitDurable(ticket)
        return ticket.range
    }

    /// Closes the active segment (when it holds records) so it can be compacted.
    public func roll() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let closing = state.withLock { s -> Bool in
                if s.closing { return true }
                s.rollRequests.append(continuation)
                return false
            }
            if closing {
                continuation.resume(throwing: StrataError(.unavailable, code: "shutting_down", "the event log is closing"))
            } else {
                wakeup.signal()
            }
        }
    }

    /// Flushes what is queued, stops the flusher and closes the active segment.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let alreadyClosed = state.withLock { s -> Bool in
                if s.closed { return true }
                s.closing = true
                s.closeRequests.append(continuation)
                return false
            }
            if alreadyClosed { continuation.resume() } else { wakeup.signal() }
        }
    }

    // MARK: - Positions

    /// One past the last durable record.
    public var endOffset: Int64 { state.withLock { $0.durableEnd } }

    /// The first offset still on disk (earlier segments were deleted by retention).
    public var startOffset: Int64 { state.withLock { $0.segments.first?.baseOffset ?? 0 } }

    /// Every segment, oldest first; the last one is active.
    public var segments: [SegmentInfo] {
        state.withLock { s in
            s.segments.map { segment in
                var segment = segment
                if !segment.isClosed { segment.endOffset = s.durableEnd }
                return segment
            }
        }
    }

    /// Waits until records at or after `offset` are durable (or the log closes, or the task is
    /// cancelled). Consumers tail the log with this.
    public func waitForRecords(from offset: Int64) async {
        let id = state.withLock { s -> Int in
            s.nextTailWaiterID += 1
            return s.nextTailWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { s -> Bool in
                    if s.durableEnd > offset || s.closed || Task.isCancelled { return true }
                    s.tailWaiters[id] = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.tailWaiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// Deletes closed segments that end at or before `offset`; returns how many were removed.
    @discardableResult
    public func deleteSegments(endingAtOrBefore offset: Int64, lastWriteBefore millis: Int64 = .max) -> Int {
        let removed = state.withLock { s -> [SegmentInfo] in
            var removed: [SegmentInfo] = []
            while let first = s.segments.first, first.isClosed, first.endOffset <= offset, (first.lastWriteMillis ?? 0) < millis, s.segments.count > 1 {
                removed.append(s.segments.removeFirst())
            }
            return removed
        }
        for segment in removed {
            unlink(segment.path)
            _ = index.withLock { $0.removeValue(forKey: segment.baseOffset) }
            logger.info("deleted log segment", metadata: ["segment": "\(segment.path)", "end_offset": "\(segment.endOffset)"])
        }
        if !removed.isEmpty { LogRecovery.syncDirectory(directory) }
        return removed.count
    }

    // MARK: - Index of read positions

    func indexHint(segment base: Int64, offset: Int64) -> (offset: Int64, position: Int) {
        index.withLock { index in
            guard let entries = index[base] else { return (base, 0) }
            var best = (offset: base, position: 0)
            for entry in entries where entry.offset <= offset && entry.offset >= best.offset { best = entry }
            return best
        }
    }

    func recordHint(segment base: Int64, offset: Int64, position: Int) {
        index.withLock { index in
            var entries = index[base] ?? []
            if entries.count >= 1024 { entries.removeFirst(entries.count / 2) }
            entries.append((offset, position))
            index[base] = entries
        }
    }

    // MARK: - Flusher

    private func flushLoop() {
        while true {
            wakeup.wait()
            if flushOnce() { return }
        }
    }
}
