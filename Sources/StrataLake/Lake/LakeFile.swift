import StrataCore

/// One immutable Parquet file of the lake, named by the SHA-256 of its content.
public struct LakeFile: Sendable, Equatable, Hashable {
    /// Path relative to the lake root: `events/type=<type>/date=<day>/<sha256>.parquet`.
    public var path: String
    public var sha256: String
    public var type: String
    /// UTC day of the events' times, `YYYY-MM-DD`.
    public var date: String
    public var rows: Int
    public var bytes: Int
    public var firstOffset: Int64
    public var lastOffset: Int64
    public var contractVersion: String

    public static func path(type: String, date: String, sha256: String) -> String {
        "events/type=\(type)/date=\(date)/\(sha256).parquet"
    }

    public var json: JSONValue {
        [
            "path": .string(path), "sha256": .string(sha256), "type": .string(type), "date": .string(date), "rows": .int(rows),
            "bytes": .int(bytes), "first_offset": .int(firstOffset), "last_offset": .int(lastOffset), "contract_version": .string(contractVersion),
        ]
    }

    public init(path: String, sha256: String, type: String, date: String, rows: Int, bytes: Int, firstOffset: Int64, lastOffset: Int64, contractVersion: String)
    {
        self.path = path
        self.sha256 = sha256
        self.type = type
        self.date = date
        self.rows = rows
        self.bytes = bytes
        self.firstOffset = firstOffset
        self.lastOffset = lastOffset
        self.contractVersion = contractVersion
    }

    public init?(json: JSONValue) {
        guard let path = json["path"]?.stringValue, let sha = json["sha256"]?.stringValue, let type = json["type"]?.stringValue,
            let date = json["date"]?.stringValue, let rows = json["rows"]?.intValue, let bytes = json["bytes"]?.intValue,
            let first = json["first_offset"]?.intValue, let last = json["last_offset"]?.intValue, let contract = json["contract_version"]?.stringValue
        else { return nil }
        self.init(
            path: path, sha256: sha, type: type, date: date, rows: Int(rows), bytes: Int(bytes), firstOffset: first, lastOffset: last, contractVersion: contract
        )
    }
}
