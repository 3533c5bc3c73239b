import Logging
import StrataCore

/// A rejected event, kept with the reason so that nothing sent is silently dropped.
public struct DeadLetter: Sendable, Equatable {
    /// Position in the dead-letter log.
    public var offset: Int64
    public var receivedAt: Int64
    /// Where it came from: `http`, `import:<file>`, `kafka:<topic>`...
    public var source: String
    public var rejection: Rejection
    /// The event as sent (truncated to `ingest.dead_letter_raw_bytes`).
    public var raw: String

    public var json: JSONValue {
        var object = rejection.json.objectValue ?? [:]
        object["offset"] = .int(offset)
        object["received_at"] = .string(EventTime.format(millis: receivedAt))
        object["source"] = .string(source)
        object["raw"] = .string(raw)
        return .object(object)
    }
}

/// The dead-letter store: an append-only, durable log of rejected events and their reasons.
public final class DeadLetterStore: Sendable {
    let log: SegmentedLog

    public init(directory: String, clock: any WallClock, logger: Logger) throws(StrataError) {
        log = try SegmentedLog(directory: directory, options: LogOptions(segmentBytes: 16 << 20), clock: clock, logger: logger)
    }

    /// Frames dead letters for `enqueue`.
    static func frame(_ letters: [(rejection: Rejection, raw: String)], source: String, receivedAt: Int64) -> FramedBatch {
        var batch = FramedBatch()
        for letter in letters {
            let object: JSONValue = [
                "received_at": .int(receivedAt), "source": .string(source), "index": .int(letter.rejection.index),
                "field": .optional(letter.rejection.field), "code": .string(letter.rejection.code),
                "message": .string(letter.rejection.message), "raw": .string(letter.raw),
            ]
            batch.append(payload: object.serializedBytes)
        }
        return batch
    }

    func enqueue(_ batch: FramedBatch) throws(StrataError) -> LogTicket {
        try log.enqueue(batch)
    }

    func waitDurable(_ ticket: LogTicket) async throws {
        try await log.waitDurable(ticket)
    }

    /// Stores rejected input that never reached the ingestor (a Kafka message that is not an
    /// event at all), durably: it returns once they are on disk.
    public func store(_ letters: [(rejection: Rejection, raw: String)], source: String, receivedAt: Int64) async throws {
        guard !letters.isEmpty else { return }
        try await waitDurable(try enqueue(Self.frame(letters, source: source, receivedAt: receivedAt)))
    }

    /// Number of dead letters stored.
    public var count: Int64 { log.endOffset - log.startOffset }

    /// Dead letters from `offset` on, oldest first.
    public func list(from offset: Int64 = 0, limit: Int = 100) throws -> [DeadLetter] {
        try log.read(from: max(offset, log.startOffset), limit: limit).map { record in
            let object = (try? JSONValue.parse(bytes: record.payload)) ?? .object([:])
            return DeadLetter(
                offset: record.offset, receivedAt: object["received_at"]?.intValue ?? 0, source: object["source"]?.stringValue ?? "",
                rejection: Rejection(
                    index: Int(object["index"]?.intValue ?? 0), field: object["field"]?.stringValue, code: object["code"]?.stringValue ?? "",
                    message: object["message"]?.stringValue ?? ""),
                raw: object["raw"]?.stringValue ?? "")
        }
    }

    public func close() async { await log.close() }
}
