/// Reads Thrift's compact protocol from untrusted bytes: every length is bounds-checked and
/// nesting is limited, so a corrupt or hostile footer is an error, never a crash.
struct ThriftCompactReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var position: Int
    private var lastFieldID: [Int16] = [0]
    private var pendingBool: Bool?

    init(_ bytes: UnsafeRawBufferPointer, position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    /// The header of the next field of the current struct, or nil at its stop byte.
    mutating func nextField() throws(ParquetError) -> (id: Int16, type: ThriftType)? {
        let header = try readByte()
        if header == 0 { return nil }
        guard let type = ThriftType(rawValue: header & 0x0F) else { throw .corrupt("unknown Thrift type \(header & 0x0F)") }
        let delta = Int16(header >> 4)
        let id: Int16
        if delta != 0 {
            id = lastFieldID[lastFieldID.count - 1] &+ delta
        } else {
            id = Int16(truncatingIfNeeded: unzigzag(try readVarint()))
        }
        lastFieldID[lastFieldID.count - 1] = id
        if type == .booleanTrue || type == .booleanFalse { pendingBool = type == .booleanTrue }
        return (id, type)
    }

    mutating func beginStruct() throws(ParquetError) {
        guard lastFieldID.count < 32 else { throw .corrupt("Thrift structs nested too deeply") }
        lastFieldID.append(0)
    }

    mutating func endStruct() { lastFieldID.removeLast() }

    /// Reads a struct field by field; `body` receives each field and must consume or skip it.
    mutating func readStruct(_ body: (inout ThriftCompactReader, Int16, ThriftType) throws(ParquetError) -> Void) throws(ParquetError) {
        try beginStruct()
        while let (id, type) = try nextField() {
            try body(&self, id, type)
        }
        endStruct()
    }

    mutating func readBool() throws(ParquetError) -> Bool {
        if let value = pendingBool {
            pendingBool = nil
            return value
        }
        return try readByte() == 1
    }

    mutating func readI32() throws(ParquetError) -> Int32 {
        let value = unzigzag(try readVarint())
        guard let narrowed = Int32(exactly: value) else { throw .corrupt("Thrift i32 out of range") }
        return narrowed
    }

    mutating func readI64() throws(ParquetError) -> Int64 { unzigzag(try readVarint()) }

    mutating func readBinary() throws(ParquetError) -> [UInt8] {
        let length = try readLength()
        defer { position += length }
        return Array(UnsafeRawBufferPointer(rebasing: bytes[position..<(position + length)]))
    }

    mutating func readString() throws(ParquetError) -> String {
        String(decoding: try readBinary(), as: UTF8.self)
    }

    mutating func readListHeader() throws(ParquetError) -> (elementType: ThriftType, count: Int) {
        let header = try readByte()
        guard let type = ThriftType(rawValue: header & 0x0F) else { throw .corrupt("unknown Thrift list element type") }
        var count = Int(header >> 4)
        if count == 15 {
            let wide = try readVarint()
            guard wide <= UInt64(bytes.count) else { throw .corrupt("Thrift list longer than the file") }
            count = Int(wide)
        }
        return (type, count)
    }

    mutating func readList<T>(_ element: (inout ThriftCompactReader) throws(ParquetError) -> T) throws(ParquetError) -> [T] {
        let (_, count) = try readListHeader()
        var result: [T] = []
        result.reserveCapacity(min(count, 1024))
        for _ in 0..<count { result.append(try element(&self)) }
        return result
    }

    /// Skips a value of `type` (an unknown or unneeded field).
    mutating func skip(_ type: ThriftType, depth: Int = 0) throws(ParquetError) {
        guard depth < 32 else { throw .corrupt("Thrift values nested too deeply") }
        switch type {
        case .booleanTrue, .booleanFalse: pendingBool = nil
        case .byte: _ = try readByte()
        case .i16, .i32, .i64: _ = try readVarint()
        case .double: try advance(8)
        case .binary: try advance(try readLength())
        case .list, .set:
            let (elementType, count) = try readListHeader()
            for _ in 0..<count {
                if elementType == .booleanTrue || elementType == .booleanFalse { _ = try readByte() } else { try skip(elementType, depth: depth + 1) }
            }
        case .map:
            let wide = try readVarint()
            guard wide > 0 else { return }
            // Checked before narrowing: a hostile varint may not fit an Int.
            guard wide <= UInt64(bytes.count) else { throw .corrupt("Thrift map longer than the file") }
            let count = Int(wide)
            let types = try readByte()
            guard let keyType = ThriftType(rawValue: types >> 4), let valueType = ThriftType(rawValue: types & 0x0F) else {
                throw .corrupt("unknown Thrift map types")
            }
            for _ in 0..<count {
                try skip(keyType, depth: depth + 1)
                try skip(valueType, depth: depth + 1)
            }
        case .struct:
            try beginStruct()
            while let (_, fieldType) = try nextField() { try skip(fieldType, depth: depth + 1) }
            endStruct()
        case .stop: throw .corrupt("unexpected Thrift stop")
        }
    }

    // MARK: Primitives

    private mutating func readByte() throws(ParquetError) -> UInt8 {
        guard position < bytes.count else { throw .corrupt("Thrift data ends early") }
        defer { position += 1 }
        return bytes[position]
    }

    private mutating func advance(_ count: Int) throws(ParquetError) {
        guard count >= 0, position + count <= bytes.count else { throw .corrupt("Thrift data ends early") }
        position += count
    }

    private mutating func readLength() throws(ParquetError) -> Int {
        let length = try readVarint()
        guard length <= UInt64(bytes.count - position) else { throw .corrupt("Thrift binary longer than the data") }
        return Int(length)
    }

    private mutating func readVarint() throws(ParquetError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readByte()
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            guard shift < 64 else { throw .corrupt("Thrift varint too long") }
        }
    }

    private func unzigzag(_ value: UInt64) -> Int64 {
        Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1)
    }
}
