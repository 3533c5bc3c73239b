/// Physical storage types of Parquet.
public enum PhysicalType: Int32, Sendable {
    case boolean = 0
    case int32 = 1
    case int64 = 2
    case int96 = 3
    case float = 4
    case double = 5
    case byteArray = 6
    case fixedLenByteArray = 7
}

/// Whether a schema node is required, optional or repeated.
public enum Repetition: Int32, Sendable {
    case required = 0
    case optional = 1
    case repeated = 2
}

/// Encodings of values and levels.
public enum ParquetEncoding: Int32, Sendable {
    case plain = 0
    case plainDictionary = 2
    case rle = 3
    case bitPacked = 4
    case deltaBinaryPacked = 5
    case deltaLengthByteArray = 6
    case deltaByteArray = 7
    case rleDictionary = 8
    case byteStreamSplit = 9
}

/// Page compression codecs.
public enum CompressionCodec: Int32, Sendable {
    case uncompressed = 0
    case snappy = 1
    case gzip = 2
    case lzo = 3
    case brotli = 4
    case lz4 = 5
    case zstd = 6
    case lz4Raw = 7
}

/// Legacy converted types (still written next to logical types for old readers).
enum ConvertedType {
    static let utf8: Int32 = 0
    static let list: Int32 = 3
    static let enumeration: Int32 = 4
    static let date: Int32 = 6
    static let timestampMillis: Int32 = 9
    static let timestampMicros: Int32 = 10
    static let json: Int32 = 19
}

/// Units of timestamp columns.
public enum TimeUnit: Sendable, Equatable {
    case millis, micros, nanos

    /// Converts a value in this unit to milliseconds (flooring).
    public func toMillis(_ value: Int64) -> Int64 {
        switch self {
        case .millis: value
        case .micros: value >= 0 ? value / 1000 : (value - 999) / 1000
        case .nanos: value >= 0 ? value / 1_000_000 : (value - 999_999) / 1_000_000
        }
    }
}

/// The logical types Strata interprets; others are read by physical type.
enum LogicalType: Equatable {
    case string
    case list
    case timestamp(utc: Bool, unit: TimeUnit)
    case date
    case json
    case enumeration
    case other
}

/// One node of the flattened schema in the footer.
struct SchemaElement {
    var type: PhysicalType?
    var typeLength: Int32?
    var repetition: Repetition?
    var name: String
    var numChildren: Int32?
    var convertedType: Int32?
    var logicalType: LogicalType?
}

struct KeyValue {
    var key: String
    var value: String?
}

struct Statistics {
    var nullCount: Int64?
    var minValue: [UInt8]?
    var maxValue: [UInt8]?
}

struct ColumnMetaData {
    var type: PhysicalType
    var encodings: [Int32]
    var pathInSchema: [String]
    var codec: CompressionCodec
    var numValues: Int64
    var totalUncompressedSize: Int64
    var totalCompressedSize: Int64
    var dataPageOffset: Int64
    var dictionaryPageOffset: Int64?
    var statistics: Statistics?
}

struct ColumnChunk {
    var fileOffset: Int64
    var metaData: ColumnMetaData?
}

struct RowGroup {
    var columns: [ColumnChunk]
    var totalByteSize: Int64
    var numRows: Int64
}

struct FileMetaData {
    var version: Int32
    var schema: [SchemaElement]
    var numRows: Int64
    var rowGroups: [RowGroup]
    var keyValueMetadata: [KeyValue]
    var createdBy: String?
}

enum PageType: Int32 {
    case dataPage = 0
    case indexPage = 1
    case dictionaryPage = 2
    case dataPageV2 = 3
}

struct DataPageHeader {
    var numValues: Int32
    var encoding: ParquetEncoding
    var definitionLevelEncoding: ParquetEncoding
    var repetitionLevelEncoding: ParquetEncoding
}

struct DictionaryPageHeader {
    var numValues: Int32
    var encoding: ParquetEncoding
}

struct DataPageHeaderV2 {
    var numValues: Int32
    var numNulls: Int32
    var numRows: Int32
    var encoding: ParquetEncoding
    var definitionLevelsByteLength: Int32
    var repetitionLevelsByteLength: Int32
    var isCompressed: Bool
}

struct PageHeader {
    var type: PageType?
    var uncompressedPageSize: Int32
    var compressedPageSize: Int32
    var dataPage: DataPageHeader?
    var dictionaryPage: DictionaryPageHeader?
    var dataPageV2: DataPageHeaderV2?
}
