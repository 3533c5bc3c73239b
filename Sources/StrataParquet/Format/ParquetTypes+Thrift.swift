// Thrift field ids follow parquet-format's parquet.thrift.

extension FileMetaData {
    func encode(into w: inout ThriftCompactWriter) {
        w.beginStruct()
        w.field(1, i32: version)
        w.beginListField(2, elementType: .struct, count: schema.count)
        for element in schema { element.encode(into: &w) }
        w.field(3, i64: numRows)
        w.beginListField(4, elementType: .struct, count: rowGroups.count)
        for group in rowGroups { group.encode(into: &w) }
        if !keyValueMetadata.isEmpty {
            w.beginListField(5, elementType: .struct, count: keyValueMetadata.count)
            for kv in keyValueMetadata {
                w.beginStruct()
                w.field(1, string: kv.key)
                if let value = kv.value { w.field(2, string: value) }
                w.endStruct()
            }
        }
        if let createdBy { w.field(6, string: createdBy) }
        // column_orders: TYPE_ORDER for every leaf, so readers trust min/max statistics.
        let leafCount = schema.filter { $0.numChildren == nil }.count
        w.beginListField(7, elementType: .struct, count: leafCount)
        for _ in 0..<leafCount {
            w.beginStruct()
            w.emptyStructField(1)
            w.endStruct()
        }
        w.endStruct()
    }

    static func decode(_ r: inout ThriftCompactReader) throws(ParquetError) -> FileMetaData {
        var meta = FileMetaData(version: 1, schema: [], numRows: 0, rowGroups: [], keyValueMetadata: [], createdBy: nil)
        var seen = Set<Int16>()
        try r.readStruct { (r: inout ThriftCompactReader, id, type) throws(ParquetError) in
            seen.insert(id)
            switch (id, type) {
            case (1, .i32): meta.version = try r.readI32()
            case (2, .list): meta.schema = try r.readList { (r: inout ThriftCompactReader) throws(ParquetError) in try SchemaElement.decode(&r) }
            case (3, .i64): meta.numRows = try r.readI64()
            case (4, .list): meta.rowGroups = try r.readList { (r: inout ThriftCompactReader) throws(ParquetError) in try RowGroup.decode(&r) }
            case (5, .list): meta.keyValueMetadata = try r.readList { (r: inout ThriftCompactReader) throws(ParquetError) in try KeyValue.decode(&r) }
            case (6, .binary): meta.createdBy = try r.readString()
            default: try r.skip(type)
            }
        }
        guard seen.contains(2), seen.contains(3), seen.contains(4) else { throw .corrupt("file metadata lacks schema, num_rows or row_groups") }
        return meta
    }
}

extension KeyValue {
    static func decode(_ r: inout ThriftCompactReader) throws(ParquetError) -> KeyValue {
        var kv = KeyValue(key: "", value: nil)
        try r.readStruct { (r: inout ThriftCompactReader, id, type) throws(ParquetError) in
            switch (id, type) {
            case (1, .binary): kv.key = try r.readString()
            case (2, .binary): kv.value = try r.readString()
            default: try r.skip(type)
            }
        }
        return kv
    }
}

extension SchemaElement {
    func encode(into w: inout ThriftCompactWriter) {
        w.beginStruct()
        if let type { w.field(1, i32: type.rawValue) }
        if let typeLength { w.field(2, i32: typeLength) }
        if let repetition { w.field(3, i32: repetition.rawValue) }
        w.field(4, string: name)
        if let numChildren { w.field(5, i32: numChildren) }
        if let convertedType { w.field(6, i32: convertedType) }
        if let logicalType {
            w.beginStructField(10)
            switch logicalType {
            case .string: w.emptyStructField(1)
            case .list: w.emptyStructField(3)
            case .enumeration: w.emptyStructField(4)
            case .date: w.emptyStructField(6)
            case .json: w.emptyStructField(12)
            case .timestamp(let utc, let unit):
                w.beginStructField(8)
                w.field(1, bool: utc)
                w.beginStructField(2)
                w.emptyStructField(unit == .millis ? 1 : unit == .micros ? 2 : 3)
                w.endStruct()
                w.endStruct()
            case .other: break
            }
            w.endStruct()
        }
        w.endStruct()
    }

    static func decode(_ r: inout ThriftCompactReader) throws(ParquetError) -> SchemaElement {
        var element = SchemaElement(name: "")
        try r.readStruct { (r: inout ThriftCompactReader, id, type) throws(ParquetError) in
            switch (id, type) {
            case (1, .i32):
                let raw = try r.readI32()
                guard let physical = PhysicalType(rawValue: raw) else { throw .corrupt("unknown physical type \(raw)") }
                element.type = physical
            case (2, .i32): element.typeLength = try r.readI32()
            case (3, .i32):
                let raw = try r.readI32()
                guard let repetition = Repetition(rawValue: raw) else { throw .corrupt("unknown repetition \(raw)") }
                element.repetition = repetition
            case (4, .binary): element.name = try r.readString()
            case (5, .i32): element.numChildren = try r.readI32()
            case (6, .i32): element.convertedType = try r.readI32()
            case (10, .struct): element.logicalType = try decodeLogicalType(&r)
            default: try r.skip(type)
            }
        }
        return element
    }

    private static func decodeLogicalType(_ r: inout ThriftCompactReader) throws(ParquetError) -> LogicalType {
        var result = LogicalType.other
        try r.readStruct { (r: inout ThriftCompactReader, id, type) throws(ParquetError) in
            switch (id, type) {
            case (1, .struct):
                result = .string
                try r.skip(type)
            case (3, .struct):
                result = .list
                try r.skip(type)
            case (4, .struct):
                result = .enumeration
                try r.skip(type)
            case (6, .struct):
                result = .date
                try r.skip(type)
            case (12, .struct):
                result = .json
                try r.skip(type)
            case (8, .struct):
                var utc = true
                var unit = TimeUnit.millis
                try r.readStruct { (r: inout ThriftCompactReader, id, type) throws(ParquetError) in
                    switch (id, type) {
                    case (1, .booleanTrue), (1, .booleanFalse): utc = try r.readBool()
                    case (2, .struct):
                        try r.readStruct { (r: inout ThriftCompactReader, id, type) throws(ParquetError) in
                            unit = id == 1 ? .millis : id == 2 ? .micros : .nanos
                            try r.skip(type)
                        }
                    default: try r.skip(type)
                    }
                }
                result = .timestamp(utc: utc, unit: unit)
            default: try r.skip(type)
            }
        }
        return result
    }
}

extension RowGroup {
    func encode(into w: inout ThriftCompactWriter) {
        w.beginStruct()
        w.beginListField(1, elementType: .struct, count: columns.count)
        for column in columns { column.encode(into: &w) }
        w.field(2, i64: totalByteSize)
        w.field(3, i64: numRows)
        w.endStruct()
    }

    static func decode(_ r: inout ThriftCompactReader) throws(ParquetError) -> RowGroup {
        var group = RowGroup(columns: [], totalByteSize: 0, numRows: 0)
        try r.readStruct { (r: inout ThriftCompactReader, id, type) throws(ParquetError) in
            switch (id, type) {
            case (1, .list): group.columns = try r.readList { (r: inout ThriftCompactReader) throws(ParquetError) in try ColumnChunk.decode(&r) }
            case (2, .i64): group.totalByteSize = try r.readI64()
            case (3, .i64): group.numRows = try r.readI64()
            default: try r.skip(type)
            }
        }
        return group
    }
}

extension ColumnChunk {
    func encode(into w: inout ThriftCompactWriter) {
        w.beginStruct()
        w.field(2, i64: fileOffset)
        if let metaData {
            w.beginStructField(3)
            metaData.encodeFields(into: &w)
            w.endStruct()
        }
        w.endStruct()
    }

    static func decode(_ r: inout ThriftCompactReader) throws(ParquetError) -> ColumnChunk {
        var chunk = ColumnChunk(fileOffset: 0, metaData: nil)
        try r.readStruct { (r: inout ThriftCompactReader, id, type) throws(ParquetError) in
            switch (id, type) {
            case (1, .binary): throw .unsupported("column chunks in external files (file_path)")
            case (2, .i64): chunk.fileOffset = try r.readI64()
            case (3, .struct): chunk.metaData = try ColumnMetaData.decode(&r)
            default: try r.skip(type)
            }
        }
        return chunk
    }
}

extension ColumnMetaData {
    func encodeFields(into w: inout ThriftCompactWriter) {
        w.field(1, i32: type.rawValue)
        w.beginListField(2, elementType: .i32, count: encodings.count)
        for encoding in encodings { w.element(i32: encoding) }
        w.beginListField(3, elementType: .binary, count: pathInSchema.count)
        for part in pathInSchema { w.element(string: part) }
        w.field(4, i32: codec.rawValue)
        w.field(5, i64: numValues)
        w.field(6, i64: totalUncompressedSize)
        w.field(7, i64: totalCompressedSize)
        w.field(9, i64: dataPageOffset)
        if let dictionaryPageOffset { w.field(11, i64: dictionaryPageOffset) }
        if let statistics {
            w.beginStructField(12)
            statistics.encodeFields(into: &w)
            w.endStruct()
        }
    }

    static func decode(_ r: inout ThriftCompactReader) throws(ParquetError) -> ColumnMetaData {
        var meta = ColumnMetaData(
            type: .int32, encodings: [], pathInSchema: [], codec: .uncompressed, numValues: 0, totalUncompressedSize: 0,
            totalCompressedSize: 0, dataPageOffset: 0, dictionaryPageOffset: nil, statistics: nil)
        try r.readStruct { (r: inout ThriftCompactReader, id, type) throws(ParquetError) in
            switch (id, type) {
            case (1, .i32):
                let raw = try r.readI32()
                guard let physical = PhysicalType(rawValue: raw) else { throw .corrupt("unknown physical type \(raw)") }
                meta.type = physical
            case (2, .list): meta.encodings = try r.readList { (r: inout ThriftCompactReader) throws(ParquetError) in try r.readI32() }
            case (3, .list): meta.pathInSchema = try r.readList { (r: inout ThriftCompactReader) throws(ParquetError) in try r.readString() }
            case (4, .i32):
                let raw = try r.readI32()
                guard let codec = CompressionCodec(rawValue: raw) else { throw .unsupported("compression codec \(raw)") }
                meta.codec = codec
            case (5, .i64): meta.numValues = try r.readI64()
            case (6, .i64): meta.totalUncompressedSize = try r.readI64()
            case (7, .i64): meta.totalCompressedSize = try r.readI64()
            case (9, .i64): meta.dataPageOffset = try r.readI64()
            case (11, .i64): meta.dictionaryPageOffset = try r.readI64()
            case (12, .struct): meta.statistics = try Statistics.decode(&r)
            default: try r.skip(type)
            }
        }
        return meta
    }
}

extension Statistics {
    func encodeFields(into w: inout ThriftCompactWriter) {
        if let nullCount { w.field(3, i64: nullCount) }
        if let maxValue { w.field(5, binary: maxValue) }
        if let minValue { w.field(6, binary: minValue) }
    }

    static func decode(_ r: inout ThriftCompactReader) throws(ParquetError) -> Statistics {
        var stats = Statistics()
        try r.readStruct { (r: inout ThriftCompactReader, id, type) throws(ParquetError) in
            switch (id, type) {
            case (3, .i64): stats.nullCount = try r.readI64()
            case (5, .binary): stats.maxValue = try r.readBinary()
            case (6, .binary): stats.minValue = try r.readBinary()
            default: try r.skip(type)
            }
        }
        return stats
    }
}

extension PageHeader {
    func encode(into w: inout ThriftCompactWriter) {
        w.beginStruct()
        w.field(1, i32: (type ?? .dataPage).rawValue)
        w.field(2, i32: uncompressedPageSize)
        w.field(3, i32: compressedPageSize)
        if let page = dataPage {
            w.beginStructField(5)
            w.field(1, i32: page.numValues)
            w.field(2, i32: page.encoding.rawValue)
            w.field(3, i32: page.definitionLevelEncoding.rawValue)
            w.field(4, i32: page.repetitionLevelEncoding.rawValue)
            w.endStruct()
        }
        if let page = dictionaryPage {
            w.beginStructField(7)
            w.field(1, i32: page.numValues)
            w.field(2, i32: page.encoding.rawValue)
            w.endStruct()
        }
        w.endStruct()
    }

    static func decode(_ r: inout ThriftCompactReader) throws(ParquetError) -> PageHeader {
        var header = PageHeader(type: nil, uncompressedPageSize: 0, compressedPageSize: 0)
        func encoding(_ r: inout ThriftCompactReader) throws(ParquetError) -> ParquetEncoding {
            let raw = try r.readI32()
            guard let encoding = ParquetEncoding(rawValue: raw) else { throw .unsupported("encoding \(raw)") }
            return encoding
        }
        try r.readStruct { (r: inout ThriftCompactReader, id, type) throws(ParquetError) in
            switch (id, type) {
            case (1, .i32): header.type = PageType(rawValue: try r.readI32())
            case (2, .i32): header.uncompressedPageSize = try r.readI32()
            case (3, .i32): header.compressedPageSize = try r.readI32()
            case (5, .struct):
                var page = DataPageHeader(numValues: 0, encoding: .plain, definitionLevelEncoding: .rle, repetitionLevelEncoding: .rle)
                try r.readStruct { (r: inout ThriftCompactReader, id, type) throws(ParquetError) in
                    switch (id, type) {
                    case (1, .i32): page.numValues = try r.readI32()
                    case (2, .i32): page.encoding = try encoding(&r)
                    case (3, .i32): page.definitionLevelEncoding = try encoding(&r)
                    case (4, .i32): page.repetitionLevelEncoding = try encoding(&r)
                    default: try r.skip(type)
                    }
                }
                header.dataPage = page
            case (7, .struct):
                var page = DictionaryPageHeader(numValues: 0, encoding: .plain)
                try r.readStruct { (r: inout ThriftCompactReader, id, type) throws(ParquetError) in
                    switch (id, type) {
                    case (1, .i32): page.numValues = try r.readI32()
                    case (2, .i32): page.encoding = try encoding(&r)
                    default: try r.skip(type)
                    }
                }
                header.dictionaryPage = page
            case (8, .struct):
                var page = DataPageHeaderV2(
                    numValues: 0, numNulls: 0, numRows: 0, encoding: .plain, definitionLevelsByteLength: 0, repetitionLevelsByteLength: 0,
                    isCompressed: true)
                try r.readStruct { (r: inout ThriftCompactReader, id, type) throws(ParquetError) in
                    switch (id, type) {
                    case (1, .i32): page.numValues = try r.readI32()
                    case (2, .i32): page.numNulls = try r.readI32()
                    case (3, .i32): page.numRows = try r.readI32()
                    case (4, .i32): page.encoding = try encoding(&r)
                    case (5, .i32): page.definitionLevelsByteLength = try r.readI32()
                    case (6, .i32): page.repetitionLevelsByteLength = try r.readI32()
                    case (7, .booleanTrue), (7, .booleanFalse): page.isCompressed = try r.readBool()
                    default: try r.skip(type)
                    }
                }
                header.dataPageV2 = page
            default: try r.skip(type)
            }
        }
        guard header.compressedPageSize >= 0, header.uncompressedPageSize >= 0 else { throw .corrupt("negative page size") }
        return header
    }
}
