import StrataParquet

extension FuzzTarget {
    /// The Parquet reader the lake, snapshots and imports go through: footer (Thrift compact),
    /// schema, page headers, encodings and decompression. The input is the whole file.
    static let parquetReader = FuzzTarget(name: "parquet", summary: "Parquet files through ParquetReader (footer, pages, encodings, codecs)") { input in
        let reader: ParquetReader
        do {
            reader = try ParquetReader(bytes: Array(input))
        } catch {
            return
        }
        for column in reader.columns {
            guard let values = try? reader.read(column: column.name) else { continue }
            require(values.count == reader.rowCount, "column \(column.name) has \(values.count) values for \(reader.rowCount) rows")
        }
    }
}
