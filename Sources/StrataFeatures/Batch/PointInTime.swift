import StrataCore
import StrataLake

/// An entity at a moment: "the features of user u as of time t".
public struct FeatureQuery: Sendable, Equatable {
    public var entity: FeatureDefinition.Entity
    public var id: String
    public var time: Int64

    public init(entity: FeatureDefinition.Entity, id: String, time: Int64) {
        self.entity = entity
        self.id = id
        self.time = time
    }
}

/// Point-in-time features from history: each query sees exactly the events before its time,
/// never one at or after it. The same engine as the online store, fed in time order and read
/// at each query's time.
public enum PointInTime {
    /// Values for every query (in query order), for `features` (default: all of the entity's).
    public static func compute(
        definitions: [FeatureDefinition], events: [(offset: Int64, event: Event)], queries: [FeatureQuery], features: [String]? = nil
    ) throws -> [[FeatureReading]] {
        let engine = FeatureEngine(definitions: definitions)
        let ordered = events.sorted { ($0.event.timestamp, $0.offset) < ($1.event.timestamp, $1.offset) }
        let order = queries.indices.sorted { (queries[$0].time, $0) < (queries[$1].time, $1) }
        var results = [[FeatureReading]](repeating: [], count: queries.count)
        var next = 0
        for index in order {
            let query = queries[index]
            while next < ordered.count && ordered[next].event.timestamp < query.time {
                engine.apply(ordered[next].event, offset: ordered[next].offset, now: ordered[next].event.timestamp)
                next += 1
            }
            results[index] = try engine.read(query.entity, id: query.id, features: features, at: query.time)
        }
        return results
    }

    /// The events of a snapshot that feed `definitions`, with their log offsets.
    public static func events(of manifest: SnapshotManifest, lakeRoot: String, definitions: [FeatureDefinition]) throws -> [(offset: Int64, event: Event)] {
        try SnapshotReader(manifest: manifest, lakeRoot: lakeRoot).events(types: Set(definitions.flatMap(\.sources)))
    }
}
