/// The data contract: which events and entities exist, their typed fields and limits, and how
/// strictly they are enforced. Its canonical form hashes to the *contract version* that every
/// dataset, feature and model records.
public struct Contract: Sendable, Equatable {
    /// Event types by name, in the order the contract declares them.
    public var eventTypes: [EventTypeSchema]
    /// The item catalog's properties.
    public var item: EntitySchema
    /// The user catalog's properties.
    public var user: EntitySchema
    public var policy: ValidationPolicy
    /// Feature definitions: part of the contract, so changing one changes the version.
    public var features: [FeatureDefinition]

    public init(
        eventTypes: [EventTypeSchema], item: EntitySchema, user: EntitySchema, policy: ValidationPolicy = ValidationPolicy(), features: [FeatureDefinition] = []
    ) {
        self.eventTypes = eventTypes
        self.item = item
        self.user = user
        self.policy = policy
        self.features = features
    }

    public func feature(named name: String) -> FeatureDefinition? {
        features.first { $0.name == name }
    }

    public func eventType(named name: String) -> EventTypeSchema? {
        eventTypes.first { $0.name == name }
    }

    /// The schema that catalog events of `type` are stored with (item or user properties plus
    /// the `hidden`/`deleted` flags), or nil when `type` is not a catalog type.
    public func catalogSchema(for type: String) -> EventTypeSchema? {
        switch type {
        case CatalogEventType.item: item.eventSchema(type: type, idField: "item_id")
        case CatalogEventType.user: user.eventSchema(type: type, idField: nil)
        default: nil
        }
    }

    /// The stored schema of any event type, declared or catalog.
    public func storedSchema(for type: String) -> EventTypeSchema? {
        eventType(named: type) ?? catalogSchema(for: type)
    }

    /// Every stored type: declared events, then the catalog types.
    public var allStoredSchemas: [EventTypeSchema] {
        eventTypes + [catalogSchema(for: CatalogEventType.item)!, catalogSchema(for: CatalogEventType.user)!]
    }
}

/// How strictly events are checked, beyond their fields' own rules.
public struct ValidationPolicy: Sendable, Equatable {
    public enum UnknownFields: String, Sendable, Equatable, CaseIterable {
        /// An undeclared field rejects the event.
        case reject
        /// An undeclared field is kept verbatim (as JSON text) with the event.
        case keep
    }

    public var unknownFields: UnknownFields
    /// Events whose event time is older than ingestion time by more than this are rejected.
    public var maxLatenessMillis: Int64
    /// Events whose event time is ahead of ingestion time by more than this are rejected.
    public var maxFutureSkewMillis: Int64
    /// Maximum UTF-8 bytes of a string field without its own `max_length`, and of ids.
    public var defaultMaxStringLength: Int
    /// Maximum entries of a string list without its own `max_items`.
    public var defaultMaxItems: Int

    public init(
        unknownFields: UnknownFields = .reject, maxLatenessMillis: Int64 = 30 * 86_400_000, maxFutureSkewMillis: Int64 = 300_000,
        defaultMaxStringLength: Int = 256, defaultMaxItems: Int = 64
    ) {
        self.unknownFields = unknownFields
        self.maxLatenessMillis = maxLatenessMillis
        self.maxFutureSkewMillis = maxFutureSkewMillis
        self.defaultMaxStringLength = defaultMaxStringLength
        self.defaultMaxItems = defaultMaxItems
    }
}

/// One event type: its name and declared fields (the envelope — type, event_id, user_id,
/// timestamp — is common to all types and not listed here).
public struct EventTypeSchema: Sendable, Equatable {
    public var name: String
    public var description: String?
    public var fields: [FieldSchema]
    /// Whether events of this type must name a user (false only for item catalog events).
    public var requiresUser: Bool

    public init(name: String, description: String? = nil, fields: [FieldSchema], requiresUser: Bool = true) {
        self.name = name
        self.description = description
        self.fields = fields
        self.requiresUser = requiresUser
    }

    public func field(named name: String) -> FieldSchema? {
        fields.first { $0.name == name }
    }
}

/// One typed field with its rules.
public struct FieldSchema: Sendable, Equatable {
    public var name: String
    public var type: FieldType
    public var required: Bool
    public var description: String?
    /// Maximum UTF-8 bytes of a string (or of each list entry).
    public var maxLength: Int?
    /// Inclusive numeric bounds for int and double fields.
    public var minimum: Double?
    public var maximum: Double?
    /// The only values a string field may take.
    public var allowedValues: [String]?
    /// Maximum entries of a string list.
    public var maxItems: Int?

    public init(
        name: String, type: FieldType, required: Bool = false, description: String? = nil, maxLength: Int? = nil,
        minimum: Double? = nil, maximum: Double? = nil, allowedValues: [String]? = nil, maxItems: Int? = nil
    ) {
        self.name = name
        self.type = type
        self.required = required
        self.description = description
        self.maxLength = maxLength
        self.minimum = minimum
        self.maximum = maximum
        self.allowedValues = allowedValues
        self.maxItems = maxItems
    }
}

/// The catalog of one entity kind (items or users): its declared properties.
public struct EntitySchema: Sendable, Equatable {
    public var properties: [FieldSchema]

    public init(properties: [FieldSchema]) {
        self.properties = properties
    }

    /// Catalog flags every entity has: a hidden or deleted entity stops being recommended.
    public static let flagFields = [
        FieldSchema(name: "hidden", type: .bool, description: "Hidden entities stay in the catalog but are never recommended."),
        FieldSchema(name: "deleted", type: .bool, description: "Deleted entities are gone from the catalog from this event on."),
    ]

    func eventSchema(type: String, idField: String?) -> EventTypeSchema {
        var fields: [FieldSchema] = []
        if let idField { fields.append(FieldSchema(name: idField, type: .string, required: true)) }
        fields += properties.map {
            var property = $0
            property.required = false
            return property
        }
        fields += Self.flagFields
        return EventTypeSchema(name: type, description: "Catalog change", fields: fields, requiresUser: idField == nil)
    }
}

/// Names every event carries outside its declared fields, reserved in contracts.
public enum EnvelopeField {
    public static let type = "type"
    public static let eventID = "event_id"
    public static let userID = "user_id"
    public static let timestamp = "timestamp"
    public static let ingestedAt = "ingested_at"
    public static let offset = "offset"
    public static let extra = "extra"
    public static let all: Set<String> = [type, eventID, userID, timestamp, ingestedAt, offset, extra]
}
