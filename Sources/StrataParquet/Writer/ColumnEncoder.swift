/// Encodes one column's rows of one row group as a column chunk: an optional dictionary page,
/// then V1 data pages of RLE levels and PLAIN or dictionary-index values.
struct ColumnEncoder {
    let column: WritableColumn
    let rows: Range<Int>
    let options: ParquetWriteOptions

    static func check(_ column: WritableColumn) throws(ParquetError) {
        let matches: Bool
        var hasNull = false
        switch (column.kind, column.values) {
        case (.boolean, .boolean(let v)):
            matches = true
            hasNull = v.contains(nil)
        case (.int64, .int64(let v)), (.timestamp(.millis), .int64(let v)):
            matches = true
            hasNull = v.contains(nil)
        case (.double, .double(let v)):
            matches = true
            hasNull = v.contains(nil)
            guard v.allSatisfy({ $0?.isNaN != true }) else { throw .invalidArgument("column '\(column.name)' holds NaN") }
        case (.string, .string(let v)):
            matches = true
            hasNull = v.contains(nil)
        case (.stringList, .stringList(let v)):
            matches = true
            hasNull = v.contains(nil)
        default: matches = false
        }
        guard matches else { throw .invalidArgument("column '\(column.name)' of kind \(column.kind) cannot hold these values (or the kind is not writable)") }
        guard column.nullable || !hasNull else { throw .invalidArgument("non-nullable column '\(column.name)' holds nulls") }
    }

    private var maxDefinition: Int {
        (column.nullable ? 1 : 0) + (column.kind == .stringList ? 1 : 0)
    }

    private var maxRepetition: Int { column.kind == .stringList ? 1 : 0 }

    /// Non-null values of a page, by physical type.
    private enum PageValues {
        case boolean([Bool])
        case int64([Int64])
        case double([Double])
        case strings([String])
    }

    func write(into output: inout [UInt8]) throws(ParquetError) -> ColumnMetaData {
        let physical: PhysicalType
        switch column.kind {
        case .boolean: physical = .boolean
        case .int64, .timestamp: physical = .int64
        case .double: physical = .double
        default: physical = .byteArray
        }
        // A dictionary pays off for repetitive text: ids, categories, types.
        var dictionary: [String: UInt32]?
        var dictionaryOrder: [String] = []
        if physical == .byteArray {
            var candidate: [String: UInt32] = [:]
            var total = 0
            var bytes = 0
            forEachString { value in
                total += 1
                if candidate[value] == nil {
                    candidate[value] = UInt32(dictionaryOrder.count)
                    dictionaryOrder.append(value)
                    bytes += value.utf8.count + 4
                }
            }
            if total > 0 && dictionaryOrder.count <= total * 3 / 4 && bytes <= 4 << 20 { dictionary = candidate }
        }

        var totalUncompressed: Int64 = 0
        var totalCompressed: Int64 = 0
        var dictionaryOffset: Int64?
        if dictionary != nil {
            var plain: [UInt8] = []
            for value in dictionaryOrder { appendPlain(value, to: &plain) }
            dictionaryOffset = Int64(output.count)
            let (u, c) = try writePage(
                PageHeader(
                    type: .dictionaryPage, uncompressedPageSize: 0, compressedPageSize: 0,
                    dictionaryPage: DictionaryPageHeader(numValues: Int32(dictionaryOrder.count), encoding: .plain)),
                body: plain, into: &output)
            totalUncompressed += u
            totalCompressed += c
        }

        let dataOffset = Int64(output.count)
        var numValues: Int64 = 0
        var nullCount: Int64 = 0
        var minimum: [UInt8]?
        var maximum: [UInt8]?
        var pageStart = rows.lowerBound
        while pageStart < rows.upperBound {
            let pageEnd = min(rows.upperBound, pageStart + options.pageRows)
            var definition: [UInt32] = []
            var repetition: [UInt32] = []
            let values = levelsAndValues(pageStart..<pageEnd, definition: &definition, repetition: &repetition, nullCount: &nullCount)
            numValues += Int64(definition.count)
            var body: [UInt8] = []
            if maxRepetition > 0 { appendLevels(repetition, max: maxRepetition, to: &body) }
            if maxDefinition > 0 { appendLevels(definition, max: maxDefinition, to: &body) }
            let encoding: ParquetEncoding
            switch values {
            case .strings(let strings) where dictionary != nil:
                encoding = .rleDictionary
                let width = RLEHybrid.bitWidth(max(dictionaryOrder.count - 1, 0))
                body.append(UInt8(width))
                RLEHybrid.encode(strings.map { dictionary![$0]! }, bitWidth: width, into: &body)
            default:
                encoding = .plain
                appendPlain(values, to: &body)
            }
            updateStatistics(values, minimum: &minimum, maximum: &maximum)
            let header = PageHeader(
                type: .dataPage, uncompressedPageSize: 0, compressedPageSize: 0,
                dataPage: DataPageHeader(numValues: Int32(definition.count), encoding: encoding, definitionLevelEncoding: .rle, repetitionLevelEncoding: .rle))
            let (u, c) = try writePage(header, body: body, into: &output)
            totalUncompressed += u
            totalCompressed += c
            pageStart = pageEnd
        }
        var encodings: [Int32] = [ParquetEncoding.rle.rawValue]
        encodings += dictionary != nil ? [ParquetEncoding.plain.rawValue, ParquetEncoding.rleDictionary.rawValue] : [ParquetEncoding.plain.rawValue]
        return ColumnMetaData(
            type: physical, encodings: encodings, pathInSchema: column.kind == .stringList ? [column.name, "list", "element"] : [column.name],
            codec: options.codec, numValues: numValues, totalUncompressedSize: totalUncompressed, totalCompressedSize: totalCompressed,
            dataPageOffset: dataOffset, dictionaryPageOffset: dictionaryOffset,
            statistics: Statistics(nullCount: column.kind == .stringList ? nil : nullCount, minValue: minimum, maxValue: maximum))
    }

    /// Compresses a page body and writes header + body; returns (uncompressed, compressed) sizes
    /// including the header, as the column metadata counts them.
    private func writePage(_ header: PageHeader, body: [UInt8], into output: inout [UInt8]) throws(ParquetError) -> (Int64, Int64) {
        let compressed = try PageCompression.compress(body, codec: options.codec)
        var header = header
        header.uncompressedPageSize = Int32(body.count)
        header.compressedPageSize = Int32(compressed.count)
        var writer = ThriftCompactWriter()
        header.encode(into: &writer)
        output += writer.bytes
        output += compressed
        return (Int64(writer.bytes.count + body.count), Int64(writer.bytes.count + compressed.count))
    }

    private func forEachString(_ body: (String) -> Void) {
        switch column.values {
        case .string(let values): for index in rows { if let value = values[index] { body(value) } }
        case .stringList(let values): for index in rows { values[index]?.forEach(body) }
        default: break
        }
    }

    private func levelsAndValues(_ range: Range<Int>, definition: inout [UInt32], repetition: inout [UInt32], nullCount: inout Int64) -> PageValues {
        let maxDef = UInt32(maxDefinition)
        func flat<T>(_ values: [T?]) -> [T] {
            var present: [T] = []
            present.reserveCapacity(range.count)
            for index in range {
                if let value = values[index] {
                    present.append(value)
                    definition.append(maxDef)
                } else {
                    nullCount += 1
                    definition.append(0)
                }
            }
            return present
        }
        switch column.values {
        case .boolean(let v): return .boolean(flat(v))
        case .int64(let v): return .int64(flat(v))
        case .double(let v): return .double(flat(v))
        case .string(let v): return .strings(flat(v))
        case .stringList(let lists):
            var present: [String] = []
            for index in range {
                guard let list = lists[index] else {
                    nullCount += 1
                    definition.append(0)
                    repetition.append(0)
                    continue
                }
                if list.isEmpty {
                    definition.append(maxDef - 1)
                    repetition.append(0)
                    continue
                }
                for (position, value) in list.enumerated() {
                    definition.append(maxDef)
                    repetition.append(position == 0 ? 0 : 1)
                    present.append(value)
                }
            }
            return .strings(present)
        default:
            return .boolean([])
        }
    }

    private func appendLevels(_ levels: [UInt32], max: Int, to body: inout [UInt8]) {
        var encoded: [UInt8] = []
        RLEHybrid.encode(levels, bitWidth: RLEHybrid.bitWidth(max), into: &encoded)
        let length = UInt32(encoded.count)
        body += [
            UInt8(truncatingIfNeeded: length), UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length >> 16),
            UInt8(truncatingIfNeeded: length >> 24),
        ]
        body += encoded
    }

    private func appendPlain(_ values: PageValues, to body: inout [UInt8]) {
        switch values {
        case .boolean(let bits):
            var byte: UInt8 = 0
            for (index, bit) in bits.enumerated() {
                if bit { byte |= 1 << UInt8(index % 8) }
                if index % 8 == 7 {
                    body.append(byte)
                    byte = 0
                }
            }
            if bits.count % 8 != 0 { body.append(byte) }
        case .int64(let numbers):
            body.reserveCapacity(body.count + numbers.count * 8)
            for number in numbers { withUnsafeBytes(of: number.littleEndian) { body += $0 } }
        case .double(let numbers):
            body.reserveCapacity(body.count + numbers.count * 8)
            for number in numbers { withUnsafeBytes(of: number.bitPattern.littleEndian) { body += $0 } }
        case .strings(let strings):
            for value in strings { appendPlain(value, to: &body) }
        }
    }

    private func appendPlain(_ value: String, to body: inout [UInt8]) {
        let length = UInt32(value.utf8.count)
        body += [
            UInt8(truncatingIfNeeded: length), UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length >> 16),
            UInt8(truncatingIfNeeded: length >> 24),
        ]
        body += value.utf8
    }

    /// Min/max of numeric columns, PLAIN-encoded as the statistics fields expect.
    private func updateStatistics(_ values: PageValues, minimum: inout [UInt8]?, maximum: inout [UInt8]?) {
        func encode<T>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }
        switch values {
        case .int64(let numbers):
            guard let low = numbers.min(), let high = numbers.max() else { return }
            let currentLow = minimum.map { $0.withUnsafeBytes { $0.loadUnaligned(as: Int64.self) } }
            let currentHigh = maximum.map { $0.withUnsafeBytes { $0.loadUnaligned(as: Int64.self) } }
            minimum = encode(Swift.min(low, currentLow ?? low).littleEndian)
            maximum = encode(Swift.max(high, currentHigh ?? high).littleEndian)
        case .double(let numbers):
            guard let low = numbers.min(), let high = numbers.max() else { return }
            let currentLow = minimum.map { $0.withUnsafeBytes { Double(bitPattern: $0.loadUnaligned(as: UInt64.self)) } }
            let currentHigh = maximum.map { $0.withUnsafeBytes { Double(bitPattern: $0.loadUnaligned(as: UInt64.self)) } }
            // -0.0 and +0.0 compare equal; the spec asks writers to widen zero bounds.
            var lowValue = Swift.min(low, currentLow ?? low)
            var highValue = Swift.max(high, currentHigh ?? high)
            if lowValue == 0 { lowValue = -0.0 }
            if highValue == 0 { highValue = 0.0 }
            minimum = encode(lowValue.bitPattern.littleEndian)
            maximum = encode(highValue.bitPattern.littleEndian)
        default:
            return
        }
    }
}
