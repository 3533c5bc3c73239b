import StrataCore

/// Proof that online and batch agree: replay events through the streaming path (arrival order,
/// the clock at the newest event time seen), capture the online values of sampled entities
/// at sampled times, and compare with the point-in-time batch values for the same entity and
/// time. Only events arriving after a sampled time with an earlier event time (late events)
/// can make them differ; they are counted separately.
public struct SkewReport: Sendable {
    public var samples = 0
    public var comparedValues = 0
    public var mismatches: [(query: FeatureQuery, feature: String, online: FieldValue?, batch: FieldValue?)] = []
    /// Events whose time was before the clock when they arrived.
    public var lateEvents = 0

    public var json: JSONValue {
        [
            "samples": .int(samples), "compared_values": .int(comparedValues), "mismatches": .int(mismatches.count), "late_events": .int(lateEvents),
            "examples": .array(
                mismatches.prefix(10).map { mismatch in
                    [
                        "entity": .string(mismatch.query.entity.rawValue), "id": .string(mismatch.query.id),
                        "time": .string(EventTime.format(millis: mismatch.query.time)),
                        "feature": .string(mismatch.feature), "online": mismatch.online?.jsonValue ?? .null, "batch": mismatch.batch?.jsonValue ?? .null,
                    ]
                }),
        ]
    }
}

public enum SkewCheck {
    /// `events` in arrival (log offset) order; `samples` random (entity, time) pairs.
    public static func run(definitions: [FeatureDefinition], events: [(offset: Int64, event: Event)], samples: Int, seed: UInt64 = 1) throws -> SkewReport {
        var report = SkewReport()
        let arrival = events.sorted { $0.offset < $1.offset }
        guard let first = arrival.map(\.event.timestamp).min(), let last = arrival.map(\.event.timestamp).max(), samples > 0 else { return report }
        // Sampled entities are ones the events mention; times spread over the events' span.
        var rng = SplitMix64(seed: seed)
        var users = Set<String>()
        var items = Set<String>()
        for (_, event) in arrival {
            if let user = event.userID { users.insert(user) }
            if let item = event.itemID { items.insert(item) }
        }
        let userList = users.sorted()
        let itemList = items.sorted()
        var queries: [FeatureQuery] = []
        for _ in 0..<samples {
            let entity: FeatureDefinition.Entity = itemList.isEmpty || (!userList.isEmpty && rng.chance(0.5)) ? .user : .item
            let pool = entity == .user ? userList : itemList
            guard !pool.isEmpty else { continue }
            let time = first + Int64(rng.nextDouble() * Double(last - first + 1))
            queries.append(FeatureQuery(entity: entity, id: pool[rng.nextInt(below: pool.count)], time: time))
        }
        report.samples = queries.count

        // Online: the streaming path, capturing each query when the clock reaches its time.
        let online = FeatureEngine(definitions: definitions)
        let byTime = queries.indices.sorted { (queries[$0].time, $0) < (queries[$1].time, $1) }
        var captured = [[FeatureReading]](repeating: [], count: queries.count)
        var clock = Int64.min
        var next = 0
        func capture(upTo time: Int64) throws {
            while next < byTime.count && queries[byTime[next]].time <= time {
                let query = queries[byTime[next]]
                captured[byTime[next]] = try online.read(query.entity, id: query.id, at: query.time)
                next += 1
            }
        }
        for (offset, event) in arrival {
            if event.timestamp < clock { report.lateEvents += 1 }
            // The clock reaching this event's time first lets every earlier query be answered.
            try capture(upTo: event.timestamp)
            clock = max(clock, event.timestamp)
            online.apply(event, offset: offset, now: clock)
        }
        try capture(upTo: .max)

        let batch = try PointInTime.compute(definitions: definitions, events: events, queries: queries)
        for (index, query) in queries.enumerated() {
            for (onlineReading, batchReading) in zip(captured[index], batch[index]) {
                report.comparedValues += 1
                if onlineReading.value != batchReading.value {
                    report.mismatches.append((query, onlineReading.name, onlineReading.value, batchReading.value))
                }
            }
        }
        return report
    }
}
