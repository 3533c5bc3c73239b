import Foundation
import StrataCore
import StrataLake

/// Writing and reading the whole engine's state: a header (format, the features' hash, the log
/// offset covered, freshness), then one frame per entity with its feature states.
extension FeatureEngine {
    /// A hash of the feature definitions: a snapshot is only valid for the same definitions.
    public var definitionsHash: String {
        SHA256Hex.of(JSONValue.array(features.map(\.definition.canonicalJSON)).serializedBytes)
    }

    func snapshotBytes() -> (bytes: [UInt8], appliedThrough: Int64) {
        // Progress first: states may then be slightly newer, which the replay tolerates
        // (re-applying an event is impossible only if it was applied; see `restore`).
        var batch = FramedBatch()
        var parts: [(key: String, entity: FeatureDefinition.Entity, states: [FeatureState?])] = []
        let progress = progressSnapshot
        for entity in FeatureDefinition.Entity.allCases {
            for shard in tables[entity]! {
                shard.table.withLock { table in
                    for (key, states) in table { parts.append((key, entity, states)) }
                }
            }
        }
        let header: JSONValue = [
            "format": 1, "definitions": .string(definitionsHash), "applied_through": .int(progress.appliedThrough),
            "newest": .object(
                Dictionary(
                    uniqueKeysWithValues: progress.newest.map { (String($0.key), JSONValue.array([.int($0.value.eventTime), .int($0.value.ingestedAt)])) })),
        ]
        batch.append(payload: header.serializedBytes)
        var payload: [UInt8] = []
        for part in parts.sorted(by: { ($0.entity.rawValue, $0.key) < ($1.entity.rawValue, $1.key) }) {
            payload.removeAll(keepingCapacity: true)
            payload.append(part.entity == .user ? 0 : 1)
            payload.appendLengthPrefixed(part.key)
            payload.appendVarint(UInt64(part.states.count))
            for state in part.states {
                if let state {
                    payload.append(1)
                    StateCodec.append(state, to: &payload)
                } else {
                    payload.append(0)
                }
            }
            batch.append(payload: payload)
        }
        return (batch.bytes, progress.appliedThrough)
    }

    /// Loads a snapshot written for the same definitions; returns false (and loads nothing) when
    /// there is none or it was written for other definitions.
    func restore(from path: String) throws -> Bool {
        var header: JSONValue?
        var loaded: [(FeatureDefinition.Entity, String, [FeatureState?])] = []
        let exists = try FramedFile.forEach(path) { payload in
            if header == nil {
                header = try JSONValue.parse(payload)
                return
            }
            var reader = PayloadReader(payload)
            let entity: FeatureDefinition.Entity = try reader.byte() == 0 ? .user : .item
            let key = try reader.string()
            let count = Int(try reader.varint())
            guard count == features.count else { throw LogDecodeError(message: "snapshot entity has \(count) states for \(features.count) features") }
            var states: [FeatureState?] = []
            for _ in 0..<count { states.append(try reader.byte() == 1 ? try StateCodec.read(&reader) : nil) }
            loaded.append((entity, key, states))
        }
        guard exists, let header, header["definitions"]?.stringValue == definitionsHash, let through = header["applied_through"]?.intValue else { return false }
        for (entity, key, states) in loaded { shard(entity, key).table.withLock { $0[key] = states } }
        var progress = EngineProgress(appliedThrough: through)
        for (slot, times) in header["newest"]?.objectValue ?? [:] {
            if let slot = Int(slot), let values = times.arrayValue, values.count == 2, let time = values[0].intValue, let ingested = values[1].intValue {
                progress.newest[slot] = (time, ingested)
            }
        }
        restoreProgress(progress)
        return true
    }
}
