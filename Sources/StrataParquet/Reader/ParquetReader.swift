/// Reads Parquet files: Strata's own lake files and files with the same shape written by other
/// tools (pyarrow, DuckDB, Spark): V1 and V2 data pages; PLAIN, dictionary, RLE, delta and
/// byte-stream-split encodings; uncompressed, Snappy, gzip and ZSTD pages.
///
/// Every offset and length in the file is checked before use, so a damaged or hostile file is a
/// `ParquetError`, never a crash.
public struct ParquetReader: Sendable {
    private let bytes: [UInt8]
    private let metadata: FileMetaData
    private let resolved: [ResolvedColumn]

    /// Rows in the file.
    public var rowCount: Int { Int(metadata.numRows) }
    /// Top-level columns, in file order.
    public var columns: [ColumnInfo] { resolved.map(\.info) }
    /// The footer's key-value metadata.
    public var keyValueMetadata: [String: String] {
        Dictionary(metadata.keyValueMetadata.map { ($0.key, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
    }
    public var createdBy: String? { metadata.createdBy }
    public var rowGroupCount: Int { metadata.rowGroups.count }

    public init(bytes: [UInt8]) throws(ParquetError) {
        guard bytes.count >= 12 else { throw .corrupt("file is \(bytes.count) bytes, too short for Parquet") }
        let magic: [UInt8] = Array("PAR1".utf8)
        guard Array(bytes[0..<4]) == magic, Array(bytes[(bytes.count - 4)...]) == magic else {
            throw .corrupt("missing PAR1 magic (encrypted footers are not supported)")
        }
        let footerLength = Int(
            UInt32(bytes[bytes.count - 8]) | UInt32(bytes[bytes.count - 7]) << 8 | UInt32(bytes[bytes.count - 6]) << 16 | UInt32(bytes[bytes.count - 5]) << 24)
        guard footerLength > 0, footerLength <= bytes.count - 12 else { throw .corrupt("footer length \(footerLength) does not fit the file") }
        let footerStart = bytes.count - 8 - footerLength
        let metadata = try bytes.withBytes { (buffer) throws(ParquetError) -> FileMetaData in
            var reader = ThriftCompactReader(UnsafeRawBufferPointer(rebasing: buffer[footerStart..<(bytes.count - 8)]))
            return try FileMetaData.decode(&reader)
        }
        guard metadata.numRows >= 0 else { throw .corrupt("negative row count") }
        let total = metadata.rowGroups.reduce(Int64(0)) { $0 + $1.numRows }
        guard total == metadata.numRows else { throw .corrupt("row groups hold \(total) rows, the footer says \(metadata.numRows)") }
        self.bytes = bytes
        self.metadata = metadata
        self.resolved = try ParquetSchema.resolve(metadata.schema)
    }

    /// The values of a top-level column across all row groups.
    public func read(column name: String) throws(ParquetError) -> ColumnValues {
        guard let column = resolved.first(where: { $0.info.name == name }) else {
            throw .invalidArgument("no column '\(name)' (columns: \(resolved.map(\.info.name).joined(separator: ", ")))")
        }
        if case .unsupported(let why) = column.info.kind { throw .unsupported("column '\(name)': \(why)") }
        var definition: [UInt32] = []
        var repetition: [UInt32] = []
        var values = PrimitiveValues.empty(column.physicalType)
        for group in metadata.rowGroups {
            guard let chunk = group.columns.first(where: { $0.metaData?.pathInSchema == column.leafPath })?.metaData else {
                throw .corrupt("row group lacks column '\(column.leafPath.joined(separator: "."))'")
            }
            let levelsBefore = definition.count
            try ColumnChunkReader(file: bytes, column: column, chunk: chunk).read(definition: &definition, repetition: &repetition, values: &values)
            let rows = column.maxRepetition == 0 ? definition.count - levelsBefore : repetition[levelsBefore...].filter { $0 == 0 }.count
            guard rows == Int(group.numRows) else { throw .corrupt("column '\(name)' has \(rows) rows in a row group of \(group.numRows)") }
        }
        return try ColumnAssembly.assemble(column, definition: definition, repetition: repetition, values: values)
    }
}
