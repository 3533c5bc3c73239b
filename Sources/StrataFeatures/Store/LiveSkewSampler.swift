import Foundation
import StrataCore
import StrataLake

/// The skew proof at run time: the live store's values for a sample of entities, read now,
/// against the point-in-time batch computation over the same events (lake files and log)
/// for the same entities and time. Any mismatch means the online values cannot be trusted
/// for training; the latest result is part of the store's status (and its metrics).
public struct LiveSkewSample: Sendable {
    public var checkedAt: Int64
    public var entities: Int
    public var comparedValues: Int
    public var mismatches: Int
    public var examples: [JSONValue]
    public var milliseconds: Int64

    public var json: JSONValue {
        [
            "checked_at": .string(EventTime.format(millis: checkedAt)), "entities": .int(entities), "compared_values": .int(comparedValues),
            "mismatches": .int(mismatches), "examples": .array(examples), "ms": .int(milliseconds),
        ]
    }
}

extension FeatureStore {
    /// Compares `entities` random entities (half users, half items where both exist).
    public func sampleSkew(entities: Int = 100, seed: UInt64 = UInt64(truncatingIfNeeded: MonotonicClock.nanoseconds())) throws -> LiveSkewSample {
        let start = MonotonicClock.nanoseconds()
        var rng = SplitMix64(seed: seed)
        let keys = engine.entityKeys()
        var queries: [FeatureQuery] = []
        for entity in FeatureDefinition.Entity.allCases {
            let pool = keys[entity] ?? []
            guard !pool.isEmpty else { continue }
            for _ in 0..<min(pool.count, max(1, entities / 2)) {
                queries.append(FeatureQuery(entity: entity, id: pool[rng.nextInt(below: pool.count)], time: 0))
            }
        }
        // Online values and the log offset they cover, with no event applied in between.
        let (time, through, online) = try withApplyingPaused { () throws(StrataError) in
            let time = clock.nowMillis()
            return (time, engine.appliedThrough, try queries.map { query throws(StrataError) in try engine.read(query.entity, id: query.id, at: time) })
        }
        for index in queries.indices { queries[index].time = time }
        let users = Set(queries.filter { $0.entity == .user }.map(\.id))
        let items = Set(queries.filter { $0.entity == .item }.map(\.id))
        let events = try history(through: through).filter { entry in
            entry.event.userID.map(users.contains) == true || entry.event.itemID.map(items.contains) == true
        }
        let batch = try PointInTime.compute(definitions: engine.features.map(\.definition), events: events, queries: queries)
        var sample = LiveSkewSample(checkedAt: time, entities: queries.count, comparedValues: 0, mismatches: 0, examples: [], milliseconds: 0)
        for (index, query) in queries.enumerated() {
            for (live, recomputed) in zip(online[index], batch[index]) {
                sample.comparedValues += 1
                guard live.value != recomputed.value else { continue }
                sample.mismatches += 1
                if sample.examples.count < 10 {
                    sample.examples.append([
                        "entity": .string(query.entity.rawValue), "id": .string(query.id), "feature": .string(live.name), "online": live.json,
                        "batch": recomputed.json,
                    ])
                }
            }
        }
        sample.milliseconds = Int64((MonotonicClock.nanoseconds() - start) / 1_000_000)
        return sample
    }
}
