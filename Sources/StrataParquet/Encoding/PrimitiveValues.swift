/// Non-null values of one column, by physical type, as decoded from pages.
enum PrimitiveValues {
    case boolean([Bool])
    case int32([Int32])
    case int64([Int64])
    /// INT96 timestamps, converted to nanoseconds since the epoch.
    case int96Nanos([Int64])
    case float([Float])
    case double([Double])
    case bytes([[UInt8]])

    static func empty(_ type: PhysicalType) -> PrimitiveValues {
        switch type {
        case .boolean: .boolean([])
        case .int32: .int32([])
        case .int64: .int64([])
        case .int96: .int96Nanos([])
        case .float: .float([])
        case .double: .double([])
        case .byteArray, .fixedLenByteArray: .bytes([])
        }
    }

    var count: Int {
        switch self {
        case .boolean(let v): v.count
        case .int32(let v): v.count
        case .int64(let v), .int96Nanos(let v): v.count
        case .float(let v): v.count
        case .double(let v): v.count
        case .bytes(let v): v.count
        }
    }

    mutating func append(_ other: PrimitiveValues) throws(ParquetError) {
        switch (self, other) {
        case (.boolean(var a), .boolean(let b)):
            a += b
            self = .boolean(a)
        case (.int32(var a), .int32(let b)):
            a += b
            self = .int32(a)
        case (.int64(var a), .int64(let b)):
            a += b
            self = .int64(a)
        case (.int96Nanos(var a), .int96Nanos(let b)):
            a += b
            self = .int96Nanos(a)
        case (.float(var a), .float(let b)):
            a += b
            self = .float(a)
        case (.double(var a), .double(let b)):
            a += b
            self = .double(a)
        case (.bytes(var a), .bytes(let b)):
            a += b
            self = .bytes(a)
        default: throw .corrupt("pages of one column decode to different types")
        }
    }

    /// Picks dictionary entries by index.
    func gather(_ indices: [UInt32]) throws(ParquetError) -> PrimitiveValues {
        func pick<T>(_ dictionary: [T]) throws(ParquetError) -> [T] {
            var result: [T] = []
            result.reserveCapacity(indices.count)
            for index in indices {
                guard Int(index) < dictionary.count else { throw .corrupt("dictionary index \(index) out of range (\(dictionary.count) entries)") }
                result.append(dictionary[Int(index)])
            }
            return result
        }
        switch self {
        case .boolean(let d): return .boolean(try pick(d))
        case .int32(let d): return .int32(try pick(d))
        case .int64(let d): return .int64(try pick(d))
        case .int96Nanos(let d): return .int96Nanos(try pick(d))
        case .float(let d): return .float(try pick(d))
        case .double(let d): return .double(try pick(d))
        case .bytes(let d): return .bytes(try pick(d))
        }
    }
}
