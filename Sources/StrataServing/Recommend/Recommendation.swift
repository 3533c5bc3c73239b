import StrataCore

/// Where an answer came from.
public enum RecommendationSource: String, Sendable {
    /// The batch job's precomputed list.
    case cache
    /// The live model (fold-in of the user's recent items, scored over the catalog).
    case live
    /// Trending items (no history to go on).
    case trending
}

/// What a caller asks for.
public struct RecommendationRequest: Sendable {
    public var user: String
    public var n: Int
    public var exclude: Set<String>
    public var filter: ItemFilter
    public var cursor: PageCursor?
    /// nil: `serving.deployment`.
    public var deployment: String?
    /// Whether items impressed to the user lately are left out (nil: `serving.exclude_impressed`).
    public var excludeImpressed: Bool?
    /// Free-form request context (page, device, ...), echoed for the caller's logs.
    public var context: [String: String]

    public init(
        user: String, n: Int = 10, exclude: Set<String> = [], filter: ItemFilter = ItemFilter(), cursor: PageCursor? = nil, deployment: String? = nil,
        excludeImpressed: Bool? = nil, context: [String: String] = [:]
    ) {
        self.user = user
        self.n = n
        self.exclude = exclude
        self.filter = filter
        self.cursor = cursor
        self.deployment = deployment
        self.excludeImpressed = excludeImpressed
        self.context = context
    }
}

/// One answer: the items, which deployment, variant and model version produced them, where
/// they came from, the id that later events carry for attribution, and the lineage behind them.
public struct Recommendation: Sendable {
    public var id: RecommendationID
    public var deployment: String
    public var variant: String
    public var lineage: ServingLineage?
    public var source: RecommendationSource
    public var items: [(id: String, score: Float)]
    public var nextCursor: PageCursor?
    public var contractVersion: String
    public var context: [String: String] = [:]

    public var json: JSONValue {
        [
            "recommendation_id": .string(id.text), "deployment": .string(deployment), "variant": .string(variant),
            "model": lineage.map { .string($0.model) } ?? .null, "version": lineage.map { .int($0.version) } ?? .null, "source": .string(source.rawValue),
            "items": .array(items.map { ["id": .string($0.id), "score": .double(Double($0.score))] }),
            "next_cursor": nextCursor.map { .string($0.token) } ?? .null,
            "lineage": [
                "model_version": lineage.map { .string($0.model + "@" + String($0.version)) } ?? .null, "run": lineage.map { .string($0.runID) } ?? .null,
                "data_version": lineage.map { .string($0.dataVersion) } ?? .null, "contract_version": .string(lineage?.contractVersion ?? contractVersion),
                "serving_contract_version": .string(contractVersion),
            ],
            "context": .object(context.mapValues(JSONValue.string)),
        ]
    }
}
