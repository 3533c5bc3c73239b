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
        var entries: [IncomingEntry] = []
        for upsert in upserts {
            guard case .object(var properties) = upsert.properties else {
                entries.append(.invalid(code: "not_an_object", message: "a catalog entry must be a JSON object of properties", raw: upsertText(upsert)))
                continue
            }
            var time: IncomingEvent.Time = .millis(clock.nowMillis())
            switch properties.removeValue(forKey: "timestamp") {
            case .string(let text)?: time = .text(text)
            case .int(let ms)?: time = .millis(ms)
            case nil, .null?: break
            default:
                entries.append(.invalid(code: "wrong_type", message: "'timestamp' must be RFC 3339 text or epoch milliseconds", raw: upsertText(upsert)))
                continue
            }
            properties.removeValue(forKey: "id")
            var fields: [(name: String, value: FieldValue?)] = properties.keys.sorted().map { ($0, Self.fieldValue(properties[$0]!)) }
            if kind == .item { fields.insert(("item_id", .string(upsert.id)), at: 0) }
            entries.append(.event(IncomingEvent(type: kind.eventType, userID: kind == .user ? upsert.id : nil, time: time, fields: fields)))
        }
        return try await commit(prepare(entries: entries, source: source, options: EventValidator.Options(scope: .catalog, allowLate: true)))
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
