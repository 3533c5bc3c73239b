/// The delta encodings that writers choose for V2 pages (DuckDB, Spark, pyarrow with
/// `data_page_version="2.0"` and explicit encodings).
enum DeltaDecoding {
    /// DELTA_BINARY_PACKED: blocks of miniblocks of bit-packed deltas from a running value.
    static func binaryPacked(_ reader: inout ByteReader, maxCount: Int) throws(ParquetError) -> [Int64] {
        let blockSize = Int(clamping: try reader.readVarint())
        let miniblocks = Int(clamping: try reader.readVarint())
        let total = Int(clamping: try reader.readVarint())
        var current = try reader.readZigzagVarint()
        // Writers use blocks of 128 or 1,024 values; the bound keeps a hostile header from sizing
        // buffers or byte counts beyond memory (found by fuzzing).
        guard blockSize > 0, blockSize <= 1 << 20, blockSize % 128 == 0, miniblocks > 0, blockSize % miniblocks == 0, (blockSize / miniblocks) % 32 == 0
        else {
            throw .corrupt("invalid DELTA_BINARY_PACKED header (block \(blockSize), miniblocks \(miniblocks))")
        }
        guard total <= maxCount else { throw .corrupt("DELTA_BINARY_PACKED holds \(total) values where the page has \(maxCount)") }
        let perMiniblock = blockSize / miniblocks
        var values: [Int64] = []
        values.reserveCapacity(min(total, 1 << 16))
        if total > 0 { values.append(current) }
        var deltas: [UInt64] = []
        while values.count < total {
            let minDelta = try reader.readZigzagVarint()
            let widths = try reader.read(miniblocks)
            for miniblock in 0..<miniblocks where values.count < total {
                let width = Int(widths[miniblock])
                guard width <= 64 else { throw .corrupt("delta bit width \(width)") }
                let packed = try reader.read(perMiniblock * width / 8)
                deltas.removeAll(keepingCapacity: true)
                // Only the values still wanted: the last miniblock is padding past `total`.
                BitPacking.unpack64(packed, bitWidth: width, count: min(perMiniblock, total - values.count), into: &deltas)
                for delta in deltas where values.count < total {
                    current = current &+ minDelta &+ Int64(bitPattern: delta)
                    values.append(current)
                }
            }
        }
        return values
    }

    /// DELTA_LENGTH_BYTE_ARRAY: all lengths delta-packed, then the bytes back to back.
    static func lengthByteArray(_ reader: inout ByteReader, maxCount: Int) throws(ParquetError) -> [[UInt8]] {
        let lengths = try binaryPacked(&reader, maxCount: maxCount)
        var values: [[UInt8]] = []
        values.reserveCapacity(lengths.count)
        for length in lengths {
            guard length >= 0, length <= Int64(reader.remaining) else { throw .corrupt("byte array length \(length) beyond the page") }
            values.append(Array(try reader.read(Int(length))))
        }
        return values
    }

    /// DELTA_BYTE_ARRAY: each value shares a prefix with the previous one.
    static func byteArray(_ reader: inout ByteReader, maxCount: Int) throws(ParquetError) -> [[UInt8]] {
        let prefixes = try binaryPacked(&reader, maxCount: maxCount)
        let suffixes = try lengthByteArray(&reader, maxCount: maxCount)
        guard prefixes.count == suffixes.count else { throw .corrupt("DELTA_BYTE_ARRAY prefix and suffix counts differ") }
        var values: [[UInt8]] = []
        values.reserveCapacity(suffixes.count)
        var previous: [UInt8] = []
        for (prefix, suffix) in zip(prefixes, suffixes) {
            guard prefix >= 0, prefix <= Int64(previous.count) else { throw .corrupt("DELTA_BYTE_ARRAY prefix longer than the previous value") }
            let value = Array(previous[0..<Int(prefix)]) + suffix
            values.append(value)
            previous = value
        }
        return values
    }

    /// BYTE_STREAM_SPLIT: byte k of every value, then byte k+1, ...
    static func byteStreamSplit(_ reader: inout ByteReader, type: PhysicalType, count: Int, typeLength: Int) throws(ParquetError) -> PrimitiveValues {
        let width: Int
        switch type {
        case .float, .int32: width = 4
        case .double, .int64: width = 8
        case .fixedLenByteArray: width = typeLength
        default: throw .unsupported("BYTE_STREAM_SPLIT for \(type)")
        }
        guard width > 0, count <= reader.remaining / width else { throw .corrupt("BYTE_STREAM_SPLIT data shorter than its values") }
        let raw = try reader.read(count * width)
        var interleaved = [UInt8](repeating: 0, count: count * width)
        for value in 0..<count {
            for byte in 0..<width { interleaved[value * width + byte] = raw[byte * count + value] }
        }
        return try interleaved.withBytes { (buffer) throws(ParquetError) -> PrimitiveValues in
            var plain = ByteReader(buffer)
            return try PlainDecoding.decode(&plain, type: type, count: count, typeLength: typeLength)
        }
    }
}
