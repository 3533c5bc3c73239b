import StrataCore

/// The wire formats `POST /v1/events` accepts.
public enum BatchFormat: String, Sendable, CaseIterable {
    /// One JSON object, or a JSON array of objects.
    case json
    /// One JSON object per line.
    case ndjson
    /// A `strata.v1.EventBatch` message (see `event_batch.proto`).
    case protobuf

    /// The format for a Content-Type header value, ignoring parameters such as charset.
    public init?(contentType: String) {
        let mediaType = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        switch mediaType {
        case "application/json": self = .json
        case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines", "application/jsonlines": self = .ndjson
        case "application/x-protobuf", "application/protobuf", "application/vnd.google.protobuf": self = .protobuf
        default: return nil
        }
    }

    public static let acceptedContentTypes = "application/json, application/x-ndjson or application/x-protobuf"
}

/// A parsed, validated batch, framed for the log but not yet written.
public struct PreparedBatch: Sendable {
    var batch = FramedBatch()
    /// Record number within `batch` and fingerprint, for events with an `event_id`.
    var fingerprints: [(record: Int, fingerprint: Fingerprint128)] = []
    /// Byte position of each record in `batch` (kept only when some events have ids).
    var frameStarts: [Int] = []
    var rejections: [(rejection: Rejection, raw: String)] = []
    /// Accepted events per compiled type index.
    var acceptedByType: [Int] = []
    var ingestedAt: Int64
    var source: String
    /// The body was one JSON object rather than a batch.
    public internal(set) var isSingleEvent = false
    public var eventCount: Int { batch.count + rejections.count }
}

/// The answer to an ingestion request.
public struct IngestResult: Sendable {
    /// Events stored now or earlier (retries of an already stored `event_id` count as accepted).
    public var accepted: Int
    /// Of the accepted, how many were retries that were not stored again.
    public var duplicates: Int
    public var rejected: [Rejection]
    /// Log offsets of the events stored by this request.
    public var offsets: Range<Int64>?
    public var isSingleEvent: Bool

    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "accepted": .int(accepted), "duplicates": .int(duplicates), "rejected": .array(rejected.map(\.json)),
        ]
        if let offsets, !offsets.isEmpty {
            object["first_offset"] = .int(offsets.lowerBound)
            object["last_offset"] = .int(offsets.upperBound - 1)
        }
        return .object(object)
    }
}
