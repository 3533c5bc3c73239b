/// The value types a contract field may declare. They map one-to-one onto Parquet columns,
/// Avro and Protobuf types, and JSON Schema types (see the contract exporters).
public enum FieldType: String, Sendable, Codable, CaseIterable {
    case string
    case int
    case double
    case bool
    /// Milliseconds since the Unix epoch, UTC; accepted as RFC 3339 text or integer milliseconds.
    case timestamp
    case stringList = "string_list"
}
