import Foundation

/// What an interaction is worth, for training: a weight per event type, optional decay of old
/// interactions, and event types that count against an item (negative signal).
///
/// Repeated interactions of a user with an item accumulate (their weights add up); a negative
/// type adds its weight negatively, so a `hide` after a `view` can cancel it out.
public struct InteractionPolicy: Sendable, Equatable {
    /// Weight of each event type that counts; types not listed are ignored.
    public var weights: [String: Double]
    /// Event types that are negative signal (their weights subtract; serving excludes the item).
    public var negativeTypes: Set<String>
    /// With a half-life, an interaction's weight halves every `halfLifeMillis` before the
    /// reference time (the end of the training data).
    public var halfLifeMillis: Int64?

    public init(weights: [String: Double], negativeTypes: Set<String> = [], halfLifeMillis: Int64? = nil) {
        self.weights = weights
        self.negativeTypes = negativeTypes
        self.halfLifeMillis = halfLifeMillis
    }

    /// The default: every declared event type that names an item counts 1, impressions and
    /// catalog changes do not, `hide` and `dislike` are negative.
    public static func defaults(for contract: Contract) -> InteractionPolicy {
        var weights: [String: Double] = [:]
        var negative: Set<String> = []
        for type in contract.eventTypes where type.field(named: "item_id") != nil && type.name != "impression" {
            weights[type.name] = 1
            if type.name == "hide" || type.name == "dislike" { negative.insert(type.name) }
        }
        return InteractionPolicy(weights: weights, negativeTypes: negative)
    }

    /// The signed, decayed weight of one event, or nil when its type does not count.
    public func weight(type: String, timestamp: Int64, reference: Int64) -> Double? {
        guard let base = weights[type] else { return nil }
        var weight = negativeTypes.contains(type) ? -abs(base) : base
        if let halfLifeMillis, halfLifeMillis > 0, reference > timestamp {
            weight *= pow(2, -Double(reference - timestamp) / Double(halfLifeMillis))
        }
        return weight
    }
}
