/// Settings of a written file.
public struct ParquetWriteOptions: Sendable {
    public var codec: CompressionCodec
    public var rowGroupRows: Int
    public var pageRows: Int
    /// Recorded as `created_by` in the footer.
    public var createdBy: String

    public init(codec: CompressionCodec = .zstd, rowGroupRows: Int = 131_072, pageRows: Int = 16_384, createdBy: String = "strata") {
        self.codec = codec
        self.rowGroupRows = max(1, rowGroupRows)
        self.pageRows = max(1, pageRows)
        self.createdBy = createdBy
    }
}

/// Writes a whole Parquet file into memory. The output depends only on the inputs (no clocks,
/// no randomness), so equal content gives equal bytes and so an equal content hash.
public enum ParquetWriter {
    public static func write(columns: [WritableColumn], rowCount: Int, metadata: [String: String] = [:], options: ParquetWriteOptions = ParquetWriteOptions())
        throws(ParquetError) -> [UInt8]
    {
        var names = Set<String>()
        for column in columns {
            guard names.insert(column.name).inserted else { throw .invalidArgument("duplicate column '\(column.name)'") }
            guard column.values.count == rowCount else {
                throw .invalidArgument("column '\(column.name)' has \(column.values.count) values for \(rowCount) rows")
            }
            try ColumnEncoder.check(column)
        }
        var output: [UInt8] = Array("PAR1".utf8)
        var rowGroups: [RowGroup] = []
        var start = 0
        while start < rowCount {
            let end = min(rowCount, start + options.rowGroupRows)
            var chunks: [ColumnChunk] = []
            var groupBytes: Int64 = 0
            for column in columns {
                let meta = try ColumnEncoder(column: column, rows: start..<end, options: options).write(into: &output)
                groupBytes += meta.totalUncompressedSize
                chunks.append(ColumnChunk(fileOffset: meta.dictionaryPageOffset ?? meta.dataPageOffset, metaData: meta))
            }
            rowGroups.append(RowGroup(columns: chunks, totalByteSize: groupBytes, numRows: Int64(end - start)))
            start = end
        }
        let footer = FileMetaData(
            version: 2, schema: schemaElements(columns), numRows: Int64(rowCount), rowGroups: rowGroups,
            keyValueMetadata: metadata.keys.sorted().map { KeyValue(key: $0, value: metadata[$0]) }, createdBy: options.createdBy)
        var writer = ThriftCompactWriter()
        footer.encode(into: &writer)
        output += writer.bytes
        let length = UInt32(writer.bytes.count)
        output += [
            UInt8(truncatingIfNeeded: length), UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length >> 16),
            UInt8(truncatingIfNeeded: length >> 24),
        ]
        output += Array("PAR1".utf8)
        return output
    }

    static func schemaElements(_ columns: [WritableColumn]) -> [SchemaElement] {
        var elements = [SchemaElement(name: "schema", numChildren: Int32(columns.count))]
        for column in columns {
            let repetition: Repetition = column.nullable ? .optional : .required
            switch column.kind {
            case .stringList:
                elements.append(SchemaElement(repetition: repetition, name: column.name, numChildren: 1, convertedType: ConvertedType.list, logicalType: .list))
                elements.append(SchemaElement(repetition: .repeated, name: "list", numChildren: 1))
                elements.append(
                    SchemaElement(type: .byteArray, repetition: .required, name: "element", convertedType: ConvertedType.utf8, logicalType: .string))
            case .string:
                elements.append(
                    SchemaElement(type: .byteArray, repetition: repetition, name: column.name, convertedType: ConvertedType.utf8, logicalType: .string))
            case .timestamp:
                elements.append(
                    SchemaElement(
                        type: .int64, repetition: repetition, name: column.name, convertedType: ConvertedType.timestampMillis,
                        logicalType: .timestamp(utc: true, unit: .millis)))
            case .int64:
                elements.append(SchemaElement(type: .int64, repetition: repetition, name: column.name))
            case .double:
                elements.append(SchemaElement(type: .double, repetition: repetition, name: column.name))
            default:
                elements.append(SchemaElement(type: .boolean, repetition: repetition, name: column.name))
            }
        }
        return elements
    }
}
