/// Turns levels and non-null values back into one value (or nil) per row.
enum ColumnAssembly {
    static func assemble(_ column: ResolvedColumn, definition: [UInt32], repetition: [UInt32], values: PrimitiveValues) throws(ParquetError) -> ColumnValues {
        if column.info.kind == .stringList {
            return try assembleStringList(column, definition: definition, repetition: repetition, values: values)
        }
        let maxDef = UInt32(column.maxDefinition)
        func spread<T>(_ present: [T]) throws(ParquetError) -> [T?] {
            if maxDef == 0 {
                guard present.count == definition.count else { throw .corrupt("column has \(present.count) values for \(definition.count) rows") }
                return present.map { $0 }
            }
            var result: [T?] = []
            result.reserveCapacity(definition.count)
            var next = 0
            for level in definition {
                if level == maxDef {
                    guard next < present.count else { throw .corrupt("fewer values than defined rows") }
                    result.append(present[next])
                    next += 1
                } else {
                    result.append(nil)
                }
            }
            guard next == present.count else { throw .corrupt("more values than defined rows") }
            return result
        }
        switch (column.info.kind, values) {
        case (.boolean, .boolean(let v)): return .boolean(try spread(v))
        case (.int32, .int32(let v)), (.date, .int32(let v)): return .int32(try spread(v))
        case (.int64, .int64(let v)), (.timestamp, .int64(let v)), (.timestamp, .int96Nanos(let v)): return .int64(try spread(v))
        case (.float, .float(let v)): return .float(try spread(v))
        case (.double, .double(let v)): return .double(try spread(v))
        case (.string, .bytes(let v)): return .string(try spread(try v.map(text)))
        case (.binary, .bytes(let v)): return .binary(try spread(v))
        default: throw .corrupt("column '\(column.info.name)' values do not match its kind \(column.info.kind)")
        }
    }

    private static func assembleStringList(_ column: ResolvedColumn, definition: [UInt32], repetition: [UInt32], values: PrimitiveValues) throws(ParquetError)
        -> ColumnValues
    {
        guard case .bytes(let present) = values else { throw .corrupt("list column '\(column.info.name)' is not of strings") }
        var rows: [[String]?] = []
        var next = 0
        for (level, rep) in zip(definition, repetition) {
            if rep == 0 {
                if level < UInt32(column.listPresentLevel) {
                    rows.append(nil)
                    continue
                }
                rows.append([])
            }
            guard !rows.isEmpty else { throw .corrupt("list column starts with a continuation") }
            guard level >= UInt32(column.listElementLevel) else { continue }  // empty list
            guard level == UInt32(column.maxDefinition) else {
                throw .unsupported("null elements inside list column '\(column.info.name)'")
            }
            guard next < present.count else { throw .corrupt("fewer list values than levels") }
            guard rows[rows.count - 1] != nil else { throw .corrupt("value inside a null list") }
            rows[rows.count - 1]!.append(try text(present[next]))
            next += 1
        }
        guard next == present.count else { throw .corrupt("more list values than levels") }
        return .stringList(rows)
    }

    private static func text(_ bytes: [UInt8]) throws(ParquetError) -> String {
        guard let string = String(validating: bytes, as: UTF8.self) else { throw .corrupt("invalid UTF-8 in a string column") }
        return string
    }
}
