import Foundation
import StrataCore

/// Validates one raw event against the compiled contract and, when it passes, writes its
/// binary record straight into the batch (no intermediate objects).
struct EventValidator {
    let compiled: CompiledContract
    var policy: ValidationPolicy { compiled.contract.policy }

    /// What kind of events a path may write.
    enum Scope {
        /// `POST /v1/events`, imports, the generator: declared event types only.
        case behavioural
        /// Catalog upserts: the reserved catalog types only.
        case catalog
    }

    struct Options {
        var scope: Scope = .behavioural
        /// Backfills (imports) carry history older than any lateness window.
        var allowLate = false
    }

    /// Earliest and latest event times accepted at all (1970 to 2200).
    static let timeRange: ClosedRange<Int64> = 0...7_258_118_400_000

    /// What validation learned of an accepted event.
    struct Accepted {
        /// The event id's fingerprint, if the event has an id.
        var fingerprint: Fingerprint128?
        /// Index of the event's type in the compiled contract.
        var typeIndex: Int
    }

    /// Validates `members` (whose text lies in `buffers`) and appends the record to `batch`.
    func validate(
        _ members: [RawMember], buffers: RawBuffers, ingestedAt: Int64, options: Options, into batch: inout FramedBatch
    ) throws(FieldFailure) -> Accepted {
        var typeMember: RawMember?
        var eventIDMember: RawMember?
        var userIDMember: RawMember?
        var timestampMember: RawMember?
        for member in members {
            switch keyKind(member.key, buffers) {
            case .type: if typeMember != nil { throw duplicate("type") } else { typeMember = member }
            case .eventID: if eventIDMember != nil { throw duplicate("event_id") } else { eventIDMember = member }
            case .userID: if userIDMember != nil { throw duplicate("user_id") } else { userIDMember = member }
            case .timestamp: if timestampMember != nil { throw duplicate("timestamp") } else { timestampMember = member }
            case .field: break
            }
        }

        guard let typeMember, case .text(let typeToken) = typeMember.value else {
            throw FieldFailure(
                field: "type", code: typeMember == nil ? "missing_field" : "wrong_type",
                message: "every event needs \"type\": a string naming one of: \(compiled.declaredTypeNames)")
        }
        let typeBytes = buffers.bytes(typeToken)
        guard let typeIndex = compiled.typeIndex(matching: typeBytes) else {
            throw FieldFailure(
                field: "type", code: "unknown_event_type",
                message: "unknown event type '\(text(typeBytes))'; the contract declares: \(compiled.declaredTypeNames)")
        }
        let type = compiled.types[typeIndex]
        switch (options.scope, type.isCatalog) {
        case (.behavioural, true):
            throw FieldFailure(
                field: "type", code: "reserved_event_type",
                message: "'\(type.name)' is written through the catalog API (PUT /v1/items/{id}, PUT /v1/users/{id})")
        case (.catalog, false):
            throw FieldFailure(field: "type", code: "wrong_event_type", message: "the catalog API writes catalog events only")
        default: break
        }

        var eventID: UnsafeRawBufferPointer?
        if let eventIDMember, !isNull(eventIDMember.value) {
            eventID = try identifier(eventIDMember.value, buffers, field: "event_id")
        }
        var userID: UnsafeRawBufferPointer?
        if type.requiresUser {
            guard let userIDMember, !isNull(userIDMember.value) else {
                throw FieldFailure(field: "user_id", code: "missing_field", message: "\(type.name) events need \"user_id\": a non-empty string")
            }
            userID = try identifier(userIDMember.value, buffers, field: "user_id")
        } else if let userIDMember, !isNull(userIDMember.value) {
            throw FieldFailure(field: "user_id", code: "unknown_field", message: "\(type.name) events have no user_id")
        }

        guard let timestampMember, !isNull(timestampMember.value) else {
            throw FieldFailure(
                field: "timestamp", code: "missing_field",
                message: "every event needs \"timestamp\": RFC 3339 text (2026-11-29T12:00:00Z) or epoch milliseconds")
        }
        let timestamp = try timeValue(timestampMember.value, buffers, field: "timestamp")
        if !options.allowLate {
            if ingestedAt - timestamp > policy.maxLatenessMillis {
                throw FieldFailure(
                    field: "timestamp", code: "too_late",
                    message:
                        "the event is older than the contract's max_lateness (\(DurationText.format(millis: policy.maxLatenessMillis))); send history through `strata import`"
                )
            }
            if timestamp - ingestedAt > policy.maxFutureSkewMillis {
                throw FieldFailure(
                    field: "timestamp", code: "in_future",
                    message:
                        "the event time is more than max_future_skew (\(DurationText.format(millis: policy.maxFutureSkewMillis))) ahead of the server's clock; check the client's clock and time zone"
                )
            }
        }

        batch.beginRecord()
        do throws(FieldFailure) {
            try { (out: inout [UInt8]) throws(FieldFailure) in
                EventCodec.writeEnvelope(into: &out, type: typeBytes, eventID: eventID, userID: userID, timestamp: timestamp, ingestedAt: ingestedAt)
                var seen: UInt64 = 0
                for member in members {
                    guard keyKind(member.key, buffers) == .field else { continue }
                    let key = buffers.bytes(member.key)
                    guard let index = type.fieldIndex(matching: key) else {
                        guard policy.unknownFields == .keep else {
                            throw FieldFailure(
                                field: text(key), code: "unknown_field",
                                message:
                                    "'\(text(key))' is not a field of \(type.name) events (declared: \(type.fields.map(\.name).joined(separator: ", "))); remove it or declare it in the contract"
                            )
                        }
                        try keepUndeclared(member, key: key, buffers: buffers, into: &out)
                        continue
                    }
                    guard seen & (1 << UInt64(index)) == 0 else { throw duplicate(type.fields[index].name) }
                    seen |= 1 << UInt64(index)
                    if isNull(member.value) { continue }
                    try write(member.value, field: type.fields[index], buffers: buffers, into: &out)
                }
                for (index, field) in type.fields.enumerated() where field.schema.required && seen & (1 << UInt64(index)) == 0 {
                    throw FieldFailure(
                        field: field.name, code: "missing_field", message: "\(type.name) events need '\(field.name)' (\(field.schema.type.rawValue))")
                }
            }(&batch.bytes)
        } catch {
            batch.abandonRecord()
            throw error
        }
        batch.commitRecord()
        return Accepted(fingerprint: eventID.map(Fingerprint128.init), typeIndex: typeIndex)
    }

    // MARK: - Fields

    private func write(_ value: RawValue, field: CompiledField, buffers: RawBuffers, into out: inout [UInt8]) throws(FieldFailure) {
        let name = field.name
        field.nameBytes.withUnsafeBytes { out.appendLengthPrefixed($0) }
        switch field.schema.type {
        case .string:
            guard case .text(let token) = value else { throw wrongType(name, "a string", value) }
            let value = buffers.bytes(token)
            try checkText(value, field: field)
            out.append(EventCodec.Tag.string.rawValue)
            out.appendLengthPrefixed(value)
        case .int:
            let number: Int64
            switch value {
            case .integer(let v): number = v
            case .number(let v) where v == v.rounded() && abs(v) < 9.2e18: number = Int64(v)
            default: throw wrongType(name, "an integer", value)
            }
            try checkRange(Double(number), field: field, shown: String(number))
            out.append(EventCodec.Tag.int.rawValue)
            out.appendZigzag(number)
        case .double:
            let number: Double
            switch value {
            case .integer(let v): number = Double(v)
            case .number(let v): number = v
            default: throw wrongType(name, "a number", value)
            }
            try checkRange(number, field: field, shown: JSONValue.format(number))
            out.append(EventCodec.Tag.double.rawValue)
            out.appendInt64LE(Int64(bitPattern: number.bitPattern))
        case .bool:
            guard case .boolean(let flag) = value else { throw wrongType(name, "true or false", value) }
            out.append(flag ? EventCodec.Tag.boolTrue.rawValue : EventCodec.Tag.boolFalse.rawValue)
        case .timestamp:
            let millis = try timeValue(value, buffers, field: name)
            out.append(EventCodec.Tag.timestamp.rawValue)
            out.appendZigzag(millis)
        case .stringList:
            var items: [JSONStringToken] = []
            switch value {
            case .array(let range):
                var scanner = JSONScanner(buffers.body, position: range.lowerBound)
                var notText = false
                do throws(JSONScanError) {
                    try scanner.expect(UInt8(ascii: "["))
                    if !scanner.consume(UInt8(ascii: "]")) {
                        repeat {
                            guard scanner.peekToken() == UInt8(ascii: "\"") else {
                                notText = true
                                break
                            }
                            items.append(try scanner.readString())
                        } while scanner.consume(UInt8(ascii: ","))
                    }
                } catch {
                    throw FieldFailure(field: name, code: "malformed_json", message: error.description)
                }
                if notText { throw wrongType(name, "an array of strings", value) }
            case .textList(let texts):
                items = texts.map { text in
                    switch text {
                    case .body(let range): .raw(range)
                    case .scratch: .decoded(Array(buffers.bytes(text)))
                    }
                }
            default: throw wrongType(name, "an array of strings", value)
            }
            guard items.count <= field.maxItems else {
                throw FieldFailure(
                    field: name, code: "too_many_items", message: "'\(name)' has \(items.count) items; the contract allows at most \(field.maxItems)")
            }
            out.append(EventCodec.Tag.stringList.rawValue)
            out.appendVarint(UInt64(items.count))
            for item in items {
                guard item.byteCount <= field.maxLength else {
                    throw FieldFailure(
                        field: name, code: "string_too_long",
                        message: "an item of '\(name)' is \(item.byteCount) bytes; the contract allows at most \(field.maxLength)")
                }
                switch item {
                case .raw(let range): out.appendLengthPrefixed(UnsafeRawBufferPointer(rebasing: buffers.body[range]))
                case .decoded(let owned): owned.withUnsafeBytes { out.appendLengthPrefixed($0) }
                }
            }
        }
    }

    private func keepUndeclared(_ member: RawMember, key: UnsafeRawBufferPointer, buffers: RawBuffers, into out: inout [UInt8]) throws(FieldFailure) {
        guard key.count <= 64 else { throw FieldFailure(field: nil, code: "string_too_long", message: "undeclared field names may be at most 64 bytes") }
        out.appendLengthPrefixed(key)
        out.append(EventCodec.Tag.json.rawValue)
        if case .json(let rendered) = member.value {
            rendered.withUnsafeBytes { out.appendLengthPrefixed($0) }
        } else if let source = member.source {
            let raw = UnsafeRawBufferPointer(rebasing: buffers.body[source])
            guard raw.count <= 65_536 else {
                throw FieldFailure(field: text(key), code: "string_too_long", message: "undeclared field values may be at most 64KB")
            }
            out.appendLengthPrefixed(raw)
        } else {
            throw FieldFailure(field: text(key), code: "wrong_type", message: "cannot keep undeclared field '\(text(key))'")
        }
    }

    private func checkText(_ value: UnsafeRawBufferPointer, field: CompiledField) throws(FieldFailure) {
        guard value.count <= field.maxLength else {
            throw FieldFailure(
                field: field.name, code: "string_too_long", message: "'\(field.name)' is \(value.count) bytes; the contract allows at most \(field.maxLength)")
        }
        if field.schema.required && value.isEmpty {
            throw FieldFailure(field: field.name, code: "empty_string", message: "'\(field.name)' must not be empty")
        }
        if let allowed = field.allowed {
            let matches = allowed.contains { option in
                option.count == value.count && option.withUnsafeBytes { memcmp($0.baseAddress!, value.baseAddress!, value.count) == 0 }
            }
            guard matches else {
                throw FieldFailure(
                    field: field.name, code: "value_not_allowed",
                    message: "'\(field.name)' is '\(text(value))'; allowed values: \(field.schema.allowedValues!.joined(separator: ", "))")
            }
        }
    }

    private func checkRange(_ number: Double, field: CompiledField, shown: String) throws(FieldFailure) {
        guard number.isFinite else { throw FieldFailure(field: field.name, code: "wrong_type", message: "'\(field.name)' must be a finite number") }
        if let minimum = field.schema.minimum, number < minimum {
            throw FieldFailure(
                field: field.name, code: "below_minimum", message: "'\(field.name)' is \(shown); the contract's minimum is \(JSONValue.format(minimum))")
        }
        if let maximum = field.schema.maximum, number > maximum {
            throw FieldFailure(
                field: field.name, code: "above_maximum", message: "'\(field.name)' is \(shown); the contract's maximum is \(JSONValue.format(maximum))")
        }
    }

    // MARK: - Envelope

    private func identifier(_ value: RawValue, _ buffers: RawBuffers, field: String) throws(FieldFailure) -> UnsafeRawBufferPointer {
        guard case .text(let token) = value else { throw wrongType(field, "a string", value) }
        let raw = buffers.bytes(token)
        guard !raw.isEmpty else { throw FieldFailure(field: field, code: "empty_string", message: "'\(field)' must not be empty") }
        guard raw.count <= policy.defaultMaxStringLength else {
            throw FieldFailure(
                field: field, code: "string_too_long", message: "'\(field)' is \(raw.count) bytes; the contract allows at most \(policy.defaultMaxStringLength)"
            )
        }
        return raw
    }

    private func timeValue(_ value: RawValue, _ buffers: RawBuffers, field: String) throws(FieldFailure) -> Int64 {
        let millis: Int64
        switch value {
        case .text(let token):
            guard let parsed = EventTime.parse(buffers.bytes(token)) else {
                throw FieldFailure(
                    field: field, code: "invalid_timestamp",
                    message: "'\(field)' is '\(text(buffers.bytes(token)))', not an RFC 3339 time such as 2026-11-29T12:00:00Z")
            }
            millis = parsed
        case .integer(let v): millis = v
        case .timestampMillis(let v): millis = v
        default: throw wrongType(field, "RFC 3339 text or epoch milliseconds", value)
        }
        guard Self.timeRange.contains(millis) else {
            throw FieldFailure(field: field, code: "invalid_timestamp", message: "'\(field)' (\(millis)) is outside 1970–2200; epoch times are in milliseconds")
        }
        return millis
    }

    // MARK: - Helpers

    private enum KeyKind { case type, eventID, userID, timestamp, field }

    private func keyKind(_ token: RawText, _ buffers: RawBuffers) -> KeyKind {
        let key = buffers.bytes(token)
        guard let first = key.first else { return .field }
        switch (first, key.count) {
        case (UInt8(ascii: "t"), 4) where equals(key, "type"): return .type
        case (UInt8(ascii: "t"), 9) where equals(key, "timestamp"): return .timestamp
        case (UInt8(ascii: "e"), 8) where equals(key, "event_id"): return .eventID
        case (UInt8(ascii: "u"), 7) where equals(key, "user_id"): return .userID
        default: return .field
        }
    }

    private func equals(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        memcmp(bytes.baseAddress!, literal.utf8Start, literal.utf8CodeUnitCount) == 0
    }

    private func text(_ bytes: UnsafeRawBufferPointer) -> String {
        let shown = String(decoding: bytes.prefix(80), as: UTF8.self)
        return bytes.count > 80 ? shown + "…" : shown
    }

    private func isNull(_ value: RawValue) -> Bool {
        if case .null = value { return true }
        return false
    }

    private func duplicate(_ field: String) -> FieldFailure {
        FieldFailure(field: field, code: "duplicate_field", message: "'\(field)' appears more than once")
    }

    private func wrongType(_ field: String, _ expected: String, _ value: RawValue) -> FieldFailure {
        FieldFailure(field: field, code: "wrong_type", message: "'\(field)' must be \(expected), found \(value.kindDescription)")
    }
}
