import DequeModule
import StrataCore

/// How the engine keeps one feature of one entity. All three kinds answer "the aggregate over
/// events with time in [T − window, T)" (bucketed: over whole buckets) for a moving T,
/// whatever order events arrive in; events at or after T wait until T passes them.
///
/// States are objects changed in place: copying them (and retaining every buffer inside) on
/// each event and read would cost more than the aggregation itself. Each is only touched under
/// the lock of the shard that holds its entity.
protocol FeatureWindow: AnyObject, Sendable {
    func insert(_ event: WindowEvent, _ feature: CompiledFeature)
    /// Moves the window to end at `time` (never backwards).
    func advance(to time: Int64, _ feature: CompiledFeature)
    /// The value of the window as it stands.
    func value(_ feature: CompiledFeature) -> FieldValue?
    /// The latest time at which the value is still the one it has now, unless events arrive:
    /// the next moment an event enters or leaves the window.
    var stableThrough: Int64 { get }
}

extension FeatureWindow {
    /// Moves the window to end at `time` and returns the value there.
    func value(at time: Int64, _ feature: CompiledFeature) -> FieldValue? {
        advance(to: time, feature)
        return value(feature)
    }
}

enum FeatureWindows {
    static func make(_ feature: CompiledFeature) -> any FeatureWindow {
        switch feature.definition.window {
        case .sliding(let length): ExactWindow(length: length)
        case .bucketed(let length, let bucket): BucketedWindow(length: length, bucket: bucket)
        case .lifetime: LifetimeAggregate()
        }
    }
}

/// An exact sliding window: every event kept, in (time, offset) order, until it leaves; the
/// aggregate covers the events with time in [now − length, now), positions `low..<high`.
final class ExactWindow: FeatureWindow, @unchecked Sendable {
    let length: Int64
    var events: Deque<WindowEvent> = []
    var high = 0
    var now = Int64.min
    var aggregate = Aggregate()

    init(length: Int64) {
        self.length = length
    }

    func insert(_ event: WindowEvent, _ feature: CompiledFeature) {
        guard now == .min || event.time >= now - length else { return }  // already out of every future window
        var position = events.count
        while position > 0 && event.precedes(events[position - 1]) { position -= 1 }
        events.insert(event, at: position)
        if event.time < now {
            aggregate.add(event, kind: feature.definition.aggregation, recentCount: feature.definition.recentCount)
            high += 1
        }
    }

    func advance(to time: Int64, _ feature: CompiledFeature) {
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

    var stableThrough: Int64 {
        // Position `high` enters once time passes it; the oldest counted event leaves once time
        // passes it by more than the length.
        min(high < events.count ? events[high].time : .max, high > 0 ? events[0].time + length : .max)
    }

    func value(_ feature: CompiledFeature) -> FieldValue? {
        let kind = feature.definition.aggregation
        switch kind {
        case .min, .max:
            if aggregate.extremesStale {
                aggregate.minimum = nil
                aggregate.maximum = nil
                for index in 0..<high {
                    if let value = events[index].value { aggregate.widenExtremes(value, value) }
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
final class BucketedWindow: FeatureWindow, @unchecked Sendable {
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

    private var span: Int64 { length / bucket }

    /// The first bucket index still in the window ending at `time`.
    private func firstIndex(at time: Int64) -> Int64 {
        time.floorDivided(by: bucket).quotient - span + 1
    }

    func insert(_ event: WindowEvent, _ feature: CompiledFeature) {
        if now == .min || event.time >= now {
            let position = pending.firstIndex { event.precedes($0) } ?? pending.count
            pending.insert(event, at: position)
            return
        }
        add(event, feature)
    }

    private func add(_ event: WindowEvent, _ feature: CompiledFeature) {
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

    func advance(to time: Int64, _ feature: CompiledFeature) {
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

    var stableThrough: Int64 {
        // The oldest bucket leaves when time reaches the bucket `span` after it.
        min(pending.first?.time ?? .max, buckets.first.map { ($0.index + span) * bucket - 1 } ?? .max)
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
final class LifetimeAggregate: FeatureWindow, @unchecked Sendable {
    var aggregate = Aggregate()
    var pending: [WindowEvent] = []
    var now = Int64.min

    func insert(_ event: WindowEvent, _ feature: CompiledFeature) {
        if now == .min || event.time >= now {
            let position = pending.firstIndex { event.precedes($0) } ?? pending.count
            pending.insert(event, at: position)
        } else {
            aggregate.add(event, kind: feature.definition.aggregation, recentCount: feature.definition.recentCount)
        }
    }

    func advance(to time: Int64, _ feature: CompiledFeature) {
        guard time > now else { return }
        now = time
        while let first = pending.first, first.time < time {
            pending.removeFirst()
            aggregate.add(first, kind: feature.definition.aggregation, recentCount: feature.definition.recentCount)
        }
    }

    func value(_ feature: CompiledFeature) -> FieldValue? {
        aggregate.value(kind: feature.definition.aggregation)
    }

    var stableThrough: Int64 { pending.first?.time ?? .max }
}
