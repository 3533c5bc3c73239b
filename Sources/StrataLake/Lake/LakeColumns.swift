import Foundation
import StrataCore
import StrataParquet

/// A few columns of a lake file, decoded without building its events: what a reader of millions
/// of rows that needs two or three columns reads (training's interactions, the drift baseline's
/// activity). Parquet is columnar, so the other columns are never decompressed.
public struct LakeColumns: Sendable {
    public let rows: Int
    private let values: [String: (values: ColumnValues, kind: ColumnKind)]

    /// Reads the named columns of the file at `path`; a column the file lacks reads as all nil.
    public init(path: String, columns names: Set<String>) throws {
        let reader = try LakeFileReader.parquet(LakeFileReader.bytes(path: path), what: path)
        rows = reader.rowCount
        var values: [String: (values: ColumnValues, kind: ColumnKind)] = [:]
        for column in reader.columns where names.contains(column.name) {
            do {
                values[column.name] = (try reader.read(column: column.name), column.kind)
            } catch {
                throw StrataError.invalid("invalid_parquet", "\(path), column \(column.name): \(error)")
            }
        }
        self.values = values
    }

    /// A text column (ids).
    public func strings(_ name: String) -> [String?] {
        switch values[name]?.values {
        case .string(let strings)?: return strings
        case let other?: return LakeFileReader.convert(other, kind: values[name]!.kind).map { $0?.stringValue }
        case nil: return Array(repeating: nil, count: rows)
        }
    }

    /// A time column in epoch milliseconds (whatever unit the file stores; plain integers as they are).
    public func millis(_ name: String) -> [Int64?] {
        guard let (column, kind) = values[name] else { return Array(repeating: nil, count: rows) }
        switch (column, kind) {
        case (.int64(let integers), .timestamp(let unit)): return integers.map { $0.map(unit.toMillis) }
        case (.int64(let integers), _): return integers
        default: return LakeFileReader.convert(column, kind: kind).map { $0?.timestampValue ?? $0?.intValue }
        }
    }
}
