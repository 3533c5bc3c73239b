import Foundation
import StrataCore
import StrataParquet

/// Reads lake files back into events: Strata's own, and files of the same shape written by
/// pyarrow, DuckDB or Spark (any timestamp unit, int32 or int64 integers, float or double).
public enum LakeFileReader {
    /// Reads a Parquet file of events of `type` (named by the file's metadata or its
    /// `type=` partition when nil).
    public static func read(path: String, type: String? = nil) throws -> [Event] {
        guard let bytes = AtomicFile.read(path) else {
            throw StrataError.notFound("lake_file_missing", "cannot read lake file \(path)")
        }
        return try read(bytes: bytes, type: type ?? typeFromPath(path))
    }

    static func typeFromPath(_ path: String) -> String? {
        path.split(separator: "/").first { $0.hasPrefix("type=") }.map { String($0.dropFirst(5)) }
    }

    /// Events with their log offsets (files written by Strata carry them; others number rows).
    public static func readWithOffsets(path: String, type: String? = nil) throws -> [(offset: Int64, event: Event)] {
        guard let bytes = AtomicFile.read(path) else {
            throw StrataError.notFound("lake_file_missing", "cannot read lake file \(path)")
        }
        return try readWithOffsets(bytes: bytes, type: type ?? typeFromPath(path))
    }

    public static func read(bytes: [UInt8], type givenType: String?) throws -> [Event] {
        try readWithOffsets(bytes: bytes, type: givenType).map(\.event)
    }

    public static func readWithOffsets(bytes: [UInt8], type givenType: String?) throws -> [(offset: Int64, event: Event)] {
        let reader: ParquetReader
        do {
            reader = try ParquetReader(bytes: bytes)
        } catch {
            throw StrataError.invalid("invalid_parquet", "\(error)")
        }
        guard let type = reader.keyValueMetadata["strata.event_type"] ?? givenType else {
            throw StrataError.invalid("unknown_event_type", "the file names no event type (metadata strata.event_type or a type= partition)")
        }
        let rows = reader.rowCount
        var events = [Event](repeating: Event(type: type, userID: nil, timestamp: 0, ingestedAt: 0), count: rows)
        var offsets = [Int64](0..<Int64(rows))
        for column in reader.columns {
            let values: ColumnValues
            do {
                values = try reader.read(column: column.name)
            } catch {
                throw StrataError.invalid("invalid_parquet", "column \(column.name): \(error)")
            }
            let fieldValues = convert(values, kind: column.kind)
            switch column.name {
            case "offset":
                for row in 0..<rows { if case .int(let v)? = fieldValues[row] { offsets[row] = v } }
            case "event_id":
                for row in 0..<rows { events[row].eventID = fieldValues[row]?.stringValue }
            case "user_id":
                for row in 0..<rows { events[row].userID = fieldValues[row]?.stringValue }
            case "timestamp":
                for row in 0..<rows { events[row].timestamp = fieldValues[row]?.timestampValue ?? fieldValues[row]?.intValue ?? 0 }
            case "ingested_at":
                for row in 0..<rows { events[row].ingestedAt = fieldValues[row]?.timestampValue ?? fieldValues[row]?.intValue ?? 0 }
            case "extra":
                for row in 0..<rows {
                    guard let text = fieldValues[row]?.stringValue, case .object(let object)? = try? JSONValue.parse(text) else { continue }
                    for key in object.keys.sorted() { events[row].fields.append((key, .json(object[key]!.serialized))) }
                }
            case "type", "date":
                continue  // partition columns added by hive-style readers
            default:
                for row in 0..<rows { if let value = fieldValues[row] { events[row].fields.append((column.name, value)) } }
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
