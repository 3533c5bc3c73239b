import NIOCore

/// A RESP2 value (the Redis serialization protocol): what the server answers.
public enum RESPValue: Sendable, Equatable {
    case simpleString(String)
    /// An error reply (`-ERR ...`): the command failed; the connection is still usable.
    case error(String)
    case integer(Int64)
    /// A binary-safe string; nil is RESP's null bulk string (a missing key).
    case bulkString([UInt8]?)
    /// nil is RESP's null array.
    case array([RESPValue]?)

    /// The bytes of a bulk or simple string; nil for a null, an integer or an array.
    public var bytes: [UInt8]? {
        switch self {
        case .bulkString(let bytes): bytes
        case .simpleString(let text): Array(text.utf8)
        default: nil
        }
    }

    /// The value as text (bulk or simple strings, integers).
    public var string: String? {
        switch self {
        case .simpleString(let text): text
        case .bulkString(let bytes?): String(decoding: bytes, as: UTF8.self)
        case .integer(let value): String(value)
        default: nil
        }
    }

    public var integer: Int64? {
        switch self {
        case .integer(let value): value
        case .bulkString(let bytes?): Int64(String(decoding: bytes, as: UTF8.self))
        default: nil
        }
    }

    public var array: [RESPValue]? {
        if case .array(let values) = self { return values }
        return nil
    }
}

/// A command argument: text or raw bytes (values are stored as compact binary).
public enum RESPArgument: Sendable, ExpressibleByStringLiteral {
    case text(String)
    case bytes([UInt8])

    public init(stringLiteral value: String) { self = .text(value) }

    var count: Int {
        switch self {
        case .text(let text): text.utf8.count
        case .bytes(let bytes): bytes.count
        }
    }
}

/// Writes commands the way clients send them: an array of bulk strings.
enum RESPEncoder {
    static func encode(_ command: [RESPArgument], into buffer: inout ByteBuffer) {
        buffer.writeStaticString("*")
        buffer.writeString(String(command.count))
        buffer.writeStaticString("\r\n")
        for argument in command {
            buffer.writeStaticString("$")
            buffer.writeString(String(argument.count))
            buffer.writeStaticString("\r\n")
            switch argument {
            case .text(let text): buffer.writeString(text)
            case .bytes(let bytes): buffer.writeBytes(bytes)
            }
            buffer.writeStaticString("\r\n")
        }
    }
}
