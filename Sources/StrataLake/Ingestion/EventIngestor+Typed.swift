import StrataCore

/// An event from a typed source (imports, the generator, the catalog API, Protobuf), validated
/// by the same code as JSON events.
public struct IncomingEvent: Sendable {
    public enum Time: Sendable {
        case millis(Int64)
        case text(String)
    }

    public var type: String
    public var eventID: String?
    public var userID: String?
    public var time: Time?
    public var fields: [(name: String, value: FieldValue?)]

    public init(type: String, eventID: String? = nil, userID: String?, time: Time?, fields: [(name: String, value: FieldValue?)] = []) {
        self.type = type
        self.eventID = eventID
        self.userID = userID
        self.time = time
        self.fields = fields
    }

    /// The event as JSON (what the dead-letter store keeps when it is rejected).
    public var json: JSONValue {
        var object: [String: JSONValue] = ["type": .string(type)]
        if let eventID { object["event_id"] = .string(eventID) }
        if let userID { object["user_id"] = .string(userID) }
        switch time {
        case .millis(let ms): object["timestamp"] = .int(ms)
        case .text(let text): object["timestamp"] = .string(text)
        case nil: break
        }
        for (name, value) in fields { object[name] = value?.jsonValue ?? .null }
        return .object(object)
    }
}

/// An event from a typed source, or the reason its source could not make one.
public enum IncomingEntry: Sendable {
    case event(IncomingEvent)
    case invalid(code: String, message: String, raw: String)
}

extension EventIngestor {
    /// Validates typed events into a batch.
    public func prepare(events: [IncomingEvent], source: String, allowLate: Bool = false) -> PreparedBatch {
        prepare(events: events, source: source, options: EventValidator.Options(scope: .behavioural, allowLate: allowLate))
    }

    func prepare(events: [IncomingEvent], source: String, options: EventValidator.Options) -> PreparedBatch {
        prepare(entries: events.map(IncomingEntry.event), source: source, options: options)
    }

    /// Validates entries of which some were already found unusable by their source (a line that
    /// is not an object, say); those become rejections at their position.
    func prepare(entries: [IncomingEntry], source: String, options: EventValidator.Options) -> PreparedBatch {
        var prepared = PreparedBatch(ingestedAt: clock.nowMillis(), source: source)
        var members: [RawMember] = []
        var scratch: [UInt8] = []
        for (index, entry) in entries.enumerated() {
            guard case .event(let event) = entry else {
                if case .invalid(let code, let message, let raw) = entry {
                    prepared.rejections.append((Rejection(index: index, field: nil, code: code, message: message), raw))
                }
                continue
            }
            Self.members(of: event, into: &members, scratch: &scratch)
            let raw = event.json.serializedBytes
            raw.withUnsafeBytes { raw in
                validate(
                    members, scratch: scratch, body: UnsafeRawBufferPointer(start: nil, count: 0), index: index, options: options, raw: raw, into: &prepared)
            }
        }
        return prepared
    }

    /// Validates and stores typed events.
    public func ingest(events: [IncomingEvent], source: String, allowLate: Bool = false) async throws -> IngestResult {
        try await commit(prepare(events: events, source: source, allowLate: allowLate))
    }

    static func members(of event: IncomingEvent, into members: inout [RawMember], scratch: inout [UInt8]) {
        members.removeAll(keepingCapacity: true)
        scratch.removeAll(keepingCapacity: true)
        func text(_ value: String) -> RawValue { .text(RawText.owned(value, scratch: &scratch)) }
        func key(_ name: String) -> RawText { RawText.owned(name, scratch: &scratch) }
        members.append(RawMember(key: key("type"), value: text(event.type)))
        if let eventID = event.eventID { members.append(RawMember(key: key("event_id"), value: text(eventID))) }
        if let userID = event.userID { members.append(RawMember(key: key("user_id"), value: text(userID))) }
        switch event.time {
        case .millis(let ms): members.append(RawMember(key: key("timestamp"), value: .timestampMillis(ms)))
        case .text(let value): members.append(RawMember(key: key("timestamp"), value: text(value)))
        case nil: break
        }
        for (name, value) in event.fields {
            let raw: RawValue
            switch value {
            case nil: raw = .null
            case .string(let v)?: raw = text(v)
            case .int(let v)?: raw = .integer(v)
            case .double(let v)?: raw = .number(v)
            case .bool(let v)?: raw = .boolean(v)
            case .timestamp(let v)?: raw = .timestampMillis(v)
            case .stringList(let list)?: raw = .textList(list.map { RawText.owned($0, scratch: &scratch) })
            case .json(let json)?: raw = .json(Array(json.utf8))
            }
            members.append(RawMember(key: key(name), value: raw))
        }
    }
}
