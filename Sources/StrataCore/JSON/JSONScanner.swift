import Foundation

/// A byte-level JSON tokenizer over a borrowed buffer.
///
/// Ingestion parses hundreds of thousands of events a second, so this scanner never builds
/// intermediate objects: it hands out byte ranges of strings that need no unescaping and
/// decodes escapes only when present. It validates UTF-8 and limits nesting depth, so hostile
/// input is an error, never a crash or a stack overflow. The caller keeps the buffer alive.
public struct JSONScanner {
    public let bytes: UnsafeRawBufferPointer
    public private(set) var position: Int
    /// Deepest nesting `skipValue` accepts.
    public var maxDepth = 64

    public init(_ bytes: UnsafeRawBufferPointer, position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    public var isAtEnd: Bool { position >= bytes.count }

    /// The next non-whitespace byte, without consuming it.
    public mutating func peekToken() -> UInt8? {
        skipWhitespace()
        return position < bytes.count ? bytes[position] : nil
    }

    public mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    /// Consumes `byte` (after whitespace) or throws.
    public mutating func expect(_ byte: UInt8) throws(JSONScanError) {
        skipWhitespace()
        guard position < bytes.count else { throw error("unexpected end of input, expected '\(Character(Unicode.Scalar(byte)))'") }
        guard bytes[position] == byte else {
            throw error("expected '\(Character(Unicode.Scalar(byte)))', found \(describe(bytes[position]))")
        }
        position += 1
    }

    /// Consumes `byte` if it is next (after whitespace).
    public mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        if position < bytes.count && bytes[position] == byte {
            position += 1
            return true
        }
        return false
    }

    /// Reads a string token. Strings without escapes come back as a range into the buffer.
    public mutating func readString() throws(JSONScanError) -> JSONStringToken {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
            throw error(position < bytes.count ? "expected a string, found \(describe(bytes[position]))" : "unexpected end of input, expected a string")
        }
        position += 1
        let start = position
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                return .raw(start..<(position - 1))
            }
            if byte == UInt8(ascii: "\\") {
                return .decoded(try readEscapedString(from: start))
            }
            if byte < 0x20 { throw error("control character in string") }
            if byte < 0x80 {
                position += 1
            } else {
                try skipUTF8Sequence()
            }
        }
        throw error("unterminated string")
    }

    /// Reads a number token as an exact integer when it has no fraction or exponent and fits.
    public mutating func readNumber() throws(JSONScanError) -> JSONNumber {
        skipWhitespace()
        let start = position
        var negative = false
        if position < bytes.count && bytes[position] == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        let digitsStart = position
        var magnitude: UInt64 = 0
        var overflow = false
        while position < bytes.count, case let digit = bytes[position] &- 0x30, digit < 10 {
            let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(digit))
            overflow = overflow || o1 || o2
            magnitude = sum
            position += 1
        }
        let digitCount = position - digitsStart
        guard digitCount > 0 else { throw error("invalid number") }
        if digitCount > 1 && bytes[digitsStart] == UInt8(ascii: "0") { throw error("leading zero in number") }
        var isInteger = true
        if position < bytes.count && bytes[position] == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            let fractionStart = position
            while position < bytes.count, bytes[position] &- 0x30 < 10 { position += 1 }
            if position == fractionStart { throw error("invalid number: digits expected after '.'") }
        }
        if position < bytes.count && (bytes[position] | 0x20) == UInt8(ascii: "e") {
            isInteger = false
            position += 1
            if position < bytes.count && (bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-")) { position += 1 }
            let exponentStart = position
            while position < bytes.count, bytes[position] &- 0x30 < 10 { position += 1 }
            if position == exponentStart { throw error("invalid number: digits expected in exponent") }
        }
        if isInteger && !overflow {
            if negative {
                if magnitude <= UInt64(Int64.max) + 1 { return .int(magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)) }
            } else if magnitude <= UInt64(Int64.max) {
                return .int(Int64(magnitude))
            }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else { throw error("number out of range") }
        return .double(value)
    }

    /// Reads `true`, `false` or `null`.
    public mutating func readLiteral() throws(JSONScanError) -> JSONLiteral {
        skipWhitespace()
        if matches("true") {
            position += 4
            return .true
        }
        if matches("false") {
            position += 5
            return .false
        }
        if matches("null") {
            position += 4
            return .null
        }
        throw error(position < bytes.count ? "unexpected \(describe(bytes[position]))" : "unexpected end of input")
    }

    /// Skips one value of any kind and returns the byte range it spans.
    @discardableResult
    public mutating func skipValue() throws(JSONScanError) -> Range<Int> {
        skipWhitespace()
        let start = position
        try skipValue(depth: 0)
        return start..<position
    }

    private mutating func skipValue(depth: Int) throws(JSONScanError) {
        guard depth < maxDepth else { throw error("nesting deeper than \(maxDepth) levels") }
        guard let token = peekToken() else { throw error("unexpected end of input, expected a value") }
        switch token {
        case UInt8(ascii: "\""): _ = try readString()
        case UInt8(ascii: "{"):
            position += 1
            if consume(UInt8(ascii: "}")) { return }
            repeat {
                _ = try readString()
                try expect(UInt8(ascii: ":"))
                try skipValue(depth: depth + 1)
            } while consume(UInt8(ascii: ","))
            try expect(UInt8(ascii: "}"))
        case UInt8(ascii: "["):
            position += 1
            if consume(UInt8(ascii: "]")) { return }
            repeat { try skipValue(depth: depth + 1) } while consume(UInt8(ascii: ","))
            try expect(UInt8(ascii: "]"))
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try readNumber()
        default: _ = try readLiteral()
        }
    }

    /// The bytes of a string token, decoded.
    public func stringBytes(_ token: JSONStringToken) -> UnsafeRawBufferPointer? {
        if case .raw(let range) = token { return UnsafeRawBufferPointer(rebasing: bytes[range]) }
        return nil
    }

    /// A string token as a Swift String.
    public func string(_ token: JSONStringToken) -> String {
        switch token {
        case .raw(let range): String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        case .decoded(let decoded): String(decoding: decoded, as: UTF8.self)
        }
    }

    /// Whether a string token equals an ASCII key.
    public func token(_ token: JSONStringToken, equals key: StaticString) -> Bool {
        switch token {
        case .raw(let range):
            guard range.count == key.utf8CodeUnitCount else { return false }
            let keyBytes = UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
            return memcmp(bytes.baseAddress! + range.lowerBound, keyBytes.baseAddress!, range.count) == 0
        case .decoded(let decoded):
            return decoded.elementsEqual(UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
        }
    }

    public func error(_ message: String) -> JSONScanError {
        JSONScanError(offset: position, message: message)
    }

    // MARK: - Internals

    private func matches(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        return memcmp(bytes.baseAddress! + position, literal.utf8Start, count) == 0
    }

    private func describe(_ byte: UInt8) -> String {
        byte >= 0x20 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : String(format: "byte 0x%02X", byte)
    }

    /// Validates one multi-byte UTF-8 sequence at `position` and steps over it.
    private mutating func skipUTF8Sequence() throws(JSONScanError) {
        let lead = bytes[position]
        let length: Int
        var minimum: UInt32
        switch lead {
        case 0xC2...0xDF:
            length = 2
            minimum = 0x80
        case 0xE0...0xEF:
            length = 3
            minimum = 0x800
        case 0xF0...0xF4:
            length = 4
            minimum = 0x10000
        default: throw error("invalid UTF-8")
        }
        guard position + length <= bytes.count else { throw error("truncated UTF-8 sequence") }
        var scalar = UInt32(lead) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
        for index in 1..<length {
            let continuation = bytes[position + index]
            guard continuation & 0xC0 == 0x80 else { throw error("invalid UTF-8") }
            scalar = scalar << 6 | UInt32(continuation & 0x3F)
        }
        minimum = max(minimum, 0)
        guard scalar >= minimum, scalar <= 0x10FFFF, !(0xD800...0xDFFF).contains(scalar) else { throw error("invalid UTF-8") }
        position += length
    }

    private mutating func readEscapedString(from start: Int) throws(JSONScanError) -> [UInt8] {
        var output = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[start..<position]))
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return output
            case UInt8(ascii: "\\"):
                position += 1
                guard position < bytes.count else { throw error("unterminated escape") }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(escape)
                case UInt8(ascii: "b"): output.append(0x08)
                case UInt8(ascii: "f"): output.append(0x0C)
                case UInt8(ascii: "n"): output.append(0x0A)
                case UInt8(ascii: "r"): output.append(0x0D)
                case UInt8(ascii: "t"): output.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try readHex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard matches("\\u") else { throw error("unpaired surrogate in \\u escape") }
                        position += 2
                        let low = try readHex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw error("unpaired surrogate in \\u escape") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw error("unpaired surrogate in \\u escape")
                    }
                    output.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
                default: throw error("invalid escape '\\\(Character(Unicode.Scalar(escape)))'")
                }
            default:
                if byte < 0x20 { throw error("control character in string") }
                if byte < 0x80 {
                    output.append(byte)
                    position += 1
                } else {
                    let sequenceStart = position
                    try skipUTF8Sequence()
                    output.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[sequenceStart..<position]))
                }
            }
        }
        throw error("unterminated string")
    }

    private mutating func readHex4() throws(JSONScanError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw error("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("invalid hex digit in \\u escape")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }
}

/// A string token: a range of the scanned buffer when it needed no unescaping.
public enum JSONStringToken {
    case raw(Range<Int>)
    case decoded([UInt8])

    public var byteCount: Int {
        switch self {
        case .raw(let range): range.count
        case .decoded(let bytes): bytes.count
        }
    }
}

public enum JSONNumber: Sendable, Equatable {
    case int(Int64)
    case double(Double)
}

public enum JSONLiteral: Sendable {
    case `true`, `false`, null
}

/// Malformed JSON, with the byte offset where scanning stopped.
public struct JSONScanError: Error, Sendable, CustomStringConvertible {
    public var offset: Int
    public var message: String
    public var description: String { "malformed JSON at byte \(offset): \(message)" }
}
