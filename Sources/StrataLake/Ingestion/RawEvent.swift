import StrataCore

/// One member of an incoming event before validation, borrowed from the request body where
/// possible (JSON) or owned (Protobuf, typed events).
struct RawMember {
    var key: RawText
    var value: RawValue
    /// Where the value's JSON text lies in the body, to keep undeclared fields verbatim.
    var source: Range<Int>?
}

/// A value as the wire format gave it; the validator decides if it fits the declared type.
enum RawValue {
    case text(RawText)
    case integer(Int64)
    case number(Double)
    case boolean(Bool)
    case null
    /// A JSON array, validated element by element only when a string list is expected.
    case array(Range<Int>)
    case object(Range<Int>)
    case textList([RawText])
    case timestampMillis(Int64)
    /// Pre-rendered JSON text (undeclared fields from non-JSON sources).
    case json([UInt8])

    var kindDescription: String {
        switch self {
        case .text: "a string"
        case .integer: "an integer"
        case .number: "a number"
        case .boolean: "a boolean"
        case .null: "null"
        case .array, .textList: "an array"
        case .object: "an object"
        case .timestampMillis: "a timestamp"
        case .json: "JSON"
        }
    }
}

/// Bytes of a string: a range of the request body, or of the scratch buffer that holds
/// strings which needed unescaping (and every string of non-JSON sources).
enum RawText {
    case body(Range<Int>)
    case scratch(Range<Int>)

    /// Moves a scanned token into a `RawText`, copying decoded bytes into `scratch`.
    static func from(_ token: JSONStringToken, scratch: inout [UInt8]) -> RawText {
        switch token {
        case .raw(let range): return .body(range)
        case .decoded(let bytes):
            let start = scratch.count
            scratch += bytes
            return .scratch(start..<scratch.count)
        }
    }

    /// Stores owned text in `scratch`.
    static func owned(_ text: String, scratch: inout [UInt8]) -> RawText {
        let start = scratch.count
        scratch += text.utf8
        return .scratch(start..<scratch.count)
    }
}

/// The two buffers a raw event's text lives in.
struct RawBuffers {
    var body: UnsafeRawBufferPointer
    var scratch: UnsafeRawBufferPointer

    @inline(__always)
    func bytes(_ text: RawText) -> UnsafeRawBufferPointer {
        switch text {
        case .body(let range): UnsafeRawBufferPointer(rebasing: body[range])
        case .scratch(let range): UnsafeRawBufferPointer(rebasing: scratch[range])
        }
    }
}

/// Why one event of a request was not accepted.
public struct Rejection: Sendable, Equatable {
    /// Position of the event in its batch (0-based; blank NDJSON lines are not counted).
    public var index: Int
    /// The field at fault, when one is.
    public var field: String?
    /// Stable code, e.g. `missing_field`, `wrong_type`, `unknown_event_type`.
    public var code: String
    /// What is wrong and how to fix it.
    public var message: String

    public init(index: Int, field: String?, code: String, message: String) {
        self.index = index
        self.field = field
        self.code = code
        self.message = message
    }

    public var json: JSONValue {
        var object: [String: JSONValue] = ["index": .int(index), "code": .string(code), "message": .string(message)]
        if let field { object["field"] = .string(field) }
        return .object(object)
    }
}

/// A field-level failure inside the validator, before it knows the event's index.
struct FieldFailure: Error {
    var field: String?
    var code: String
    var message: String
}

/// Members of one JSON object scanned into `members` (cleared first).
enum JSONObjectScanner {
    static func scan(_ scanner: inout JSONScanner, into members: inout [RawMember], scratch: inout [UInt8]) throws(JSONScanError) {
        members.removeAll(keepingCapacity: true)
        scratch.removeAll(keepingCapacity: true)
        try scanner.expect(UInt8(ascii: "{"))
        if scanner.consume(UInt8(ascii: "}")) { return }
        repeat {
            let key = RawText.from(try scanner.readString(), scratch: &scratch)
            try scanner.expect(UInt8(ascii: ":"))
            guard let token = scanner.peekToken() else { throw scanner.error("unexpected end of input, expected a value") }
            let start = scanner.position
            let value: RawValue
            switch token {
            case UInt8(ascii: "\""): value = .text(RawText.from(try scanner.readString(), scratch: &scratch))
            case UInt8(ascii: "["): value = .array(try scanner.skipValue())
            case UInt8(ascii: "{"): value = .object(try scanner.skipValue())
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                switch try scanner.readNumber() {
                case .int(let v): value = .integer(v)
                case .double(let v): value = .number(v)
                }
            default:
                switch try scanner.readLiteral() {
                case .true: value = .boolean(true)
                case .false: value = .boolean(false)
                case .null: value = .null
                }
            }
            members.append(RawMember(key: key, value: value, source: start..<scanner.position))
        } while scanner.consume(UInt8(ascii: ","))
        try scanner.expect(UInt8(ascii: "}"))
    }
}
