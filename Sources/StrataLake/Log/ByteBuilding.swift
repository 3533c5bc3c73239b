/// Appending little-endian integers and varints to byte buffers (record payloads, frames).
extension Array where Element == UInt8 {
    @inline(__always)
    public mutating func appendVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        append(UInt8(v))
    }

    @inline(__always)
    public mutating func appendZigzag(_ value: Int64) {
        appendVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    @inline(__always)
    public mutating func appendUInt32LE(_ value: UInt32) {
        append(UInt8(truncatingIfNeeded: value))
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value >> 16))
        append(UInt8(truncatingIfNeeded: value >> 24))
    }

    @inline(__always)
    public mutating func appendInt64LE(_ value: Int64) {
        let bits = UInt64(bitPattern: value)
        for shift in stride(from: 0, to: 64, by: 8) { append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
    }

    /// Appends bytes with a varint length prefix.
    @inline(__always)
    public mutating func appendLengthPrefixed(_ bytes: UnsafeRawBufferPointer) {
        appendVarint(UInt64(bytes.count))
        append(contentsOf: bytes)
    }

    public mutating func appendLengthPrefixed(_ text: String) {
        appendVarint(UInt64(text.utf8.count))
        append(contentsOf: text.utf8)
    }

    mutating func patchUInt32LE(_ value: UInt32, at index: Int) {
        self[index] = UInt8(truncatingIfNeeded: value)
        self[index + 1] = UInt8(truncatingIfNeeded: value >> 8)
        self[index + 2] = UInt8(truncatingIfNeeded: value >> 16)
        self[index + 3] = UInt8(truncatingIfNeeded: value >> 24)
    }
}

/// A bounds-checked cursor over a record payload.
public struct PayloadReader {
    public let bytes: UnsafeRawBufferPointer
    public var position = 0

    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    public var isAtEnd: Bool { position >= bytes.count }

    public mutating func byte() throws(LogDecodeError) -> UInt8 {
        guard position < bytes.count else { throw LogDecodeError(message: "record ends early") }
        defer { position += 1 }
        return bytes[position]
    }

    public mutating func varint() throws(LogDecodeError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            guard shift < 64 else { throw LogDecodeError(message: "varint too long") }
        }
    }

    public mutating func zigzag() throws(LogDecodeError) -> Int64 {
        let value = try varint()
        return Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1)
    }

    public mutating func int64LE() throws(LogDecodeError) -> Int64 {
        guard position + 8 <= bytes.count else { throw LogDecodeError(message: "record ends early") }
        defer { position += 8 }
        return Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: Int64.self))
    }

    public mutating func uint32LE() throws(LogDecodeError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw LogDecodeError(message: "record ends early") }
        defer { position += 4 }
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }

    public mutating func slice() throws(LogDecodeError) -> UnsafeRawBufferPointer {
        let length = try varint()
        guard length <= UInt64(bytes.count - position) else { throw LogDecodeError(message: "length beyond the record") }
        defer { position += Int(length) }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + Int(length))])
    }

    public mutating func string() throws(LogDecodeError) -> String {
        String(decoding: try slice(), as: UTF8.self)
    }

    public mutating func skip(_ count: Int) throws(LogDecodeError) {
        guard count >= 0, position + count <= bytes.count else { throw LogDecodeError(message: "record ends early") }
        position += count
    }
}

/// A log record that does not decode (a bug or disk corruption that slipped past the checksum).
public struct LogDecodeError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(message: String) {
        self.message = message
    }

    public var description: String { "undecodable log record: \(message)" }
}
