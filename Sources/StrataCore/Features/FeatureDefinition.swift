/// One feature of the contract: what entity it describes, which events feed it (types and
/// filters), how they are aggregated, over which window, and what it is when nothing qualifies.
/// The same definition drives the streaming and the point-in-time batch computation.
public struct FeatureDefinition: Sendable, Equatable {
    public enum Entity: String, Sendable, CaseIterable {
        case user, item

        /// The envelope or field that names the entity in an event.
        public var keyField: String { self == .user ? EnvelopeField.userID : "item_id" }
    }

    public enum Aggregation: String, Sendable, CaseIterable {
        case count, sum, mean, min, max, last
        case distinctCount = "distinct_count"
        /// The most recent N distinct items (most recent first).
        case recentItems = "recent_items"
        /// numerator ÷ denominator, two other features of the same entity.
        case ratio
    }

    public enum Window: Sendable, Equatable {
        /// Events with time in [T − length, T): exact, every event kept until it leaves.
        case sliding(lengthMillis: Int64)
        /// As `sliding`, but counted in buckets of `bucketMillis` (the window is the bucket of
        /// T and the buckets before it, length / bucket in all): bounded memory per entity.
        case bucketed(lengthMillis: Int64, bucketMillis: Int64)
        /// Every event with time before T.
        case lifetime
    }

    public var name: String
    public var entity: Entity
    /// Event types that feed the feature.
    public var sources: [String]
    /// Conditions every feeding event must meet (all of them).
    public var filters: [FeatureFilter]
    public var aggregation: Aggregation
    /// The aggregated field (sum, mean, min, max, last, distinct_count); `item_id` for recent_items.
    public var field: String?
    public var window: Window
    /// Items kept by recent_items.
    public var recentCount: Int
    /// For ratio: the features divided.
    public var numerator: String?
    public var denominator: String?
    /// The value type (derived from aggregation and field).
    public var valueType: FieldType
    /// The value when nothing qualifies (count-like features: 0).
    public var defaultValue: FieldValue?
    /// How old the newest applied event may be before the feature counts as stale.
    public var freshnessMillis: Int64?

    public init(
        name: String, entity: Entity, sources: [String], filters: [FeatureFilter] = [], aggregation: Aggregation, field: String? = nil,
        window: Window, recentCount: Int = 20, numerator: String? = nil, denominator: String? = nil, valueType: FieldType,
        defaultValue: FieldValue? = nil, freshnessMillis: Int64? = nil
    ) {
        self.name = name
        self.entity = entity
        self.sources = sources
        self.filters = filters
        self.aggregation = aggregation
        self.field = field
        self.window = window
        self.recentCount = recentCount
        self.numerator = numerator
        self.denominator = denominator
        self.valueType = valueType
        self.defaultValue = defaultValue
        self.freshnessMillis = freshnessMillis
    }

    /// The canonical form that enters the contract version.
    public var canonicalJSON: JSONValue {
        var object: [String: JSONValue] = [
            "name": .string(name), "entity": .string(entity.rawValue), "sources": .array(sources.map { .string($0) }),
            "filters": .array(filters.map { .string($0.description) }), "aggregation": .string(aggregation.rawValue), "type": .string(valueType.rawValue),
        ]
        if let field { object["field"] = .string(field) }
        switch window {
        case .sliding(let length): object["window"] = ["length_ms": .int(length)]
        case .bucketed(let length, let bucket): object["window"] = ["length_ms": .int(length), "bucket_ms": .int(bucket)]
        case .lifetime: object["window"] = "lifetime"
        }
        if aggregation == .recentItems { object["n"] = .int(Int64(recentCount)) }
        if let numerator { object["numerator"] = .string(numerator) }
        if let denominator { object["denominator"] = .string(denominator) }
        if let defaultValue { object["default"] = defaultValue.jsonValue }
        if let freshnessMillis { object["freshness_ms"] = .int(freshnessMillis) }
        return .object(object)
    }
}

/// A condition on an event field: `price > 0`, `currency == 'EUR'`, `page in ['product', 'cart']`.
public struct FeatureFilter: Sendable, Equatable, CustomStringConvertible {
    public enum Operator: String, Sendable, CaseIterable {
        case equal = "==", notEqual = "!=", greater = ">", greaterOrEqual = ">=", less = "<", lessOrEqual = "<=", among = "in"
    }

    public var field: String
    public var op: Operator
    /// One value, or several for `in`.
    public var values: [FieldValue]

    public init(field: String, op: Operator, values: [FieldValue]) {
        self.field = field
        self.op = op
        self.values = values
    }

    public var description: String {
        func literal(_ value: FieldValue) -> String {
            switch value {
            case .string(let text): "'\(text)'"
            case .int(let v): String(v)
            case .double(let v): JSONValue.format(v)
            case .bool(let v): v ? "true" : "false"
            default: value.jsonValue.serialized
            }
        }
        return op == .among ? "\(field) in [\(values.map(literal).joined(separator: ", "))]" : "\(field) \(op.rawValue) \(literal(values[0]))"
    }

    /// Whether an event's field value meets the condition (absent values never do).
    public func matches(_ value: FieldValue?) -> Bool {
        guard let value else { return false }
        switch op {
        case .among: return values.contains { Self.compare(value, $0) == 0 }
        case .equal: return Self.compare(value, values[0]) == 0
        case .notEqual: return Self.compare(value, values[0]) != 0
        case .greater: return Self.compare(value, values[0]).map { $0 > 0 } ?? false
        case .greaterOrEqual: return Self.compare(value, values[0]).map { $0 >= 0 } ?? false
        case .less: return Self.compare(value, values[0]).map { $0 < 0 } ?? false
        case .lessOrEqual: return Self.compare(value, values[0]).map { $0 <= 0 } ?? false
        }
    }

    /// −1, 0 or 1, or nil when the values do not compare (different kinds).
    static func compare(_ a: FieldValue, _ b: FieldValue) -> Int? {
        switch (a, b) {
        case (.string(let x), .string(let y)): return x < y ? -1 : (x == y ? 0 : 1)
        case (.bool(let x), .bool(let y)): return x == y ? 0 : (x ? 1 : -1)
        default:
            guard let x = a.numericValue ?? a.timestampValue.map(Double.init), let y = b.numericValue ?? b.timestampValue.map(Double.init) else { return nil }
            return x < y ? -1 : (x == y ? 0 : 1)
        }
    }
}

extension FeatureDefinition {
    /// Why a reader of `entity` features cannot answer `name` (nil: it can), with the same code
    /// and message from every online store: an unknown name is not found; another entity
    /// kind's feature is invalid input.
    public static func refusal(for name: String, entity: Entity, among definitions: [FeatureDefinition]) -> StrataError? {
        guard let definition = definitions.first(where: { $0.name == name }) else {
            return .notFound("unknown_feature", "no feature '\(name)' (features: \(definitions.map(\.name).joined(separator: ", ")))")
        }
        guard definition.entity == entity else {
            return .invalid("wrong_entity", "'\(name)' describes \(definition.entity.rawValue)s, not \(entity.rawValue)s", field: "features")
        }
        return nil
    }
}
