import Foundation

/// A JSON document as a value, for API bodies, manifests and dead letters.
///
/// Serialization is canonical (object keys sorted, no insignificant whitespace, shortest
/// round-tripping numbers), so a value's bytes — and so its SHA-256 — depend only on its content.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses one JSON document; trailing content other than whitespace is an error.
    public static func parse(_ text: String) throws(JSONScanError) -> JSONValue {
        try parse(bytes: Array(text.utf8))
    }

    public static func parse<Bytes: Collection>(bytes: Bytes) throws(JSONScanError) -> JSONValue where Bytes.Element == UInt8 {
        let array = Array(bytes)
        var result: Result<JSONValue, JSONScanError>?
        array.withUnsafeBytes { buffer in result = Result { () throws(JSONScanError) in try parse(buffer) } }
        return try result!.get()
    }

    public static func parse(_ buffer: UnsafeRawBufferPointer) throws(JSONScanError) -> JSONValue {
        var scanner = JSONScanner(buffer)
        let value = try parseValue(&scanner, depth: 0)
        scanner.skipWhitespace()
        guard scanner.isAtEnd else { throw scanner.error("unexpected content after the JSON value") }
        return value
    }

    /// Parses the value at the scanner's position.
    public static func parseValue(_ scanner: inout JSONScanner, depth: Int) throws(JSONScanError) -> JSONValue {
        guard depth < scanner.maxDepth else { throw scanner.error("nesting deeper than \(scanner.maxDepth) levels") }
        guard let token = scanner.peekToken() else { throw scanner.error("unexpected end of input, expected a value") }
        switch token {
        case UInt8(ascii: "\""):
            return .string(scanner.string(try scanner.readString()))
        case UInt8(ascii: "{"):
            _ = scanner.consume(token)
            var object: [String: JSONValue] = [:]
            if scanner.consume(UInt8(ascii: "}")) { return .object(object) }
            repeat {
                let key = scanner.string(try scanner.readString())
                try scanner.expect(UInt8(ascii: ":"))
                object[key] = try parseValue(&scanner, depth: depth + 1)
            } while scanner.consume(UInt8(ascii: ","))
            try scanner.expect(UInt8(ascii: "}"))
            return .object(object)
        case UInt8(ascii: "["):
            _ = scanner.consume(token)
            var array: [JSONValue] = []
            if scanner.consume(UInt8(ascii: "]")) { return .array(array) }
            repeat { array.append(try parseValue(&scanner, depth: depth + 1)) } while scanner.consume(UInt8(ascii: ","))
            try scanner.expect(UInt8(ascii: "]"))
            return .array(array)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            switch try scanner.readNumber() {
            case .int(let value): return .int(value)
            case .double(let value): return .double(value)
            }
        default:
            switch try scanner.readLiteral() {
            case .true: return .bool(true)
            case .false: return .bool(false)
            case .null: return .null
            }
        }
    }

    // MARK: - Accessors

    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { object[key] } else { nil }
    }

    public var stringValue: String? { if case .string(let v) = self { v } else { nil } }
    public var boolValue: Bool? { if case .bool(let v) = self { v } else { nil } }
    public var intValue: Int64? {
        switch self {
        case .int(let v): v
        case .double(let v) where v == v.rounded() && abs(v) < 9.0e15: Int64(v)
        default: nil
        }
    }
    public var doubleValue: Double? {
        switch self {
        case .int(let v): Double(v)
        case .double(let v): v
        default: nil
        }
    }
    public var arrayValue: [JSONValue]? { if case .array(let v) = self { v } else { nil } }
    public var objectValue: [String: JSONValue]? { if case .object(let v) = self { v } else { nil } }

    // MARK: - Serialization

    /// Canonical compact JSON text.
    public var serialized: String {
        var output = ""
        write(to: &output, pretty: false, indent: 0)
        return output
    }

    /// Indented JSON text for people (keys still sorted).
    public var prettySerialized: String {
        var output = ""
        write(to: &output, pretty: true, indent: 0)
        return output
    }

    public var serializedBytes: [UInt8] { Array(serialized.utf8) }

    private func write(to output: inout String, pretty: Bool, indent: Int) {
        switch self {
        case .null: output += "null"
        case .bool(let v): output += v ? "true" : "false"
        case .int(let v): output += String(v)
        case .double(let v): output += JSONValue.format(v)
        case .string(let v): JSONValue.writeQuoted(v, to: &output)
        case .array(let values):
            if values.isEmpty {
                output += "[]"
                return
            }
            output += "["
            for (index, value) in values.enumerated() {
                if index > 0 { output += "," }
                if pretty { output += "\n" + String(repeating: "  ", count: indent + 1) }
                value.write(to: &output, pretty: pretty, indent: indent + 1)
            }
            if pretty { output += "\n" + String(repeating: "  ", count: indent) }
            output += "]"
        case .object(let object):
            if object.isEmpty {
                output += "{}"
                return
            }
            output += "{"
            for (index, key) in object.keys.sorted().enumerated() {
                if index > 0 { output += "," }
                if pretty { output += "\n" + String(repeating: "  ", count: indent + 1) }
                JSONValue.writeQuoted(key, to: &output)
                output += pretty ? ": " : ":"
                object[key]!.write(to: &output, pretty: pretty, indent: indent + 1)
            }
            if pretty { output += "\n" + String(repeating: "  ", count: indent) }
            output += "}"
        }
    }

    /// Shortest text that reads back as the same Double; integral values keep a ".0".
    public static func format(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        return "\(value)"
    }

    /// Appends `text` as a JSON string literal.
    public static func writeQuoted(_ text: String, to output: inout String) {
        output += "\""
        var needsEscaping = false
        for byte in text.utf8 where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            needsEscaping = true
            break
        }
        if !needsEscaping {
            output += text
        } else {
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": output += "\\\""
                case "\\": output += "\\\\"
                case "\n": output += "\\n"
                case "\r": output += "\\r"
                case "\t": output += "\\t"
                case let s where s.value < 0x20: output += String(format: "\\u%04x", s.value)
                default: output.unicodeScalars.append(scalar)
                }
            }
        }
        output += "\""
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByFloatLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension JSONValue {
    /// Wraps an optional string as JSON, nil as null.
    public static func optional(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }
    public static func int(_ value: Int) -> JSONValue { .int(Int64(value)) }
}
