/// Reads the pages of one column chunk into definition levels, repetition levels and values.
struct ColumnChunkReader {
    /// Values one page may declare. Writers cut pages at about 1 MB (a million values at most,
    /// 8 million booleans); a larger count is a hostile header that would size buffers by it.
    static let maxPageValues: Int32 = 1 << 24

    let file: [UInt8]
    let column: ResolvedColumn
    let chunk: ColumnMetaData

    func read(definition: inout [UInt32], repetition: inout [UInt32], values: inout PrimitiveValues) throws(ParquetError) {
        guard chunk.type == column.physicalType else { throw .corrupt("column chunk type \(chunk.type) differs from the schema's") }
        var start = chunk.dataPageOffset
        if let dictionaryOffset = chunk.dictionaryPageOffset, dictionaryOffset > 0, dictionaryOffset < start { start = dictionaryOffset }
        let end = start + chunk.totalCompressedSize
        guard start >= 4, chunk.totalCompressedSize >= 0, end <= Int64(file.count - 8) else { throw .corrupt("column chunk lies outside the file") }
        var dictionary: PrimitiveValues?
        var valuesRead: Int64 = 0
        try file.withBytes { (buffer) throws(ParquetError) in
            var position = Int(start)
            while valuesRead < chunk.numValues {
                guard position < Int(end) else { throw .corrupt("column chunk ends before its \(chunk.numValues) values") }
                var headerReader = ThriftCompactReader(UnsafeRawBufferPointer(rebasing: buffer[position..<Int(end)]))
                let header = try PageHeader.decode(&headerReader)
                position += headerReader.position
                let size = Int(header.compressedPageSize)
                guard size <= Int(end) - position else { throw .corrupt("page extends past its column chunk") }
                let body = UnsafeRawBufferPointer(rebasing: buffer[position..<(position + size)])
                position += size
                switch header.type {
                case .dictionaryPage:
                    guard let page = header.dictionaryPage else { throw .corrupt("dictionary page without its header") }
                    guard page.encoding == .plain || page.encoding == .plainDictionary else { throw .unsupported("dictionary encoding \(page.encoding)") }
                    let raw = try PageCompression.decompress(body, codec: chunk.codec, uncompressedSize: Int(header.uncompressedPageSize))
                    dictionary = try raw.withBytes { (raw) throws(ParquetError) -> PrimitiveValues in
                        var reader = ByteReader(raw)
                        guard page.numValues >= 0, page.numValues <= Self.maxPageValues else { throw .corrupt("dictionary size \(page.numValues)") }
                        return try PlainDecoding.decode(&reader, type: column.physicalType, count: Int(page.numValues), typeLength: column.typeLength)
                    }
                case .dataPage:
                    guard let page = header.dataPage else { throw .corrupt("data page without its header") }
                    let raw = try PageCompression.decompress(body, codec: chunk.codec, uncompressedSize: Int(header.uncompressedPageSize))
                    try raw.withBytes { (raw) throws(ParquetError) in
                        var reader = ByteReader(raw)
                        let count = Int(page.numValues)
                        guard count >= 0, count <= Self.maxPageValues else { throw .corrupt("page value count \(count)") }
                        let rep = try readLevelsV1(&reader, max: column.maxRepetition, count: count, encoding: page.repetitionLevelEncoding)
                        let def = try readLevelsV1(&reader, max: column.maxDefinition, count: count, encoding: page.definitionLevelEncoding)
                        let present = column.maxDefinition == 0 ? count : def.lazy.filter { $0 == UInt32(column.maxDefinition) }.count
                        try values.append(try decodeValues(&reader, encoding: page.encoding, count: present, dictionary: dictionary))
                        append(def, rep, count: count, definition: &definition, repetition: &repetition)
                    }
                    valuesRead += Int64(page.numValues)
                case .dataPageV2:
                    guard let page = header.dataPageV2 else { throw .corrupt("V2 data page without its header") }
                    let repLength = Int(page.repetitionLevelsByteLength)
                    let defLength = Int(page.definitionLevelsByteLength)
                    guard repLength >= 0, defLength >= 0, repLength + defLength <= body.count, page.numValues >= 0,
                        page.numValues <= Self.maxPageValues
                    else {
                        throw .corrupt("V2 page level lengths exceed the page, or its value count \(page.numValues) is out of range")
                    }
                    let count = Int(page.numValues)
                    var repReader = ByteReader(UnsafeRawBufferPointer(rebasing: body[0..<repLength]))
                    var defReader = ByteReader(UnsafeRawBufferPointer(rebasing: body[repLength..<(repLength + defLength)]))
                    let rep =
                        column.maxRepetition == 0 ? [] : try RLEHybrid.decode(&repReader, bitWidth: RLEHybrid.bitWidth(column.maxRepetition), count: count)
                    let def =
                        column.maxDefinition == 0 ? [] : try RLEHybrid.decode(&defReader, bitWidth: RLEHybrid.bitWidth(column.maxDefinition), count: count)
                    let valueBytes = UnsafeRawBufferPointer(rebasing: body[(repLength + defLength)...])
                    let uncompressedValues = Int(header.uncompressedPageSize) - repLength - defLength
                    let raw =
                        page.isCompressed
                        ? try PageCompression.decompress(valueBytes, codec: chunk.codec, uncompressedSize: uncompressedValues) : Array(valueBytes)
                    let present = column.maxDefinition == 0 ? count : def.lazy.filter { $0 == UInt32(column.maxDefinition) }.count
                    try raw.withBytes { (raw) throws(ParquetError) in
                        var reader = ByteReader(raw)
                        try values.append(try decodeValues(&reader, encoding: page.encoding, count: present, dictionary: dictionary))
                    }
                    append(def, rep, count: count, definition: &definition, repetition: &repetition)
                    valuesRead += Int64(page.numValues)
                case .indexPage, nil:
                    continue  // index pages and unknown page types carry no values
                }
            }
        }
    }

    private func append(_ def: [UInt32], _ rep: [UInt32], count: Int, definition: inout [UInt32], repetition: inout [UInt32]) {
        if column.maxDefinition == 0 { definition.append(contentsOf: repeatElement(0, count: count)) } else { definition += def }
        if column.maxRepetition == 0 { repetition.append(contentsOf: repeatElement(0, count: count)) } else { repetition += rep }
    }

    private func readLevelsV1(_ reader: inout ByteReader, max: Int, count: Int, encoding: ParquetEncoding) throws(ParquetError) -> [UInt32] {
        guard max > 0 else { return [] }
        switch encoding {
        case .rle:
            let length = Int(try reader.readUInt32LE())
            var levels = ByteReader(try reader.read(length))
            let decoded = try RLEHybrid.decode(&levels, bitWidth: RLEHybrid.bitWidth(max), count: count)
            guard decoded.allSatisfy({ $0 <= UInt32(max) }) else { throw .corrupt("level above its maximum \(max)") }
            return decoded
        case .bitPacked:
            // Deprecated encoding: most-significant-bit first, no header.
            let width = RLEHybrid.bitWidth(max)
            let raw = try reader.read((count * width + 7) / 8)
            var result: [UInt32] = []
            result.reserveCapacity(count)
            for index in 0..<count {
                var value: UInt32 = 0
                for bit in 0..<width {
                    let position = index * width + bit
                    value = value << 1 | UInt32(raw[position / 8] >> UInt8(7 - position % 8) & 1)
                }
                guard value <= UInt32(max) else { throw .corrupt("level above its maximum \(max)") }
                result.append(value)
            }
            return result
        default:
            throw .unsupported("level encoding \(encoding)")
        }
    }

    private func decodeValues(_ reader: inout ByteReader, encoding: ParquetEncoding, count: Int, dictionary: PrimitiveValues?) throws(ParquetError)
        -> PrimitiveValues
    {
        let type = column.physicalType
        switch encoding {
        case .plain:
            return try PlainDecoding.decode(&reader, type: type, count: count, typeLength: column.typeLength)
        case .plainDictionary, .rleDictionary:
            guard let dictionary else { throw .corrupt("dictionary-encoded page without a dictionary page") }
            guard count > 0 else { return PrimitiveValues.empty(type) }
            let width = Int(try reader.readByte())
            let indices = try RLEHybrid.decode(&reader, bitWidth: width, count: count)
            return try dictionary.gather(indices)
        case .rle:
            guard type == .boolean else { throw .unsupported("RLE encoding of \(type) values") }
            let length = Int(try reader.readUInt32LE())
            var bits = ByteReader(try reader.read(length))
            return .boolean(try RLEHybrid.decode(&bits, bitWidth: 1, count: count).map { $0 == 1 })
        case .deltaBinaryPacked:
            let decoded = try DeltaDecoding.binaryPacked(&reader, maxCount: count)
            guard decoded.count == count else { throw .corrupt("delta page holds \(decoded.count) values, expected \(count)") }
            switch type {
            case .int32: return .int32(decoded.map { Int32(truncatingIfNeeded: $0) })
            case .int64: return .int64(decoded)
            default: throw .corrupt("DELTA_BINARY_PACKED for \(type)")
            }
        case .deltaLengthByteArray, .deltaByteArray:
            guard type == .byteArray || type == .fixedLenByteArray else { throw .corrupt("\(encoding) for \(type)") }
            let decoded =
                encoding == .deltaByteArray
                ? try DeltaDecoding.byteArray(&reader, maxCount: count) : try DeltaDecoding.lengthByteArray(&reader, maxCount: count)
            guard decoded.count == count else { throw .corrupt("delta page holds \(decoded.count) values, expected \(count)") }
            return .bytes(decoded)
        case .byteStreamSplit:
            return try DeltaDecoding.byteStreamSplit(&reader, type: type, count: count, typeLength: column.typeLength)
        case .bitPacked:
            throw .unsupported("BIT_PACKED values")
        }
    }
}
