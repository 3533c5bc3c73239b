import StrataCore

/// The binary form of an event in the log (version 1):
///
///     u8 version (1) | u8 flags (1: has event_id, 2: has user_id)
///     type | [event_id] | [user_id]              (varint length + UTF-8)
///     i64 LE event time ms | i64 LE ingestion time ms
///     fields until the end: name (varint length + UTF-8), u8 tag, value
///
/// Tags: 1 string, 2 int (zigzag varint), 3 double (8 bytes LE), 4 false, 5 true,
/// 6 timestamp ms (zigzag varint), 7 string list (varint count, strings), 8 raw JSON text.
/// Fields carry their names, so records stay readable when the contract later changes.
public enum EventCodec {
    static let version: UInt8 = 1

    enum Tag: UInt8 {
        case string = 1, int = 2, double = 3, boolFalse = 4, boolTrue = 5, timestamp = 6, stringList = 7, json = 8
    }

    // MARK: Writing

    @inline(__always)
    static func writeEnvelope(
        into out: inout [UInt8], type: UnsafeRawBufferPointer, eventID: UnsafeRawBufferPointer?, userID: UnsafeRawBufferPointer?,
        timestamp: Int64, ingestedAt: Int64
    ) {
        out.append(version)
        out.append((eventID != nil ? 1 : 0) | (userID != nil ? 2 : 0))
        out.appendLengthPrefixed(type)
        if let eventID { out.appendLengthPrefixed(eventID) }
        if let userID { out.appendLengthPrefixed(userID) }
        out.appendInt64LE(timestamp)
        out.appendInt64LE(ingestedAt)
    }

    @inline(__always)
    static func writeFieldName(into out: inout [UInt8], _ name: UnsafeRawBufferPointer, tag: Tag) {
        out.appendLengthPrefixed(name)
        out.append(tag.rawValue)
    }

    /// Encodes a typed event as one framed record.
    public static func append(_ event: Event, to batch: inout FramedBatch) {
        batch.beginRecord()
        batch.withPayload { out in encode(event, into: &out) }
        batch.commitRecord()
    }

    /// Encodes a typed event's payload.
    public static func encode(_ event: Event, into out: inout [UInt8]) {
        func bytes(_ text: String?, _ body: (UnsafeRawBufferPointer?) -> Void) {
            guard var text else { return body(nil) }
            text.withUTF8 { body(UnsafeRawBufferPointer($0)) }
        }
        bytes(event.type) { type in
            bytes(event.eventID) { eventID in
                bytes(event.userID) { userID in
                    writeEnvelope(into: &out, type: type!, eventID: eventID, userID: userID, timestamp: event.timestamp, ingestedAt: event.ingestedAt)
                }
            }
        }
        for (name, value) in event.fields {
            out.appendLengthPrefixed(name)
            appendValue(value, to: &out)
        }
    }

    /// A tagged field value (the encoding of record fields; also used by state snapshots).
    public static func appendValue(_ value: FieldValue, to out: inout [UInt8]) {
        switch value {
        case .string(let v):
            out.append(Tag.string.rawValue)
            out.appendLengthPrefixed(v)
        case .int(let v):
            out.append(Tag.int.rawValue)
            out.appendZigzag(v)
        case .double(let v):
            out.append(Tag.double.rawValue)
            out.appendInt64LE(Int64(bitPattern: v.bitPattern))
        case .bool(let v): out.append(v ? Tag.boolTrue.rawValue : Tag.boolFalse.rawValue)
        case .timestamp(let v):
            out.append(Tag.timestamp.rawValue)
            out.appendZigzag(v)
        case .stringList(let list):
            out.append(Tag.stringList.rawValue)
            out.appendVarint(UInt64(list.count))
            for item in list { out.appendLengthPrefixed(item) }
        case .json(let text):
            out.append(Tag.json.rawValue)
            out.appendLengthPrefixed(text)
        }
    }

    /// Reads a value written by `appendValue`.
    public static func readValue(_ reader: inout PayloadReader) throws(LogDecodeError) -> FieldValue {
        guard let tag = Tag(rawValue: try reader.byte()) else { throw LogDecodeError(message: "unknown field tag") }
        switch tag {
        case .string: return .string(try reader.string())
        case .int: return .int(try reader.zigzag())
        case .double: return .double(Double(bitPattern: UInt64(bitPattern: try reader.int64LE())))
        case .boolFalse: return .bool(false)
        case .boolTrue: return .bool(true)
        case .timestamp: return .timestamp(try reader.zigzag())
        case .stringList:
            let count = try reader.varint()
            guard count <= UInt64(reader.bytes.count) else { throw LogDecodeError(message: "list longer than the record") }
            var list: [String] = []
            list.reserveCapacity(Int(count))
            for _ in 0..<count { list.append(try reader.string()) }
            return .stringList(list)
        case .json: return .json(try reader.string())
        }
    }

    // MARK: Reading

    /// Decodes a payload into an event.
    public static func decode(_ payload: UnsafeRawBufferPointer) throws(LogDecodeError) -> Event {
        var reader = PayloadReader(payload)
        guard try reader.byte() == version else { throw LogDecodeError(message: "unknown record version") }
        let flags = try reader.byte()
        let type = try reader.string()
        let eventID = flags & 1 != 0 ? try reader.string() : nil
        let userID = flags & 2 != 0 ? try reader.string() : nil
        let timestamp = try reader.int64LE()
        let ingestedAt = try reader.int64LE()
        var fields: [(name: String, value: FieldValue)] = []
        while !reader.isAtEnd {
            let name = try reader.string()
            let value = try readValue(&reader)
            fields.append((name, value))
        }
        return Event(type: type, eventID: eventID, userID: userID, timestamp: timestamp, ingestedAt: ingestedAt, fields: fields)
    }

    /// The envelope alone, without decoding fields (de-duplication rebuild, filters).
    public static func envelope(_ payload: UnsafeRawBufferPointer) throws(LogDecodeError) -> (
        type: UnsafeRawBufferPointer, eventID: UnsafeRawBufferPointer?, ingestedAt: Int64
    ) {
        var reader = PayloadReader(payload)
        guard try reader.byte() == version else { throw LogDecodeError(message: "unknown record version") }
        let flags = try reader.byte()
        let type = try reader.slice()
        let eventID = flags & 1 != 0 ? try reader.slice() : nil
        if flags & 2 != 0 { _ = try reader.slice() }
        _ = try reader.int64LE()
        let ingestedAt = try reader.int64LE()
        return (type, eventID, ingestedAt)
    }
}
