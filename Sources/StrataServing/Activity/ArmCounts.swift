import Foundation
import StrataCore

/// What one user did with one variant's recommendations.
struct UserOutcome: Sendable, Equatable {
    var impressions: Int32 = 0
    var clicks: Int32 = 0
    var purchases: Int32 = 0
    var revenue = 0.0
}

/// What one variant's recommendations led to, per user — the unit that is randomised, so the
/// statistics judge users, not impressions: impressions, clicks and purchases (with revenue)
/// attributed through their recommendation ids, kept per user, with the sums of squares and
/// products that the delta method needs maintained as events arrive (O(1) per event).
public struct ArmCounts: Sendable, Equatable {
    private(set) var outcomes: [String: UserOutcome] = [:]
    private(set) var summary = ArmSummary(impressions: 0, clicks: 0)

    public init() {}

    mutating func impression(_ user: String) {
        var outcome = outcomes[user] ?? added(user)
        summary.impressions += 1
        summary.impressionsSquared += Double(2 * outcome.impressions + 1)
        summary.impressionsClicks += Double(outcome.clicks)
        outcome.impressions += 1
        outcomes[user] = outcome
    }

    mutating func click(_ user: String) {
        var outcome = outcomes[user] ?? added(user)
        summary.clicks += 1
        summary.clicksSquared += Double(2 * outcome.clicks + 1)
        summary.impressionsClicks += Double(outcome.impressions)
        outcome.clicks += 1
        outcomes[user] = outcome
    }

    mutating func purchase(_ user: String, revenue: Double) {
        var outcome = outcomes[user] ?? added(user)
        summary.purchases += 1
        if outcome.purchases == 0 { summary.purchasers += 1 }
        summary.revenue += revenue
        summary.revenueSquared += 2 * outcome.revenue * revenue + revenue * revenue
        outcome.purchases += 1
        outcome.revenue += revenue
        outcomes[user] = outcome
    }

    private mutating func added(_ user: String) -> UserOutcome {
        summary.users += 1
        return UserOutcome()
    }

    var json: JSONValue {
        .object(
            outcomes.mapValues { outcome in
                .array([.int(Int64(outcome.impressions)), .int(Int64(outcome.clicks)), .int(Int64(outcome.purchases)), .double(outcome.revenue)])
            })
    }

    /// The per-user outcomes of a checkpoint; the sums are rebuilt from them.
    init(json: JSONValue) {
        for (user, values) in json.objectValue ?? [:] {
            guard let values = values.arrayValue, values.count == 4 else { continue }
            for _ in 0..<(values[0].intValue ?? 0) { impression(user) }
            for _ in 0..<(values[1].intValue ?? 0) { click(user) }
            let purchases = values[2].intValue ?? 0
            let revenue = values[3].doubleValue ?? 0
            for index in 0..<purchases { purchase(user, revenue: index == 0 ? revenue : 0) }
        }
    }
}

/// A variant's counts and the per-user sums behind its statistics: over its users (those with
/// any attributed event), Σ impressions², Σ clicks², Σ impressions·clicks and Σ revenue² per
/// user, besides the totals.
public struct ArmSummary: Sendable, Equatable {
    public var impressions: Int
    public var clicks: Int
    public var purchases: Int
    public var revenue: Double
    /// Users with any attributed event, and those of them who bought.
    public var users: Int
    public var purchasers: Int
    public var impressionsSquared = 0.0
    public var clicksSquared = 0.0
    public var impressionsClicks = 0.0
    public var revenueSquared = 0.0

    public init(impressions: Int, clicks: Int, purchases: Int = 0, revenue: Double = 0, users: Int = 0, purchasers: Int = 0) {
        self.impressions = impressions
        self.clicks = clicks
        self.purchases = purchases
        self.revenue = revenue
        self.users = users
        self.purchasers = purchasers
    }
}

extension UserOutcome {
    var isEmpty: Bool { impressions == 0 && clicks == 0 && purchases == 0 && revenue == 0 }

    static func - (a: UserOutcome, b: UserOutcome) -> UserOutcome {
        UserOutcome(
            impressions: a.impressions - b.impressions, clicks: a.clicks - b.clicks, purchases: a.purchases - b.purchases, revenue: a.revenue - b.revenue)
    }

    static func + (a: UserOutcome, b: UserOutcome) -> UserOutcome {
        UserOutcome(
            impressions: a.impressions + b.impressions, clicks: a.clicks + b.clicks, purchases: a.purchases + b.purchases, revenue: a.revenue + b.revenue)
    }

    var json: JSONValue { .array([.int(Int64(impressions)), .int(Int64(clicks)), .int(Int64(purchases)), .double(revenue)]) }

    init?(json: JSONValue) {
        guard let values = json.arrayValue, values.count == 4 else { return nil }
        self.init(
            impressions: Int32(clamping: values[0].intValue ?? 0), clicks: Int32(clamping: values[1].intValue ?? 0),
            purchases: Int32(clamping: values[2].intValue ?? 0), revenue: values[3].doubleValue ?? 0)
    }
}

extension ArmSummary {
    /// The counts and per-user sums of a set of users' outcomes.
    init(outcomes: some Sequence<UserOutcome>) {
        self.init(impressions: 0, clicks: 0)
        for outcome in outcomes where !outcome.isEmpty {
            let n = Double(outcome.impressions)
            let c = Double(outcome.clicks)
            users += 1
            impressions += Int(outcome.impressions)
            clicks += Int(outcome.clicks)
            purchases += Int(outcome.purchases)
            if outcome.purchases > 0 { purchasers += 1 }
            revenue += outcome.revenue
            impressionsSquared += n * n
            clicksSquared += c * c
            impressionsClicks += n * c
            revenueSquared += outcome.revenue * outcome.revenue
        }
    }
}

/// One arm's per-user outcomes in recent buckets of event time (`bucketMinutes` wide), enough
/// to cover the monitoring window: what the quality check compares, per user, with the arm's
/// history before the window.
struct RecentOutcomes: Sendable, Equatable {
    /// Bucket start (minutes since the epoch) → user → outcome.
    private(set) var buckets: [Int64: [String: UserOutcome]] = [:]

    mutating func record(_ user: String, bucket: Int64, _ change: UserOutcome) {
        buckets[bucket, default: [:]][user, default: UserOutcome()] = (buckets[bucket]?[user] ?? UserOutcome()) + change
    }

    /// Per user, the outcomes of buckets starting at or after `from`.
    func since(_ from: Int64) -> [String: UserOutcome] {
        var merged: [String: UserOutcome] = [:]
        for (start, users) in buckets where start >= from {
            for (user, outcome) in users { merged[user] = (merged[user] ?? UserOutcome()) + outcome }
        }
        return merged
    }

    mutating func prune(before: Int64) { buckets = buckets.filter { $0.key >= before } }

    var json: JSONValue {
        .object(Dictionary(uniqueKeysWithValues: buckets.map { (String($0.key), JSONValue.object($0.value.mapValues(\.json))) }))
    }

    init() {}

    init(json: JSONValue) {
        for (start, users) in json.objectValue ?? [:] {
            guard let key = Int64(start) else { continue }
            buckets[key] = (users.objectValue ?? [:]).compactMapValues(UserOutcome.init(json:))
        }
    }
}
