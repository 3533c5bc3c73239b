/// Why a Parquet file could not be read or written.
public enum ParquetError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The bytes are not a well-formed Parquet file.
    case corrupt(String)
    /// Well-formed, but uses a feature this reader does not implement (named in the message).
    case unsupported(String)
    /// A caller asked for something the file does not have, or passed inconsistent columns.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .corrupt(let message): "corrupt Parquet file: \(message)"
        case .unsupported(let message): "unsupported Parquet feature: \(message)"
        case .invalidArgument(let message): "invalid Parquet request: \(message)"
        }
    }
}
