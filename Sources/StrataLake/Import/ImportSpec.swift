import Foundation
import StrataCore

/// What `strata import` reads and how its columns become events.
public struct ImportSpec: Sendable {
    public enum Format: String, Sendable, CaseIterable {
        /// MovieLens ratings: `u.data` (tab-separated, no header) or `ratings.csv`
        /// (`userId,movieId,rating,timestamp`), times in seconds.
        case movielens
        /// CSV with a header row; columns mapped onto the event's fields.
        case csv
        /// One JSON event per line, in the shape `POST /v1/events` takes.
        case ndjson
        /// A Parquet file of events of one type; columns mapped onto the event's fields.
        case parquet
    }

    /// How epoch numbers in a time column are to be read.
    public enum TimeUnit: String, Sendable, CaseIterable {
        case seconds, millis, auto
    }

    public var path: String
    public var format: Format
    /// The event type of every row (CSV, MovieLens, Parquet).
    public var eventType: String?
    /// Event field (or `user_id`, `item_id`, `event_id`, `timestamp`) → source column.
    public var mapping: [String: String]
    public var timeUnit: TimeUnit
    /// Separator of string-list cells in CSV.
    public var listSeparator: Character

    public init(
        path: String, format: Format? = nil, eventType: String? = nil, mapping: [String: String] = [:], timeUnit: TimeUnit = .auto,
        listSeparator: Character = "|"
    ) {
        self.path = path
        self.format = format ?? Self.detectFormat(path)
        self.eventType = eventType
        self.mapping = mapping
        self.timeUnit = timeUnit
        self.listSeparator = listSeparator
    }

    /// The format a file name suggests; MovieLens files are recognised by name and header.
    public static func detectFormat(_ path: String) -> Format {
        let name = (path as NSString).lastPathComponent.lowercased()
        if name == "u.data" { return .movielens }
        if name.hasSuffix(".ndjson") || name.hasSuffix(".jsonl") || name.hasSuffix(".json") { return .ndjson }
        if name.hasSuffix(".parquet") { return .parquet }
        if name.hasSuffix(".csv"), let handle = FileHandle(forReadingAtPath: path) {
            defer { try? handle.close() }
            let head = String(decoding: handle.readData(ofLength: 256), as: UTF8.self).lowercased()
            if head.hasPrefix("userid,movieid,rating,timestamp") { return .movielens }
        }
        return .csv
    }
}

/// What an import did.
public struct ImportReport: Sendable {
    public var rows = 0
    public var accepted = 0
    public var duplicates = 0
    public var rejected = 0
    /// Source columns that no field used.
    public var ignoredColumns: [String] = []
    /// The first few rejections, to show.
    public var sampleRejections: [Rejection] = []

    public var json: JSONValue {
        [
            "rows": .int(rows), "accepted": .int(accepted), "duplicates": .int(duplicates), "rejected": .int(rejected),
            "ignored_columns": .array(ignoredColumns.map { .string($0) }), "sample_rejections": .array(sampleRejections.map(\.json)),
        ]
    }
}
