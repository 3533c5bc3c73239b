/// PLAIN decoding of `count` values of a physical type.
enum PlainDecoding {
    static func decode(_ reader: inout ByteReader, type: PhysicalType, count: Int, typeLength: Int) throws(ParquetError) -> PrimitiveValues {
        func fixed<T>(_ width: Int, _ load: (UnsafeRawBufferPointer, Int) -> T) throws(ParquetError) -> [T] {
            guard count <= reader.remaining / width else { throw .corrupt("page holds fewer values than its header says") }
            let raw = try reader.read(count * width)
            return (0..<count).map { load(raw, $0 * width) }
        }
        switch type {
        case .boolean:
            let raw = try reader.read((count + 7) / 8)
            return .boolean((0..<count).map { raw[$0 / 8] >> UInt8($0 % 8) & 1 == 1 })
        case .int32:
            return .int32(try fixed(4) { Int32(littleEndian: $0.loadUnaligned(fromByteOffset: $1, as: Int32.self)) })
        case .int64:
            return .int64(try fixed(8) { Int64(littleEndian: $0.loadUnaligned(fromByteOffset: $1, as: Int64.self)) })
        case .float:
            return .float(try fixed(4) { Float(bitPattern: UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: $1, as: UInt32.self))) })
        case .double:
            return .double(try fixed(8) { Double(bitPattern: UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: $1, as: UInt64.self))) })
        case .int96:
            return .int96Nanos(
                try fixed(12) { raw, offset in
                    let nanosOfDay = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int64.self))
                    let julianDay = Int64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)))
                    return (julianDay - 2_440_588) &* 86_400_000_000_000 &+ nanosOfDay
                })
        case .byteArray:
            var values: [[UInt8]] = []
            values.reserveCapacity(min(count, reader.remaining / 4))
            for _ in 0..<count {
                let length = Int(try reader.readUInt32LE())
                values.append(Array(try reader.read(length)))
            }
            return .bytes(values)
        case .fixedLenByteArray:
            guard typeLength > 0 else { throw .corrupt("FIXED_LEN_BYTE_ARRAY without a positive type_length") }
            return .bytes(try fixed(typeLength) { Array(UnsafeRawBufferPointer(rebasing: $0[$1..<($1 + typeLength)])) })
        }
    }
}
