import Foundation
import StrataCore
import Synchronization

/// A feature's value for one entity, with whether it was computed or is the default.
public struct FeatureReading: Sendable, Equatable {
    public var name: String
    public var value: FieldValue?
    /// True when the entity has nothing for this feature and the default was answered.
    public var isDefault: Bool

    public init(name: String, value: FieldValue?, isDefault: Bool) {
        self.name = name
        self.value = value
        self.isDefault = isDefault
    }

    public var json: JSONValue { value?.jsonValue ?? .null }
}

/// The one computation behind both schedules: events go in (any order), values come out as of
/// a time. The streaming service feeds it the log and reads it at wall-clock time; the batch
/// (point-in-time) computation feeds it history in time order and reads it at each requested
/// time. Entities are sharded, each shard behind its own lock, so readers and the applier
/// rarely wait for each other.
public final class FeatureEngine: Sendable {
    public let features: [CompiledFeature]
    /// Features fed by events, per entity kind and event type.
    let routes: [FeatureDefinition.Entity: [String: [CompiledFeature]]]
    let byName: [String: CompiledFeature]
    /// Every feature of each entity kind, in definition order.
    let entityFeatures: [FeatureDefinition.Entity: [CompiledFeature]]
    let tables: [FeatureDefinition.Entity: [Shard]]
    static let shardCount = 16
    private let progress = Mutex(EngineProgress())

    public init(definitions: [FeatureDefinition]) {
        let slots = Dictionary(definitions.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        let compiled = definitions.enumerated().map { slot, definition in
            CompiledFeature(
                definition, slot: slot,
                ratioSlots: definition.aggregation == .ratio ? (slots[definition.numerator ?? ""] ?? slot, slots[definition.denominator ?? ""] ?? slot) : nil)
        }
        features = compiled
        byName = Dictionary(compiled.map { ($0.definition.name, $0) }, uniquingKeysWith: { first, _ in first })
        var routes: [FeatureDefinition.Entity: [String: [CompiledFeature]]] = [:]
        for feature in compiled where feature.definition.aggregation != .ratio {
            for source in feature.definition.sources { routes[feature.definition.entity, default: [:]][source, default: []].append(feature) }
        }
        self.routes = routes
        entityFeatures = Dictionary(grouping: compiled, by: \.definition.entity)
        tables = Dictionary(uniqueKeysWithValues: FeatureDefinition.Entity.allCases.map { entity in (entity, (0..<Self.shardCount).map { _ in Shard() }) })
    }

    /// One entity's state: a slot per feature, kept together so that a read touches one
    /// buffer rather than every window object (a read of ten features is mostly cache misses).
    final class EntityWindows: @unchecked Sendable {
        var slots: [Slot]

        init(count: Int) {
            slots = Array(repeating: Slot(), count: count)
        }

        var windows: [(any FeatureWindow)?] { slots.map(\.window) }

        /// The feature's value at `time` (not a ratio), remembered until it can change.
        @inline(__always)
        func value(of feature: CompiledFeature, at time: Int64) -> FieldValue? {
            let slot = feature.slot
            if time <= slots[slot].stableThrough { return slots[slot].cached }
            guard let window = slots[slot].window else { return nil }
            let computed = window.value(at: time, feature)
            slots[slot].cached = computed
            slots[slot].stableThrough = window.stableThrough
            return computed
        }
    }

    /// A feature's window (nil until an event feeds it) and the last value read from it, which
    /// stays the answer for every time up to `stableThrough` unless an event changes the window.
    struct Slot {
        var window: (any FeatureWindow)?
        var cached: FieldValue?
        var stableThrough = Int64.min
    }

    /// The states of the entities whose ids hash to one shard.
    final class Shard: Sendable {
        let table = Mutex([String: EntityWindows]())
    }

    @inline(__always)
    func shard(_ entity: FeatureDefinition.Entity, _ key: String) -> Shard {
        var hasher = Hasher()
        hasher.combine(key)
        return tables[entity]![Int(UInt(bitPattern: hasher.finalize()) % UInt(Self.shardCount))]
    }

    // MARK: - Applying events

    /// Feeds one event (at log `offset`). `now` settles everything before it (the streaming
    /// service passes the wall clock; batch passes the event's own time).
    public func apply(_ event: Event, offset: Int64, now: Int64) {
        for (entity, byType) in routes {
            guard let candidates = byType[event.type], let key = CompiledFeature.entityKey(entity, of: event) else { continue }
            // Filters are evaluated once; the accepted candidates are kept as bits (no allocation
            // unless a route has more than 64 features).
            var acceptedBits: UInt64 = 0
            var acceptedBeyond: [Int] = []
            for index in candidates.indices where candidates[index].accepts(event) {
                if index < 64 { acceptedBits |= 1 << UInt64(index) } else { acceptedBeyond.append(index) }
            }
            guard acceptedBits != 0 || !acceptedBeyond.isEmpty else { continue }
            func forEachAccepted(_ body: (CompiledFeature) -> Void) {
                var bits = acceptedBits
                while bits != 0 {
                    body(candidates[bits.trailingZeroBitCount])
                    bits &= bits - 1
                }
                for index in acceptedBeyond { body(candidates[index]) }
            }
            let featureCount = features.count
            shard(entity, key).table.withLock { table in
                let entry: EntityWindows
                if let existing = table[key] {
                    entry = existing
                } else {
                    entry = EntityWindows(count: featureCount)
                    table[key] = entry
                }
                forEachAccepted { feature in
                    let window = entry.slots[feature.slot].window ?? FeatureWindows.make(feature)
                    entry.slots[feature.slot].window = window
                    entry.slots[feature.slot].stableThrough = .min  // the remembered value is stale
                    window.advance(to: now, feature)
                    window.insert(WindowEvent(time: event.timestamp, offset: offset, value: feature.input(of: event)), feature)
                }
            }
            progress.withLock { progress in
                forEachAccepted { feature in progress.note(feature.slot, eventTime: event.timestamp, ingestedAt: event.ingestedAt) }
            }
        }
        progress.withLock { $0.appliedThrough = max($0.appliedThrough, offset + 1) }
    }

    // MARK: - Reading

    /// The named features of one entity as of `time` (all features when `names` is nil).
    public func read(_ entity: FeatureDefinition.Entity, id: String, features names: [String]? = nil, at time: Int64) throws(StrataError) -> [FeatureReading] {
        let wanted = try resolve(names, entity: entity)
        return shard(entity, id).table.withLock { table -> [FeatureReading] in
            guard let entry = table[id] else {
                return wanted.map { FeatureReading(name: $0.definition.name, value: $0.definition.defaultValue, isDefault: true) }
            }
            func value(_ feature: CompiledFeature) -> FieldValue? {
                if let (numeratorSlot, denominatorSlot) = feature.ratioSlots {
                    let numerator = value(features[numeratorSlot])?.numericValue
                    let denominator = value(features[denominatorSlot])?.numericValue
                    return numerator.flatMap { n in denominator.flatMap { d in d == 0 ? nil : .double(n / d) } }
                }
                return entry.value(of: feature, at: time)
            }
            return wanted.map { feature in
                let computed = value(feature)
                return FeatureReading(name: feature.definition.name, value: computed ?? feature.definition.defaultValue, isDefault: computed == nil)
            }
        }
    }

    /// Moves every window whose value has changed by `time` there, and remembers the value:
    /// the expiry a live store runs in the background so that reads find values ready instead
    /// of sliding windows themselves. Locks a shard for a few entities at a time.
    public func settle(at time: Int64) {
        for (entity, shards) in tables {
            // Only this kind's windowed features (ratios are computed from them on read).
            let windowed = (entityFeatures[entity] ?? []).filter { $0.ratioSlots == nil }
            for shard in shards {
                let keys = shard.table.withLock { Array($0.keys) }
                for start in stride(from: 0, to: keys.count, by: 64) {
                    shard.table.withLock { table in
                        for key in keys[start..<min(start + 64, keys.count)] {
                            guard let entry = table[key] else { continue }
                            for feature in windowed where entry.slots[feature.slot].stableThrough < time {
                                _ = entry.value(of: feature, at: time)
                            }
                        }
                    }
                }
            }
        }
    }

    func resolve(_ names: [String]?, entity: FeatureDefinition.Entity) throws(StrataError) -> [CompiledFeature] {
        guard let names else { return entityFeatures[entity] ?? [] }
        var result: [CompiledFeature] = []
        for name in names {
            guard let feature = byName[name], feature.definition.entity == entity else {
                throw FeatureDefinition.refusal(for: name, entity: entity, among: features.map(\.definition))
                    ?? StrataError.internal("feature '\(name)' is neither known nor refused")
            }
            result.append(feature)
        }
        return result
    }

    // MARK: - Status

    /// One past the last log offset applied.
    public var appliedThrough: Int64 { progress.withLock { $0.appliedThrough } }

    /// The ids of the entities with state, per kind.
    public func entityKeys() -> [FeatureDefinition.Entity: [String]] {
        tables.mapValues { shards in shards.flatMap { shard in shard.table.withLock { Array($0.keys) } }.sorted() }
    }

    /// Drops an entity's state (a forgotten user); true if it had any.
    @discardableResult
    public func remove(_ entity: FeatureDefinition.Entity, id: String) -> Bool {
        shard(entity, id).table.withLock { $0.removeValue(forKey: id) != nil }
    }

    /// Entities with state, per kind.
    public var entityCounts: [FeatureDefinition.Entity: Int] {
        tables.mapValues { shards in shards.reduce(0) { total, shard in total + shard.table.withLock { $0.count } } }
    }

    /// Per feature: the newest applied event's times, and whether it is within the SLA at `now`.
    public func freshness(now: Int64) -> [JSONValue] {
        let snapshot = progress.withLock { $0 }
        return features.map { feature in
            var object: [String: JSONValue] = ["feature": .string(feature.definition.name)]
            if let newest = snapshot.newest[feature.slot] {
                let lag = now - newest.ingestedAt
                object["newest_event_time"] = .string(EventTime.format(millis: newest.eventTime))
                object["lag_seconds"] = .double(Double(lag) / 1000)
                if let sla = feature.definition.freshnessMillis { object["within_sla"] = .bool(lag <= sla) }
            }
            if let sla = feature.definition.freshnessMillis { object["freshness_sla_seconds"] = .double(Double(sla) / 1000) }
            return .object(object)
        }
    }

    /// Marks every offset below `end` as applied (the replay got there, though its last events
    /// may have been skipped).
    func advance(through end: Int64) { progress.withLock { $0.appliedThrough = max($0.appliedThrough, end) } }

    func restoreProgress(_ restored: EngineProgress) { progress.withLock { $0 = restored } }
    var progressSnapshot: EngineProgress { progress.withLock { $0 } }
}

/// How far the engine got, and the newest event applied per feature (freshness).
struct EngineProgress: Sendable {
    var appliedThrough: Int64 = 0
    var newest: [Int: (eventTime: Int64, ingestedAt: Int64)] = [:]

    mutating func note(_ slot: Int, eventTime: Int64, ingestedAt: Int64) {
        if let current = newest[slot], current.ingestedAt >= ingestedAt { return }
        newest[slot] = (eventTime, ingestedAt)
    }
}
