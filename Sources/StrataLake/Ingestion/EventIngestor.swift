import Foundation
import Logging
import StrataCore
import Synchronization

/// Layer 1's front door: validates events against the contract, stores the accepted ones in the
/// event log and the rejected ones in the dead-letter store, and acknowledges only what is
/// durable. Optional `event_id`s make retries idempotent within the de-duplication window.
public final class EventIngestor: Sendable {
    let validator: EventValidator
    let config: IngestConfig
    let clock: any WallClock
    public let log: SegmentedLog
    public let deadLetters: DeadLetterStore
    let logger: Logger
    private let dedupe: Mutex<DedupeIndex>
    private let counters = Mutex(IngestCounters())

    public init(
        contract: CompiledContract, config: IngestConfig, log: SegmentedLog, deadLetters: DeadLetterStore, clock: any WallClock, logger: Logger
    ) throws {
        self.validator = EventValidator(compiled: contract)
        self.config = config
        self.clock = clock
        self.log = log
        self.deadLetters = deadLetters
        self.logger = logger
        self.dedupe = Mutex(try Self.rebuildDedupe(log: log, windowMillis: config.dedupeWindowMillis, now: clock.nowMillis()))
    }

    public var contract: CompiledContract { validator.compiled }

    /// Parses, validates and durably stores a request body.
    public func ingest(body: [UInt8], format: BatchFormat, source: String, allowLate: Bool = false) async throws -> IngestResult {
        let prepared = try body.withUnsafeBytes { (raw) throws(StrataError) -> PreparedBatch in
            try prepare(body: raw, format: format, source: source, allowLate: allowLate)
        }
        return try await commit(prepared)
    }

    /// Writes a prepared batch: drops retried event ids, appends the rest and the dead letters,
    /// and returns once all of it is durable.
    public func commit(_ prepared: PreparedBatch) async throws -> IngestResult {
        var batch = prepared.batch
        var duplicates = 0
        var waitEnd: Int64 = 0
        var inserted: [(Fingerprint128, Int64)] = []
        let ticket: LogTicket = try dedupe.withLock { (index) throws(StrataError) -> LogTicket in
            guard !prepared.fingerprints.isEmpty else { return try log.enqueue(batch) }
            index.evict(now: prepared.ingestedAt)
            var dropped = Set<Int>()
            var firstInBatch: [Fingerprint128: Int] = [:]
            for (record, fingerprint) in prepared.fingerprints {
                if let offset = index.offset(of: fingerprint) {
                    dropped.insert(record)
                    waitEnd = max(waitEnd, offset + 1)
                } else if firstInBatch[fingerprint] != nil {
                    dropped.insert(record)
                } else {
                    firstInBatch[fingerprint] = record
                }
            }
            duplicates = dropped.count
            var kept: [Int] = []
            if !dropped.isEmpty {
                batch = Self.filter(prepared.batch, starts: prepared.frameStarts, dropping: dropped, kept: &kept)
            }
            let ticket = try log.enqueue(batch)
            for (record, fingerprint) in prepared.fingerprints where !dropped.contains(record) {
                let position = dropped.isEmpty ? record : kept.firstIndex(of: record)!
                let offset = ticket.range.lowerBound + Int64(position)
                index.insert(fingerprint, offset: offset, ingestedAt: prepared.ingestedAt)
                inserted.append((fingerprint, offset))
            }
            return ticket
        }
        let range = ticket.range
        var deadLetterTicket: LogTicket?
        if !prepared.rejections.isEmpty {
            let letters = DeadLetterStore.frame(prepared.rejections, source: prepared.source, receivedAt: prepared.ingestedAt)
            deadLetterTicket = try deadLetters.enqueue(letters)
        }
        do {
            try await log.waitDurable(ticket, through: waitEnd)
            if let deadLetterTicket { try await deadLetters.waitDurable(deadLetterTicket) }
        } catch {
            dedupe.withLock { index in
                for (fingerprint, offset) in inserted { index.remove(fingerprint, ifAt: offset) }
            }
            counters.withLock { $0.failedRequests += 1 }
            throw error
        }
        let typeNames = validator.compiled.types.map(\.name)
        counters.withLock { counters in
            for (index, count) in prepared.acceptedByType.enumerated() where count > 0 {
                counters.acceptedByType[typeNames[index], default: 0] += count
            }
            for (rejection, _) in prepared.rejections { counters.rejectedByCode[rejection.code, default: 0] += 1 }
            counters.duplicates += duplicates
        }
        return IngestResult(
            accepted: prepared.batch.count, duplicates: duplicates, rejected: prepared.rejections.map(\.rejection),
            offsets: range.isEmpty ? nil : range, isSingleEvent: prepared.isSingleEvent)
    }

    /// Totals since start.
    public var counts: IngestCounters { counters.withLock { $0 } }

    /// Event ids currently remembered for de-duplication.
    public var dedupeSize: Int { dedupe.withLock { $0.count } }

    // MARK: - Helpers

    /// A copy of `batch` without the `dropped` records; `kept` receives the surviving records'
    /// original numbers in order.
    static func filter(_ batch: FramedBatch, starts: [Int], dropping dropped: Set<Int>, kept: inout [Int]) -> FramedBatch {
        var filtered = FramedBatch(reservingCapacity: batch.bytes.count)
        for record in 0..<batch.count where !dropped.contains(record) {
            let start = starts[record]
            let end = record + 1 < starts.count ? starts[record + 1] : batch.bytes.count
            filtered.bytes.append(contentsOf: batch.bytes[start..<end])
            filtered.count += 1
            kept.append(record)
        }
        return filtered
    }

    /// Re-reads the retained log to remember the event ids of the de-duplication window.
    static func rebuildDedupe(log: SegmentedLog, windowMillis: Int64, now: Int64) throws -> DedupeIndex {
        var index = DedupeIndex(windowMillis: windowMillis)
        let horizon = now - windowMillis
        // Segments written entirely before the window hold no id that still matters.
        let start = log.segments.first { ($0.lastWriteMillis ?? .max) >= horizon }?.baseOffset ?? log.endOffset
        try log.scan(from: max(start, log.startOffset)) { offset, payload in
            let envelope = try EventCodec.envelope(payload)
            if let eventID = envelope.eventID, envelope.ingestedAt >= horizon {
                index.insert(Fingerprint128(eventID), offset: offset, ingestedAt: envelope.ingestedAt)
            }
            return true
        }
        return index
    }
}

/// Ingestion totals since the process started.
public struct IngestCounters: Sendable {
    public var acceptedByType: [String: Int] = [:]
    public var rejectedByCode: [String: Int] = [:]
    public var duplicates = 0
    public var failedRequests = 0

    public var accepted: Int { acceptedByType.values.reduce(0, +) }
    public var rejected: Int { rejectedByCode.values.reduce(0, +) }
}
