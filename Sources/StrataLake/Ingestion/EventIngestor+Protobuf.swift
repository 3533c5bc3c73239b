import StrataCore
import SwiftProtobuf

extension EventIngestor {
    /// Validates a `strata.v1.EventBatch` message (see `event_batch.proto`).
    func prepareProtobuf(_ body: UnsafeRawBufferPointer, options: EventValidator.Options, into prepared: inout PreparedBatch) throws(StrataError) {
        let message: Strata_V1_EventBatch
        do {
            message = try Strata_V1_EventBatch(serializedBytes: Array(body))
        } catch {
            throw StrataError.invalid("malformed_protobuf", "the body is not a strata.v1.EventBatch message (\(error)); see event_batch.proto")
        }
        guard message.formatVersion == 1 else {
            throw StrataError.invalid("unsupported_format_version", "EventBatch.format_version is \(message.formatVersion); this server reads version 1")
        }
        guard message.events.count <= config.maxBatchEvents else {
            throw StrataError(
                .tooLarge, code: "batch_too_large",
                "the batch holds \(message.events.count) events; the limit is \(config.maxBatchEvents) (ingest.max_batch_events)")
        }
        var members: [RawMember] = []
        var scratch: [UInt8] = []
        for (index, event) in message.events.enumerated() {
            let incoming = Self.incoming(event)
            Self.members(of: incoming, into: &members, scratch: &scratch)
            let raw = incoming.json.serializedBytes
            raw.withUnsafeBytes { raw in
                validate(
                    members, scratch: scratch, body: UnsafeRawBufferPointer(start: nil, count: 0), index: index, options: options, raw: raw, into: &prepared)
            }
        }
    }

    static func incoming(_ event: Strata_V1_Event) -> IncomingEvent {
        let time: IncomingEvent.Time?
        switch event.time {
        case .timestampMs(let ms)?: time = .millis(ms)
        case .timestamp(let text)?: time = .text(text)
        case nil: time = nil
        }
        let fields: [(name: String, value: FieldValue?)] = event.fields.keys.sorted().map { name in
            let value: FieldValue?
            switch event.fields[name]!.kind {
            case .stringValue(let v)?: value = .string(v)
            case .intValue(let v)?: value = .int(v)
            case .doubleValue(let v)?: value = .double(v)
            case .boolValue(let v)?: value = .bool(v)
            case .timestampMs(let v)?: value = .timestamp(v)
            case .stringList(let list)?: value = .stringList(list.values)
            case nil: value = nil
            }
            return (name, value)
        }
        return IncomingEvent(
            type: event.type, eventID: event.eventID.isEmpty ? nil : event.eventID, userID: event.userID.isEmpty ? nil : event.userID, time: time,
            fields: fields)
    }
}
