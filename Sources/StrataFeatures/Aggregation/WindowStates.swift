import DequeModule
import StrataCore

/// How the engine keeps one feature of one entity. All three answer "the aggregate over events
/// with time in [T − window, T)" (bucketed: over whole buckets) for a moving T, whatever order
/// events arrive in; events at or after T wait until T passes them.
enum FeatureState: Sendable, Equatable {
    case exact(ExactWindow)
    case bucketed(BucketedWindow)
    case lifetime(LifetimeAggregate)

    init(_ feature: CompiledFeature) {
        switch feature.definition.window {
        case .sliding(let length): self = .exact(ExactWindow(length: length))
        case .bucketed(let length, let bucket): self = .bucketed(BucketedWindow(length: length, bucket: bucket))
        case .lifetime: self = .lifetime(LifetimeAggregate())
        }
    }

    mutating func insert(_ event: WindowEvent, _ feature: CompiledFeature) {
        switch self {
        case .exact(var state):
            state.insert(event, feature)
            self = .exact(state)
        case .bucketed(var state):
            state.insert(event, feature)
            self = .bucketed(state)
        case .lifetime(var state):
            state.insert(event, feature)
            self = .lifetime(state)
        }
    }

    /// Moves the window to end at `time` (never backwards) and returns the value there.
    mutating func value(at time: Int64, _ feature: CompiledFeature) -> FieldValue? {
        switch self {
        case .exact(var state):
            state.advance(to: time, feature)
            let value = state.value(feature)
            self = .exact(state)
            return value
        case .bucketed(var state):
            state.advance(to: time, feature)
            let value = state.value(feature)
            self = .bucketed(state)
            return value
        case .lifetime(var state):
            state.advance(to: time, feature)
            let value = state.aggregate.value(kind: feature.definition.aggregation)
            self = .lifetime(state)
            return value
        }
    }

    mutating func advance(to time: Int64, _ feature: CompiledFeature) {
        switch self {
        case .exact(var state):
            state.advance(to: time, feature)
            self = .exact(state)
        case .bucketed(var state):
            state.advance(to: time, feature)
            self = .bucketed(state)
        case .lifetime(var state):
            state.advance(to: time, feature)
            self = .lifetime(state)
        }
    }
}

/// An exact sliding window: every event kept, in (time, offset) order, until it leaves; the
/// aggregate covers the events with time in [now − length, now), positions `low..<high`.
struct ExactWindow: Sendable, Equatable {
    let length: Int64
    var events: Deque<WindowEvent> = []
    var high = 0
    var now = Int64.min
    var aggregate = Aggregate()

    init(length: Int64) {
        self.length = length
    }

    mutating func insert(_ event: WindowEvent, _ feature: CompiledFeature) {
        guard now == .min || event.time >= now - length else { return }  // already out of every future window
        var position = events.count
        while position > 0 && event.precedes(events[position - 1]) { position -= 1 }
        events.insert(event, at: position)
        if event.time < now {
            aggregate.add(event, kind: feature.definition.aggregation, recentCount: feature.definition.recentCount)
            high += 1
        }
    }

    mutating func advance(to time: Int64, _ feature: CompiledFeature) {
        guard time > now else { return }
        now = time
        let kind = feature.definition.aggregation
        while high < events.count && events[high].time < time {
            aggregate.add(events[high], kind: kind, recentCount: feature.definition.recentCount)
            high += 1
        }
        // Leaving events are at the front: no scan of the rest.
        while let first = events.first, first.time < time - length {
            if high > 0 {
                aggregate.remove(first, kind: kind)
                high -= 1
            }
            events.removeFirst()
        }
    }

    mutating func value(_ feature: CompiledFeature) -> FieldValue? {
        let kind = feature.definition.aggregation
        switch kind {
        case .min, .max:
            if aggregate.extremesStale {
                aggregate.minimum = nil
                aggregate.maximum = nil
                for index in 0..<high {
                    guard let value = events[index].value else { continue }
                    if aggregate.minimum == nil || Aggregate.order(value) < Aggregate.order(aggregate.minimum!) { aggregate.minimum = value }
                    if aggregate.maximum == nil || Aggregate.order(value) > Aggregate.order(aggregate.maximum!) { aggregate.maximum = value }
                }
                aggregate.extremesStale = false
            }
        case .last:
            if aggregate.latestStale || (aggregate.latest == nil && high > 0) {
                aggregate.latest = nil
                var index = high - 1
                while index >= 0 {
                    if events[index].value != nil {
                        aggregate.latest = events[index]
                        break
                    }
                    index -= 1
                }
                aggregate.latestStale = false
            }
        case .recentItems:
            var recent: [WindowEvent] = []
            var index = high - 1
            while index >= 0 && recent.count < feature.definition.recentCount {
                Aggregate.offerRecent(events[index], into: &recent, limit: feature.definition.recentCount)
                index -= 1
            }
            aggregate.recent = recent
        default:
            break
        }
        return aggregate.value(kind: kind)
    }
}

/// A sliding window counted in buckets: per bucket an aggregate, plus a running total of the
/// buckets in the window for the additive parts. Events at or after `now` wait in `pending`.
struct BucketedWindow: Sendable, Equatable {
    let length: Int64
    let bucket: Int64
    var buckets: Deque<(index: Int64, aggregate: Aggregate)> = []
    var pending: [WindowEvent] = []
    var now = Int64.min
    /// Count, sum and distinct values of all buckets in the window, kept as buckets come and go,
    /// so that additive features read in constant time.
    var total = Aggregate()

    init(length: Int64, bucket: Int64) {
        self.length = length
        self.bucket = bucket
    }

    static func == (lhs: BucketedWindow, rhs: BucketedWindow) -> Bool {
        lhs.length == rhs.length && lhs.bucket == rhs.bucket && lhs.now == rhs.now && lhs.pending == rhs.pending && lhs.total == rhs.total
            && lhs.buckets.elementsEqual(rhs.buckets) { $0.index == $1.index && $0.aggregate == $1.aggregate }
    }

    private var span: Int64 { length / bucket }

    /// The first bucket index still in the window ending at `time`.
    private func firstIndex(at time: Int64) -> Int64 {
        time.floorDivided(by: bucket).quotient - span + 1
    }

    mutating func insert(_ event: WindowEvent, _ feature: CompiledFeature) {
        if now == .min || event.time >= now {
            let position = pending.firstIndex { event.precedes($0) } ?? pending.count
            pending.insert(event, at: position)
            return
        }
        add(event, feature)
    }

    private mutating func add(_ event: WindowEvent, _ feature: CompiledFeature) {
        let index = event.time.floorDivided(by: bucket).quotient
        guard index >= firstIndex(at: now) else { return }
        var position = buckets.count
        while position > 0 && buckets[position - 1].index > index { position -= 1 }
        if position == 0 || buckets[position - 1].index != index {
            buckets.insert((index, Aggregate()), at: position)
            position += 1
        }
        buckets[position - 1].aggregate.add(event, kind: feature.definition.aggregation, recentCount: feature.definition.recentCount)
        if Self.isAdditive(feature.definition.aggregation) {
            total.add(event, kind: feature.definition.aggregation, recentCount: feature.definition.recentCount)
        }
    }

    static func isAdditive(_ kind: FeatureDefinition.Aggregation) -> Bool {
        kind == .count || kind == .sum || kind == .mean || kind == .distinctCount
    }

    mutating func advance(to time: Int64, _ feature: CompiledFeature) {
        guard time > now else { return }
        now = time
        while let first = pending.first, first.time < time {
            pending.removeFirst()
            add(first, feature)
        }
        let first = firstIndex(at: time)
        let kind = feature.definition.aggregation
        while let oldest = buckets.first, oldest.index < first {
            buckets.removeFirst()
            guard Self.isAdditive(kind) else { continue }
            total.count -= oldest.aggregate.count
            total.numericCount -= oldest.aggregate.numericCount
            for partial in oldest.aggregate.sum.partials { total.sum.add(-partial) }
            for (value, occurrences) in oldest.aggregate.distinct {
                let remaining = (total.distinct[value] ?? occurrences) - occurrences
                if remaining == 0 { total.distinct.removeValue(forKey: value) } else { total.distinct[value] = remaining }
            }
        }
    }

    func value(_ feature: CompiledFeature) -> FieldValue? {
        let kind = feature.definition.aggregation
        if Self.isAdditive(kind) { return total.value(kind: kind) }
        var merged = Aggregate()
        for entry in buckets { merged.merge(entry.aggregate, kind: kind, recentCount: feature.definition.recentCount) }
        return merged.value(kind: kind)
    }
}

/// Every event before `now`, as one running aggregate (nothing ever leaves).
struct LifetimeAggregate: Sendable, Equatable {
    var aggregate = Aggregate()
    var pending: [WindowEvent] = []
    var now = Int64.min

    mutating func insert(_ event: WindowEvent, _ feature: CompiledFeature) {
        if now == .min || event.time >= now {
            let position = pending.firstIndex { event.precedes($0) } ?? pending.count
            pending.insert(event, at: position)
        } else {
            aggregate.add(event, kind: feature.definition.aggregation, recentCount: feature.definition.recentCount)
        }
    }

    mutating func advance(to time: Int64, _ feature: CompiledFeature) {
        guard time > now else { return }
        now = time
        while let first = pending.first, first.time < time {
            pending.removeFirst()
            aggregate.add(first, kind: feature.definition.aggregation, recentCount: feature.definition.recentCount)
        }
    }
}
