/// A typed value of one event field or entity property.
public enum FieldValue: Sendable, Hashable {
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    /// Milliseconds since the Unix epoch, UTC.
    case timestamp(Int64)
    case stringList([String])
    /// An undeclared value kept verbatim as JSON text (contracts with `unknown_fields: keep`).
    case json(String)

    /// The declared type this value satisfies, or nil for kept raw JSON.
    public var type: FieldType? {
        switch self {
        case .string: .string
        case .int: .int
        case .double: .double
        case .bool: .bool
        case .timestamp: .timestamp
        case .stringList: .stringList
        case .json: nil
        }
    }

    public var stringValue: String? { if case .string(let v) = self { v } else { nil } }
    public var intValue: Int64? { if case .int(let v) = self { v } else { nil } }
    public var boolValue: Bool? { if case .bool(let v) = self { v } else { nil } }
    public var timestampValue: Int64? { if case .timestamp(let v) = self { v } else { nil } }

    /// A number as Double, for ints and doubles alike.
    public var numericValue: Double? {
        switch self {
        case .int(let v): Double(v)
        case .double(let v): v
        default: nil
        }
    }

    /// A model input: numbers as they are, booleans as 0 or 1 (nil for other types).
    public var featureNumber: Double? {
        if case .bool(let flag) = self { return flag ? 1 : 0 }
        return numericValue
    }

    /// The value as JSON, for API answers and the dead-letter store.
    public var jsonValue: JSONValue {
        switch self {
        case .string(let v): .string(v)
        case .int(let v): .int(v)
        case .double(let v): .double(v)
        case .bool(let v): .bool(v)
        case .timestamp(let v): .string(EventTime.format(millis: v))
        case .stringList(let v): .array(v.map { .string($0) })
        case .json(let text): (try? JSONValue.parse(text)) ?? .string(text)
        }
    }
}
