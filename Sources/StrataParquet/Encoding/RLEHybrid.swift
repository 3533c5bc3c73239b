/// Parquet's RLE / bit-packing hybrid: definition and repetition levels, dictionary indices and
/// (in V2 pages) booleans.
enum RLEHybrid {
    /// Bits needed to store values up to `maxValue`.
    static func bitWidth(_ maxValue: Int) -> Int {
        maxValue == 0 ? 0 : Int.bitWidth - maxValue.leadingZeroBitCount
    }

    /// Encodes `values` (each < 2^bitWidth). Long runs of one value become RLE runs, the rest
    /// bit-packed groups of 8; only the final group is padded.
    static func encode(_ values: [UInt32], bitWidth: Int, into output: inout [UInt8]) {
        var pending: [UInt32] = []
        var index = 0
        let byteWidth = (bitWidth + 7) / 8
        while index < values.count {
            var runEnd = index + 1
            while runEnd < values.count && values[runEnd] == values[index] { runEnd += 1 }
            var runLength = runEnd - index
            if runLength >= 8 {
                // Top up the literal buffer to a whole group first, so it needs no padding.
                while pending.count % 8 != 0 && runLength > 0 {
                    pending.append(values[index])
                    index += 1
                    runLength -= 1
                }
                if runLength >= 8 {
                    flushBitPacked(&pending, bitWidth: bitWidth, into: &output)
                    writeVarint(UInt64(runLength) << 1, into: &output)
                    var value = values[index]
                    for _ in 0..<byteWidth {
                        output.append(UInt8(truncatingIfNeeded: value))
                        value >>= 8
                    }
                    index = runEnd
                    continue
                }
            }
            pending.append(contentsOf: values[index..<runEnd])
            index = runEnd
        }
        flushBitPacked(&pending, bitWidth: bitWidth, into: &output)
    }

    private static func flushBitPacked(_ pending: inout [UInt32], bitWidth: Int, into output: inout [UInt8]) {
        guard !pending.isEmpty else { return }
        while pending.count % 8 != 0 { pending.append(0) }
        writeVarint(UInt64(pending.count / 8) << 1 | 1, into: &output)
        BitPacking.pack(pending, bitWidth: bitWidth, into: &output)
        pending.removeAll(keepingCapacity: true)
    }

    /// Decodes `count` values; fails on data that ends early or values wider than `bitWidth`.
    static func decode(_ reader: inout ByteReader, bitWidth: Int, count: Int) throws(ParquetError) -> [UInt32] {
        guard (0...32).contains(bitWidth) else { throw .corrupt("RLE bit width \(bitWidth)") }
        var output: [UInt32] = []
        output.reserveCapacity(count)
        let byteWidth = (bitWidth + 7) / 8
        while output.count < count {
            let header = try reader.readVarint()
            if header & 1 == 1 {
                let groups = Int(clamping: header >> 1)
                guard groups > 0, groups <= reader.remaining / max(bitWidth, 1) + 1 else { throw .corrupt("bit-packed run longer than the page") }
                let bytes = try reader.read(groups * bitWidth)
                let take = min(groups * 8, count - output.count)
                BitPacking.unpack(bytes, bitWidth: bitWidth, count: take, into: &output)
            } else {
                let runLength = Int(clamping: header >> 1)
                guard runLength > 0 else { throw .corrupt("empty RLE run") }
                var value: UInt32 = 0
                let bytes = try reader.read(byteWidth)
                for (shift, byte) in bytes.enumerated() { value |= UInt32(byte) << (8 * shift) }
                guard bitWidth == 32 || value >> bitWidth == 0 else { throw .corrupt("RLE value wider than its bit width") }
                let take = min(runLength, count - output.count)
                output.append(contentsOf: repeatElement(value, count: take))
            }
        }
        return output
    }

    static func writeVarint(_ value: UInt64, into output: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            output.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        output.append(UInt8(v))
    }
}

/// Little-endian, least-significant-bit-first bit packing (Parquet's order).
enum BitPacking {
    static func pack(_ values: [UInt32], bitWidth: Int, into output: inout [UInt8]) {
        guard bitWidth > 0 else { return }
        var buffer: UInt64 = 0
        var bits = 0
        for value in values {
            buffer |= UInt64(value) << UInt64(bits)
            bits += bitWidth
            while bits >= 8 {
                output.append(UInt8(truncatingIfNeeded: buffer))
                buffer >>= 8
                bits -= 8
            }
        }
        if bits > 0 { output.append(UInt8(truncatingIfNeeded: buffer)) }
    }

    static func unpack(_ bytes: UnsafeRawBufferPointer, bitWidth: Int, count: Int, into output: inout [UInt32]) {
        guard bitWidth > 0 else {
            output.append(contentsOf: repeatElement(0, count: count))
            return
        }
        let mask: UInt64 = bitWidth == 64 ? ~0 : (1 << UInt64(bitWidth)) - 1
        var buffer: UInt64 = 0
        var bits = 0
        var byteIndex = 0
        for _ in 0..<count {
            while bits < bitWidth && byteIndex < bytes.count {
                buffer |= UInt64(bytes[byteIndex]) << UInt64(bits)
                byteIndex += 1
                bits += 8
            }
            output.append(UInt32(truncatingIfNeeded: buffer & mask))
            buffer >>= UInt64(bitWidth)
            bits -= bitWidth
        }
    }

    /// Unpacks values up to 64 bits wide (delta encodings).
    static func unpack64(_ bytes: UnsafeRawBufferPointer, bitWidth: Int, count: Int, into output: inout [UInt64]) {
        guard bitWidth > 0 else {
            output.append(contentsOf: repeatElement(0, count: count))
            return
        }
        var bitPosition = 0
        for _ in 0..<count {
            var value: UInt64 = 0
            var produced = 0
            while produced < bitWidth {
                let byte = bitPosition / 8
                let offset = bitPosition % 8
                let available = min(8 - offset, bitWidth - produced)
                let chunk = byte < bytes.count ? (UInt64(bytes[byte]) >> UInt64(offset)) & ((1 << UInt64(available)) - 1) : 0
                value |= chunk << UInt64(produced)
                produced += available
                bitPosition += available
            }
            output.append(value)
        }
    }
}
