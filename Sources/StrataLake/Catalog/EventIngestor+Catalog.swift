import StrataCore

/// One catalog change as sent to the API: the entity id and its properties (plus, optionally,
/// `timestamp`, `hidden` and `deleted`).
public struct CatalogUpsert: Sendable {
    public var id: String
    public var properties: JSONValue

    public init(id: String, properties: JSONValue) {
        self.id = id
        self.properties = properties
    }
}

extension EventIngestor {
    /// Validates catalog upserts (as catalog events, through the same validator as every event)
    /// and stores them. A property left out of an upsert is cleared: an upsert states the whole
    /// entry.
    public func upsertCatalog(_ kind: CatalogKind, _ upserts: [CatalogUpsert], source: String) async throws -> IngestResult {
        var events: [IncomingEvent] = []
        var rejections: [(Int, Rejection)] = []
        for (index, upsert) in upserts.enumerated() {
            guard case .object(var properties) = upsert.properties else {
                rejections.append(
                    (index, Rejection(index: index, field: nil, code: "not_an_object", message: "a catalog entry must be a JSON object of properties")))
                continue
            }
            var time: IncomingEvent.Time = .millis(clock.nowMillis())
            switch properties.removeValue(forKey: "timestamp") {
            case .string(let text)?: time = .text(text)
            case .int(let ms)?: time = .millis(ms)
            case nil, .null?: break
            default:
                rejections.append(
                    (index, Rejection(index: index, field: "timestamp", code: "wrong_type", message: "'timestamp' must be RFC 3339 text or epoch milliseconds"))
                )
                continue
            }
            properties.removeValue(forKey: "id")
            var fields: [(name: String, value: FieldValue?)] = properties.keys.sorted().map { ($0, Self.fieldValue(properties[$0]!)) }
            if kind == .item { fields.insert(("item_id", .string(upsert.id)), at: 0) }
            events.append(IncomingEvent(type: kind.eventType, userID: kind == .user ? upsert.id : nil, time: time, fields: fields))
        }
        var prepared = prepare(events: events, source: source, options: EventValidator.Options(scope: .catalog, allowLate: true))
        // Renumber rejections to positions in the request, around entries rejected up front.
        let positions = (0..<upserts.count).filter { index in !rejections.contains { $0.0 == index } }
        prepared.rejections =
            prepared.rejections.map { entry in
                var entry = entry
                entry.rejection.index = positions[entry.rejection.index]
                return entry
            } + rejections.map { ($0.1, upsertText(upserts[$0.0])) }
        prepared.rejections.sort { $0.rejection.index < $1.rejection.index }
        return try await commit(prepared)
    }

    private func upsertText(_ upsert: CatalogUpsert) -> String {
        String(JSONValue.object(["id": .string(upsert.id), "properties": upsert.properties]).serialized.prefix(config.deadLetterRawBytes))
    }

    /// A JSON value as the field value the validator checks against the declared type.
    static func fieldValue(_ json: JSONValue) -> FieldValue? {
        switch json {
        case .null: nil
        case .bool(let v): .bool(v)
        case .int(let v): .int(v)
        case .double(let v): .double(v)
        case .string(let v): .string(v)
        case .array(let items):
            items.allSatisfy { $0.stringValue != nil } ? .stringList(items.compactMap(\.stringValue)) : .json(json.serialized)
        case .object: .json(json.serialized)
        }
    }
}
