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
        // States are objects changed in place by the engine, so each entity is encoded while its
        // shard's lock is held; frames are then written in a stable order.
        var parts: [(entity: FeatureDefinition.Entity, key: String, payload: [UInt8])] = []
        let progress = progressSnapshot
        for entity in FeatureDefinition.Entity.allCases {
            for shard in tables[entity]! {
                shard.table.withLock { table in
                    for (key, entry) in table {
                        var payload: [UInt8] = [entity == .user ? 0 : 1]
                        payload.appendLengthPrefixed(key)
                        payload.appendVarint(UInt64(entry.windows.count))
                        for window in entry.windows {
                            if let window {
                                payload.append(1)
                                StateCodec.append(window, to: &payload)
                            } else {
                                payload.append(0)
                            }
                        }
                        parts.append((entity, key, payload))
                    }
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
        for part in parts.sorted(by: { ($0.entity.rawValue, $0.key) < ($1.entity.rawValue, $1.key) }) { batch.append(payload: part.payload) }
        return (batch.bytes, progress.appliedThrough)
    }

    /// Loads a snapshot written for the same definitions; returns false (and loads nothing) when
    /// there is none or it was written for other definitions.
    func restore(from path: String) throws -> Bool {
        var header: JSONValue?
        var loaded: [(FeatureDefinition.Entity, String, [(any FeatureWindow)?])] = []
        let expected = definitionsHash
        let exists = try FramedFile.forEach(path) { payload in
            if header == nil {
                header = try JSONValue.parse(payload)
                return
            }
            // A snapshot of other definitions (a feature added or changed since) is not read:
            // its entities hold other states, and the store rebuilds from the lake and the log.
            guard header?["definitions"]?.stringValue == expected else { return }
            var reader = PayloadReader(payload)
            let entity: FeatureDefinition.Entity = try reader.byte() == 0 ? .user : .item
            let key = try reader.string()
            let count = Int(try reader.varint())
            guard count == features.count else { throw LogDecodeError(message: "snapshot entity has \(count) states for \(features.count) features") }
            var states: [(any FeatureWindow)?] = []
            for _ in 0..<count { states.append(try reader.byte() == 1 ? try StateCodec.read(&reader) : nil) }
            loaded.append((entity, key, states))
        }
        guard exists, let header, header["definitions"]?.stringValue == definitionsHash, let through = header["applied_through"]?.intValue else { return false }
        for (entity, key, states) in loaded {
            let entry = EntityWindows(count: states.count)
            for (slot, window) in states.enumerated() { entry.slots[slot].window = window }
            shard(entity, key).table.withLock { $0[key] = entry }
        }
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
