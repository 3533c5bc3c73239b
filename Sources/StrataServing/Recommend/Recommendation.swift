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
    /// The re-ranker version that ordered the items, if one did.
    public var reranker: String? = nil
    /// For trending answers, what the scores are (decayed interactions as of now, or
    /// interactions over the whole history when recent ones are too few to rank by).
    public var scoreBasis: ServingActivity.TrendingBasis? = nil
    public var context: [String: String] = [:]

    /// What the items' scores are: the model's scores, or `scoreBasis` for trending items.
    public var scoreBasisText: String { scoreBasis?.rawValue ?? (source == .trending ? ServingActivity.TrendingBasis.decayed.rawValue : "model") }

    public var json: JSONValue {
        [
            "recommendation_id": .string(id.text), "deployment": .string(deployment), "variant": .string(variant),
            "model": lineage.map { .string($0.model) } ?? .null, "version": lineage.map { .int($0.version) } ?? .null, "source": .string(source.rawValue),
            "score_basis": .string(scoreBasisText),
            "items": .array(items.map { ["id": .string($0.id), "score": .double(Double("\($0.score)") ?? 0)] }),
            "next_cursor": nextCursor.map { .string($0.token) } ?? .null,
            "lineage": [
                "model_version": lineage.map { .string($0.model + "@" + String($0.version)) } ?? .null, "run": lineage.map { .string($0.runID) } ?? .null,
                "data_version": lineage.map { .string($0.dataVersion) } ?? .null, "contract_version": .string(lineage?.contractVersion ?? contractVersion),
                "serving_contract_version": .string(contractVersion), "reranker": reranker.map(JSONValue.string) ?? .null,
            ],
            "context": .object(context.mapValues(JSONValue.string)),
        ]
    }

    /// The same document as `json`, written directly (the hot path: no intermediate values).
    public var serialized: String {
        var out = ""
        out.reserveCapacity(640 + items.count * 40)
        func field(_ name: String, _ value: String?, first: Bool = false) {
            out += first ? "{\"" : ",\""
            out += name
            out += "\":"
            if let value { JSONValue.writeQuoted(value, to: &out) } else { out += "null" }
        }
        field("recommendation_id", id.text, first: true)
        field("deployment", deployment)
        field("variant", variant)
        field("model", lineage?.model)
        out += ",\"version\":"
        out += lineage.map { String($0.version) } ?? "null"
        field("source", source.rawValue)
        field("score_basis", scoreBasisText)
        out += ",\"items\":["
        for (index, item) in items.enumerated() {
            out += index == 0 ? "{\"id\":" : ",{\"id\":"
            JSONValue.writeQuoted(item.id, to: &out)
            out += ",\"score\":"
            out += item.score.isFinite ? "\(item.score)" : "null"
            out += "}"
        }
        out += "]"
        field("next_cursor", nextCursor?.token)
        out += ",\"lineage\":"
        field("model_version", lineage.map { "\($0.model)@\($0.version)" }, first: true)
        field("run", lineage?.runID)
        field("data_version", lineage?.dataVersion)
        field("contract_version", lineage?.contractVersion ?? contractVersion)
        field("serving_contract_version", contractVersion)
        field("reranker", reranker)
        out += "}"
        out += ",\"context\":{"
        for (index, key) in context.keys.sorted().enumerated() {
            if index > 0 { out += "," }
            JSONValue.writeQuoted(key, to: &out)
            out += ":"
            JSONValue.writeQuoted(context[key]!, to: &out)
        }
        out += "}}"
        return out
    }
}
