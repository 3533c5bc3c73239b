import StrataCore
import StrataParquet

/// The Parquet columns of one event type's lake files: the envelope, then the contract's
/// fields in declared order, then `extra` (JSON of values the current contract does not
/// declare, e.g. kept unknown fields or fields of an older contract).
public struct LakeSchema: Sendable {
    public let type: EventTypeSchema

    public init(type: EventTypeSchema) {
        self.type = type
    }

    public static let envelopeColumns = ["offset", "event_id", "user_id", "timestamp", "ingested_at"]

    public static func columnKind(_ type: FieldType) -> ColumnKind {
        switch type {
        case .string: .string
        case .int: .int64
        case .double: .double
        case .bool: .boolean
        case .timestamp: .timestamp(.millis)
        case .stringList: .stringList
        }
    }

    /// Builds the columns of a file from events of this type, in the given order.
    public func columns(for events: [(offset: Int64, event: Event)]) -> [WritableColumn] {
        var offsets: [Int64?] = []
        var eventIDs: [String?] = []
        var userIDs: [String?] = []
        var times: [Int64?] = []
        var ingested: [Int64?] = []
        var extra: [String?] = []
        offsets.reserveCapacity(events.count)
        var fieldValues = Array(repeating: [FieldValue?](), count: type.fields.count)
        var positions: [String: Int] = [:]
        for (index, field) in type.fields.enumerated() { positions[field.name] = index }
        for (offset, event) in events {
            offsets.append(offset)
            eventIDs.append(event.eventID)
            userIDs.append(event.userID)
            times.append(event.timestamp)
            ingested.append(event.ingestedAt)
            var row = [FieldValue?](repeating: nil, count: type.fields.count)
            var undeclared: [String: JSONValue] = [:]
            for (name, value) in event.fields {
                if let index = positions[name], value.type == type.fields[index].type {
                    row[index] = value
                } else {
                    undeclared[name] = value.jsonValue
                }
            }
            for index in row.indices { fieldValues[index].append(row[index]) }
            extra.append(undeclared.isEmpty ? nil : JSONValue.object(undeclared).serialized)
        }
        var columns = [
            WritableColumn(name: "offset", kind: .int64, nullable: false, values: .int64(offsets)),
            WritableColumn(name: "event_id", kind: .string, nullable: true, values: .string(eventIDs)),
            WritableColumn(name: "user_id", kind: .string, nullable: !type.requiresUser, values: .string(userIDs)),
            WritableColumn(name: "timestamp", kind: .timestamp(.millis), nullable: false, values: .int64(times)),
            WritableColumn(name: "ingested_at", kind: .timestamp(.millis), nullable: false, values: .int64(ingested)),
        ]
        for (index, field) in type.fields.enumerated() {
            let values = fieldValues[index]
            let column: ColumnValues
            switch field.type {
            case .string: column = .string(values.map { $0?.stringValue })
            case .int: column = .int64(values.map { $0?.intValue })
            case .double: column = .double(values.map { v in if case .double(let d)? = v { d } else { nil } })
            case .bool: column = .boolean(values.map { $0?.boolValue })
            case .timestamp: column = .int64(values.map { $0?.timestampValue })
            case .stringList: column = .stringList(values.map { v in if case .stringList(let l)? = v { l } else { nil } })
            }
            columns.append(WritableColumn(name: field.name, kind: Self.columnKind(field.type), nullable: true, values: column))
        }
        columns.append(WritableColumn(name: "extra", kind: .string, nullable: true, values: .string(extra)))
        return columns
    }
}
