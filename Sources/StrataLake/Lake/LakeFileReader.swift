import Foundation
import StrataCore
import StrataParquet

/// Reads lake files back into events: Strata's own, and files of the same shape written by
/// pyarrow, DuckDB or Spark (any timestamp unit, int32 or int64 integers, float or double).
public enum LakeFileReader {
    /// Reads a Parquet file of events of `type` (named by the file's metadata or its
    /// `type=` partition when nil).
    public static func read(path: String, type: String? = nil) throws -> [Event] {
        try read(bytes: bytes(path: path), type: type ?? typeFromPath(path))
    }

    static func typeFromPath(_ path: String) -> String? {
        path.split(separator: "/").first { $0.hasPrefix("type=") }.map { String($0.dropFirst(5)) }
    }

    /// Events with their log offsets (files written by Strata carry them; others number rows);
    /// with `users`, only those users' events (the other rows' events are never built); with
    /// `fields`, only those fields besides the envelope (the other columns are never decoded).
    public static func readWithOffsets(path: String, type: String? = nil, users: Set<String>? = nil, fields: Set<String>? = nil) throws -> [(
        offset: Int64, event: Event
    )] {
        try readWithOffsets(bytes: bytes(path: path), type: type ?? typeFromPath(path), users: users, fields: fields)
    }

    public static func read(bytes: [UInt8], type givenType: String?) throws -> [Event] {
        try readWithOffsets(bytes: bytes, type: givenType).map(\.event)
    }

    /// The Parquet reader over a lake file's bytes (`what` prefixes the error: the file's path).
    static func parquet(_ bytes: [UInt8], what: String? = nil) throws -> ParquetReader {
        do {
            return try ParquetReader(bytes: bytes)
        } catch {
            throw StrataError.invalid("invalid_parquet", (what.map { "\($0): " } ?? "") + "\(error)")
        }
    }

    /// A lake file's bytes, or a `lake_file_missing` error.
    static func bytes(path: String) throws -> [UInt8] {
        guard let bytes = AtomicFile.read(path) else {
            throw StrataError.notFound("lake_file_missing", "cannot read lake file \(path)")
        }
        return bytes
    }

    public static func readWithOffsets(bytes: [UInt8], type givenType: String?, users: Set<String>? = nil, fields: Set<String>? = nil) throws -> [(
        offset: Int64, event: Event
    )] {
        let reader = try parquet(bytes)
        guard let type = reader.keyValueMetadata["strata.event_type"] ?? givenType else {
            throw StrataError.invalid("unknown_event_type", "the file names no event type (metadata strata.event_type or a type= partition)")
        }
        func values(_ column: ColumnInfo) throws -> [FieldValue?] {
            do {
                return convert(try reader.read(column: column.name), kind: column.kind)
            } catch {
                throw StrataError.invalid("invalid_parquet", "column \(column.name): \(error)")
            }
        }
        // The rows kept: all, or those of the given users (read from the user column first, and
        // that column then not decoded again).
        var kept = Array(0..<reader.rowCount)
        var userColumn: [FieldValue?]?
        if let users {
            userColumn = try reader.columns.first { $0.name == "user_id" }.map(values) ?? []
            kept = kept.filter { row in userColumn?[row]?.stringValue.map(users.contains) ?? false }
        }
        var events = [Event](repeating: Event(type: type, userID: nil, timestamp: 0, ingestedAt: 0), count: kept.count)
        var offsets = kept.map(Int64.init)
        // The columns decoded: all, or the envelope and the fields asked for (`extra` when one
        // of them is not a column of its own).
        let wanted = fields.map { fields in
            let names = Set(reader.columns.map(\.name))
            return fields.union(["offset", "event_id", "user_id", "timestamp", "ingested_at", "item_id"]).union(fields.isSubset(of: names) ? [] : ["extra"])
        }
        for column in reader.columns where wanted?.contains(column.name) ?? true {
            if column.name == "type" || column.name == "date" { continue }  // partition columns added by hive-style readers
            let fieldValues = column.name == "user_id" ? try userColumn ?? values(column) : try values(column)
            switch column.name {
            case "offset":
                for (slot, row) in kept.enumerated() { if case .int(let v)? = fieldValues[row] { offsets[slot] = v } }
            case "event_id":
                for (slot, row) in kept.enumerated() { events[slot].eventID = fieldValues[row]?.stringValue }
            case "user_id":
                for (slot, row) in kept.enumerated() { events[slot].userID = fieldValues[row]?.stringValue }
            case "timestamp":
                for (slot, row) in kept.enumerated() { events[slot].timestamp = fieldValues[row]?.timestampValue ?? fieldValues[row]?.intValue ?? 0 }
            case "ingested_at":
                for (slot, row) in kept.enumerated() { events[slot].ingestedAt = fieldValues[row]?.timestampValue ?? fieldValues[row]?.intValue ?? 0 }
            case "extra":
                for (slot, row) in kept.enumerated() {
                    guard let text = fieldValues[row]?.stringValue, case .object(let object)? = try? JSONValue.parse(text) else { continue }
                    for key in object.keys.sorted() { events[slot].fields.append((key, .json(object[key]!.serialized))) }
                }
            default:
                for (slot, row) in kept.enumerated() { if let value = fieldValues[row] { events[slot].fields.append((column.name, value)) } }
            }
        }
        // Files hold events in offset order; keep that order for callers.
        return zip(offsets, events).sorted { $0.0 < $1.0 }.map { (offset: $0.0, event: $0.1) }
    }

    /// Column values as field values, units normalised (timestamps to milliseconds).
    static func convert(_ values: ColumnValues, kind: ColumnKind) -> [FieldValue?] {
        switch values {
        case .boolean(let v): return v.map { $0.map(FieldValue.bool) }
        case .int32(let v): return v.map { $0.map { .int(Int64($0)) } }
        case .int64(let v):
            if case .timestamp(let unit) = kind { return v.map { $0.map { .timestamp(unit.toMillis($0)) } } }
            return v.map { $0.map(FieldValue.int) }
        case .float(let v): return v.map { $0.map { .double(Double($0)) } }
        case .double(let v): return v.map { $0.map(FieldValue.double) }
        case .string(let v): return v.map { $0.map(FieldValue.string) }
        case .binary(let v): return v.map { $0.map { .string(String(decoding: $0, as: UTF8.self)) } }
        case .stringList(let v): return v.map { $0.map(FieldValue.stringList) }
        }
    }
}
