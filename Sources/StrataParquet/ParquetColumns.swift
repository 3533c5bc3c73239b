/// What a top-level column holds, as Strata sees it.
public enum ColumnKind: Sendable, Equatable, CustomStringConvertible {
    case boolean
    case int32
    case int64
    case float
    case double
    /// UTF-8 text (BYTE_ARRAY with the STRING/UTF8/ENUM/JSON annotation).
    case string
    /// Raw bytes without a text annotation.
    case binary
    /// A timestamp as integer counts of `unit` since the epoch.
    case timestamp(TimeUnit)
    /// Days since the epoch.
    case date
    /// A list of UTF-8 strings.
    case stringList
    /// A shape this reader does not interpret (nested structs, maps, lists of other types).
    case unsupported(String)

    public var description: String {
        switch self {
        case .boolean: "boolean"
        case .int32: "int32"
        case .int64: "int64"
        case .float: "float"
        case .double: "double"
        case .string: "string"
        case .binary: "binary"
        case .timestamp(let unit): "timestamp(\(unit))"
        case .date: "date"
        case .stringList: "list<string>"
        case .unsupported(let why): "unsupported(\(why))"
        }
    }
}

/// A top-level column of a file.
public struct ColumnInfo: Sendable, Equatable {
    public var name: String
    public var kind: ColumnKind
    public var nullable: Bool
}

/// The values of one column, one entry per row (nil where the row has no value).
public enum ColumnValues: Sendable, Equatable {
    case boolean([Bool?])
    case int32([Int32?])
    case int64([Int64?])
    case float([Float?])
    case double([Double?])
    case string([String?])
    case binary([[UInt8]?])
    case stringList([[String]?])

    public var count: Int {
        switch self {
        case .boolean(let v): v.count
        case .int32(let v): v.count
        case .int64(let v): v.count
        case .float(let v): v.count
        case .double(let v): v.count
        case .string(let v): v.count
        case .binary(let v): v.count
        case .stringList(let v): v.count
        }
    }
}

/// A column to write: its name, kind, whether it may hold nulls, and one value per row.
/// Writable kinds: boolean, int64, double, string, timestamp(.millis) and stringList.
public struct WritableColumn: Sendable {
    public var name: String
    public var kind: ColumnKind
    public var nullable: Bool
    public var values: ColumnValues

    public init(name: String, kind: ColumnKind, nullable: Bool, values: ColumnValues) {
        self.name = name
        self.kind = kind
        self.nullable = nullable
        self.values = values
    }
}
