import StrataCore

/// What one variant's recommendations led to: impressions, clicks, purchases (with revenue)
/// attributed through their recommendation ids, and the users behind them.
public struct ArmCounts: Sendable, Equatable {
    public var impressions = 0
    public var clicks = 0
    public var purchases = 0
    public var revenue = 0.0
    /// Users who were shown something, and those of them who bought.
    public var users: Set<String> = []
    public var purchasers: Set<String> = []

    public init() {}

    /// The counts alone (what the report and the guardrails judge).
    public var summary: ArmSummary {
        ArmSummary(impressions: impressions, clicks: clicks, purchases: purchases, revenue: revenue, users: users.count, purchasers: purchasers.count)
    }

    var json: JSONValue {
        [
            "impressions": .int(Int64(impressions)), "clicks": .int(Int64(clicks)), "purchases": .int(Int64(purchases)), "revenue": .double(revenue),
            "users": .array(users.sorted().map(JSONValue.string)), "purchasers": .array(purchasers.sorted().map(JSONValue.string)),
        ]
    }

    init(json: JSONValue) {
        impressions = Int(json["impressions"]?.intValue ?? 0)
        clicks = Int(json["clicks"]?.intValue ?? 0)
        purchases = Int(json["purchases"]?.intValue ?? 0)
        revenue = json["revenue"]?.doubleValue ?? 0
        users = Set(json["users"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        purchasers = Set(json["purchasers"]?.arrayValue?.compactMap(\.stringValue) ?? [])
    }
}

/// A variant's counts, without the user sets.
public struct ArmSummary: Sendable, Equatable {
    public var impressions: Int
    public var clicks: Int
    public var purchases: Int
    public var revenue: Double
    public var users: Int
    public var purchasers: Int

    public init(impressions: Int, clicks: Int, purchases: Int = 0, revenue: Double = 0, users: Int = 0, purchasers: Int = 0) {
        self.impressions = impressions
        self.clicks = clicks
        self.purchases = purchases
        self.revenue = revenue
        self.users = users
        self.purchasers = purchasers
    }

    /// Counts since `earlier` (a window, for canary guardrails).
    public func since(_ earlier: ArmSummary) -> ArmSummary {
        ArmSummary(
            impressions: impressions - earlier.impressions, clicks: clicks - earlier.clicks, purchases: purchases - earlier.purchases,
            revenue: revenue - earlier.revenue, users: users - earlier.users, purchasers: purchasers - earlier.purchasers)
    }
}
