/// One behavioural or catalog event as stored in the log and the lake.
///
/// The envelope (type, ids, the two times) is common to every event; `fields` holds the
/// type's declared fields (and, when the contract keeps them, undeclared ones as raw JSON).
public struct Event: Sendable, Hashable {
    /// The event type, as named in the contract (or a reserved catalog type).
    public var type: String
    /// Client-chosen id that makes retries idempotent.
    public var eventID: String?
    /// The user the event is about; nil only for item catalog events.
    public var userID: String?
    /// Event time from the client, in epoch milliseconds (UTC).
    public var timestamp: Int64
    /// Ingestion time from the server, in epoch milliseconds (UTC).
    public var ingestedAt: Int64
    /// Declared fields by name, in the order they were written.
    public var fields: [(name: String, value: FieldValue)]

    public init(
        type: String, eventID: String? = nil, userID: String?, timestamp: Int64, ingestedAt: Int64,
        fields: [(name: String, value: FieldValue)] = []
    ) {
        self.type = type
        self.eventID = eventID
        self.userID = userID
        self.timestamp = timestamp
        self.ingestedAt = ingestedAt
        self.fields = fields
    }

    /// The value of a declared field, or nil when absent.
    public subscript(field name: String) -> FieldValue? {
        fields.first { $0.name == name }?.value
    }

    /// Conventional `item_id` field of behavioural and item catalog events.
    public var itemID: String? { self[field: "item_id"]?.stringValue }

    public static func == (lhs: Event, rhs: Event) -> Bool {
        lhs.type == rhs.type && lhs.eventID == rhs.eventID && lhs.userID == rhs.userID
            && lhs.timestamp == rhs.timestamp && lhs.ingestedAt == rhs.ingestedAt
            && lhs.fields.elementsEqual(rhs.fields) { $0.name == $1.name && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(type)
        hasher.combine(eventID)
        hasher.combine(userID)
        hasher.combine(timestamp)
        for field in fields {
            hasher.combine(field.name)
            hasher.combine(field.value)
        }
    }
}

/// Event types Strata reserves for catalog changes: every upsert of an item or a user is an
/// event in the log and the lake, so any past state of the catalog can be rebuilt.
public enum CatalogEventType {
    public static let item = "catalog_item"
    public static let user = "catalog_user"
    public static let all: Set<String> = [item, user]
}
