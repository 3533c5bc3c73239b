import StrataCore

/// One event as a feature sees it: its time, its log offset (the tie-breaker) and the value of
/// the aggregated field.
public struct WindowEvent: Sendable, Equatable {
    public var time: Int64
    public var offset: Int64
    public var value: FieldValue?

    /// Orders events by (time, offset): "newer" means later in this order.
    @inline(__always)
    func precedes(_ other: WindowEvent) -> Bool {
        time < other.time || (time == other.time && offset < other.offset)
    }
}

/// What an aggregation needs to remember about a set of events, maintained incrementally and
/// independent of the order events arrive in (sums are exact, extremes and latest by value and
/// (time, offset)). Only the parts the aggregation uses are kept.
///
/// Counts and sums are stored inline; the parts of the other aggregations (distinct values,
/// extremes, latest, recent) live in a box allocated the first time one is written. A bucketed
/// window keeps an aggregate per bucket: inline, a count's bucket is 40 bytes where all the
/// parts made it about 200 (`strata bench memory`).
struct Aggregate: Sendable, Equatable {
    var count = 0
    var sum = ExactSum()
    var numericCount = 0
    private var parts: Parts?

    /// The parts only some aggregations use; shared between copies until one is written.
    final class Parts: @unchecked Sendable, Equatable {
        var distinct: [FieldValue: Int] = [:]
        var minimum: FieldValue?
        var maximum: FieldValue?
        var extremesStale = false
        var latest: WindowEvent?
        var latestStale = false
        var recent: [WindowEvent] = []

        static let empty = Parts()

        func copy() -> Parts {
            let copy = Parts()
            (copy.distinct, copy.minimum, copy.maximum, copy.extremesStale) = (distinct, minimum, maximum, extremesStale)
            (copy.latest, copy.latestStale, copy.recent) = (latest, latestStale, recent)
            return copy
        }

        static func == (a: Parts, b: Parts) -> Bool {
            a.distinct == b.distinct && a.minimum == b.minimum && a.maximum == b.maximum && a.extremesStale == b.extremesStale && a.latest == b.latest
                && a.latestStale == b.latestStale && a.recent == b.recent
        }
    }

    static func == (a: Aggregate, b: Aggregate) -> Bool {
        a.count == b.count && a.sum == b.sum && a.numericCount == b.numericCount && (a.parts ?? .empty) == (b.parts ?? .empty)
    }

    /// The parts, allocated or copied (when shared) so that they can be written in place.
    private mutating func writableParts() -> Parts {
        if parts == nil {
            parts = Parts()
        } else if !isKnownUniquelyReferenced(&parts!) {
            parts = parts!.copy()
        }
        return parts!
    }

    var distinct: [FieldValue: Int] {
        get { parts?.distinct ?? [:] }
        _modify {
            let box = writableParts()
            yield &box.distinct
        }
    }
    var minimum: FieldValue? {
        get { parts?.minimum }
        set { writableParts().minimum = newValue }
    }
    var maximum: FieldValue? {
        get { parts?.maximum }
        set { writableParts().maximum = newValue }
    }
    /// Set when a removal may have taken away the minimum or maximum.
    var extremesStale: Bool {
        get { parts?.extremesStale ?? false }
        set { writableParts().extremesStale = newValue }
    }
    var latest: WindowEvent? {
        get { parts?.latest }
        set { writableParts().latest = newValue }
    }
    var latestStale: Bool {
        get { parts?.latestStale ?? false }
        set { writableParts().latestStale = newValue }
    }
    /// Takes `low` into the minimum and `high` into the maximum (one value: both), through one
    /// access to the parts.
    mutating func widenExtremes(_ low: FieldValue, _ high: FieldValue) {
        let box = writableParts()
        if box.minimum == nil || Self.order(low) < Self.order(box.minimum!) { box.minimum = low }
        if box.maximum == nil || Self.order(high) > Self.order(box.maximum!) { box.maximum = high }
    }

    /// Makes `event` the latest when it comes after the one kept.
    mutating func offerLatest(_ event: WindowEvent) {
        let box = writableParts()
        if box.latest.map({ $0.precedes(event) }) ?? true { box.latest = event }
    }

    /// Most recent distinct values, newest first (at most `n`); kept for lifetime and bucketed
    /// windows, while exact windows read them from their events.
    var recent: [WindowEvent] {
        get { parts?.recent ?? [] }
        _modify {
            let box = writableParts()
            yield &box.recent
        }
    }

    mutating func add(_ event: WindowEvent, kind: FeatureDefinition.Aggregation, recentCount: Int) {
        count += 1
        switch kind {
        case .count, .ratio:
            break
        case .sum, .mean:
            if let number = event.value?.numericValue {
                sum.add(number)
                numericCount += 1
            }
        case .min, .max:
            if let value = event.value { widenExtremes(value, value) }
        case .last:
            if event.value != nil { offerLatest(event) }
        case .distinctCount:
            if let value = event.value { distinct[value, default: 0] += 1 }
        case .recentItems:
            Self.offerRecent(event, into: &recent, limit: recentCount)
        }
    }

    /// Takes an event out again (exact windows); extremes and latest are recomputed from the
    /// window's events when the removed one could have been them.
    mutating func remove(_ event: WindowEvent, kind: FeatureDefinition.Aggregation) {
        count -= 1
        switch kind {
        case .count, .ratio, .recentItems:
            break
        case .sum, .mean:
            if let number = event.value?.numericValue {
                sum.add(-number)
                numericCount -= 1
            }
        case .min, .max:
            if let value = event.value, value == minimum || value == maximum { extremesStale = true }
        case .last:
            if event == latest { latestStale = true }
        case .distinctCount:
            if let value = event.value {
                let remaining = (distinct[value] ?? 1) - 1
                if remaining == 0 { distinct.removeValue(forKey: value) } else { distinct[value] = remaining }
            }
        }
    }

    /// Folds another aggregate in (bucketed windows combine their buckets).
    mutating func merge(_ other: Aggregate, kind: FeatureDefinition.Aggregation, recentCount: Int) {
        count += other.count
        switch kind {
        case .count, .ratio:
            break
        case .sum, .mean:
            for partial in other.sum.partials { sum.add(partial) }
            numericCount += other.numericCount
        case .min, .max:
            if let low = other.minimum, let high = other.maximum { widenExtremes(low, high) }
        case .last:
            if let candidate = other.latest { offerLatest(candidate) }
        case .distinctCount:
            for (value, occurrences) in other.distinct { distinct[value, default: 0] += occurrences }
        case .recentItems:
            for event in other.recent { Self.offerRecent(event, into: &recent, limit: recentCount) }
        }
    }

    /// The feature's value, or nil when nothing qualifies. `mutating` though it changes nothing:
    /// the windows keep their aggregates inside objects, and a non-mutating call there copies
    /// the whole aggregate (retaining its dictionary and lists) on every read.
    mutating func value(kind: FeatureDefinition.Aggregation) -> FieldValue? {
        switch kind {
        case .count: return .int(Int64(count))
        case .sum: return numericCount == 0 ? nil : .double(sum.value)
        case .mean: return numericCount == 0 ? nil : .double(sum.value / Double(numericCount))
        case .min: return minimum
        case .max: return maximum
        case .last: return latest?.value
        case .distinctCount: return .int(Int64(distinct.count))
        case .recentItems: return .stringList(recent.compactMap { $0.value?.stringValue })
        case .ratio: return nil
        }
    }

    /// A total order on numeric and time values.
    @inline(__always)
    static func order(_ value: FieldValue) -> Double {
        value.numericValue ?? value.timestampValue.map(Double.init) ?? 0
    }

    /// Keeps `list` the newest `limit` distinct values, newest first.
    static func offerRecent(_ event: WindowEvent, into list: inout [WindowEvent], limit: Int) {
        guard event.value != nil else { return }
        if let existing = list.firstIndex(where: { $0.value == event.value }) {
            guard list[existing].precedes(event) else { return }
            list.remove(at: existing)
        }
        let position = list.firstIndex { $0.precedes(event) } ?? list.count
        guard position < limit else { return }
        list.insert(event, at: position)
        if list.count > limit { list.removeLast() }
    }
}
