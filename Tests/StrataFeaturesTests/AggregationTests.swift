import Foundation
import StrataCore
import StrataTesting
import Testing

@testable import StrataFeatures

@Suite struct AggregationTests {
    @Test func exactSumIsTheSameInAnyOrderAndUndoesRemovals() {
        var rng = SplitMix64(seed: 1)
        let values = (0..<2000).map { _ in (rng.nextDouble() - 0.5) * pow(10, Double(rng.nextInt(below: 12)) - 4) }
        var forward = ExactSum()
        for value in values { forward.add(value) }
        var shuffled = values
        for index in stride(from: shuffled.count - 1, to: 0, by: -1) { shuffled.swapAt(index, rng.nextInt(below: index + 1)) }
        var backward = ExactSum()
        for value in shuffled { backward.add(value) }
        #expect(forward.value == backward.value)
        var withRemovals = forward
        for value in values.prefix(1000) { withRemovals.add(-value) }
        var rest = ExactSum()
        for value in values.dropFirst(1000) { rest.add(value) }
        #expect(withRemovals.value == rest.value)
        var tiny = ExactSum()
        for value in [1e16, 1.0, -1e16] { tiny.add(value) }
        #expect(tiny.value == 1.0, "naive summation gives 0")
    }

    /// Every aggregation over random, out-of-order events, read at random increasing times,
    /// against a brute-force computation over the raw events.
    @Test(arguments: [FeatureDefinition.Window.sliding(lengthMillis: 600), .bucketed(lengthMillis: 600, bucketMillis: 100), .lifetime])
    func windowsAgreeWithBruteForce(window: FeatureDefinition.Window) throws {
        let aggregations: [(FeatureDefinition.Aggregation, String?, FieldType)] = [
            (.count, nil, .int), (.sum, "price", .double), (.mean, "price", .double), (.min, "price", .double), (.max, "price", .double),
            (.last, "item_id", .string), (.distinctCount, "item_id", .int), (.recentItems, "item_id", .stringList),
        ]
        let definitions = aggregations.map { aggregation, field, type in
            FeatureDefinition(
                name: aggregation.rawValue, entity: .user, sources: ["buy"], aggregation: aggregation, field: field, window: window, recentCount: 3,
                valueType: type)
        }
        var rng = SplitMix64(seed: 7)
        var events: [(offset: Int64, event: Event)] = []
        for offset in 0..<3000 {
            // Mostly increasing times with some arriving late.
            let time = Int64(offset) * 3 - (rng.chance(0.2) ? Int64(rng.nextInt(below: 400)) : 0)
            let event = Event(
                type: "buy", userID: "u\(rng.nextInt(below: 3))", timestamp: time, ingestedAt: 0,
                fields: [("item_id", .string("i\(rng.nextInt(below: 6))")), ("price", .double(Double(rng.nextInt(below: 1000)) / 7))])
            events.append((Int64(offset), event))
        }
        let engine = FeatureEngine(definitions: definitions)
        var readTime: Int64 = 0
        var applied = 0
        var checks = 0
        while applied < events.count {
            let batch = min(events.count, applied + 1 + rng.nextInt(below: 60))
            for index in applied..<batch { engine.apply(events[index].event, offset: events[index].offset, now: readTime) }
            applied = batch
            // Several reads between batches: values remembered from one read must change
            // exactly when events enter or leave the window.
            for _ in 0...rng.nextInt(below: 3) {
                // Small steps and bucket edges reach the exact times where values change.
                readTime += Int64(rng.chance(0.5) ? rng.nextInt(below: 4) : rng.nextInt(below: 200))
                if rng.chance(0.2) { readTime = (readTime / 100 + 1) * 100 }
                for user in ["u0", "u1", "u2"] {
                    let readings = try engine.read(.user, id: user, at: readTime)
                    let seen = events.prefix(applied).filter { $0.event.userID == user }
                    for (definition, reading) in zip(definitions, readings) {
                        #expect(reading.value == Self.bruteForce(definition, seen, at: readTime), "\(definition.name) at \(readTime)")
                        checks += 1
                    }
                }
            }
        }
        #expect(checks > 1000)
    }

    static func bruteForce(_ feature: FeatureDefinition, _ events: [(offset: Int64, event: Event)], at time: Int64) -> FieldValue? {
        let inWindow = events.filter { entry in
            let t = entry.event.timestamp
            guard t < time else { return false }
            switch feature.window {
            case .lifetime: return true
            case .sliding(let length): return t >= time - length
            case .bucketed(let length, let bucket):
                let first = time.floorDivided(by: bucket).quotient - length / bucket + 1
                return t.floorDivided(by: bucket).quotient >= first
            }
        }.sorted { ($0.event.timestamp, $0.offset) < ($1.event.timestamp, $1.offset) }
        let values = inWindow.compactMap { $0.event[field: feature.field ?? ""] }
        switch feature.aggregation {
        case .count: return .int(Int64(inWindow.count))
        case .sum:
            guard !values.isEmpty else { return nil }
            var sum = ExactSum()
            for value in values { sum.add(value.numericValue!) }
            return .double(sum.value)
        case .mean:
            guard !values.isEmpty else { return nil }
            var sum = ExactSum()
            for value in values { sum.add(value.numericValue!) }
            return .double(sum.value / Double(values.count))
        case .min: return values.min { $0.numericValue! < $1.numericValue! }
        case .max: return values.max { $0.numericValue! < $1.numericValue! }
        case .last: return inWindow.last?.event[field: feature.field!]
        case .distinctCount: return .int(Int64(Set(values).count))
        case .recentItems:
            var recent: [String] = []
            for entry in inWindow.reversed() {
                let id = entry.event[field: "item_id"]!.stringValue!
                if !recent.contains(id) { recent.append(id) }
                if recent.count == feature.recentCount { break }
            }
            return .stringList(recent)
        case .ratio: return nil
        }
    }

    @Test func filtersAndRatios() throws {
        let config = try StrataConfig.parse(
            yaml: """
                events:
                  view: {fields: {item_id: {type: string, required: true}}}
                  purchase: {fields: {item_id: {type: string, required: true}, price: double, currency: string}}
                features:
                  eur_spend: {entity: user, source: purchase, filter: ["price > 10", "currency in ['EUR']"], aggregation: sum, field: price, window: lifetime}
                  views: {entity: item, source: view, aggregation: count, window: lifetime}
                  buys: {entity: item, source: purchase, aggregation: count, window: lifetime}
                  conversion: {entity: item, aggregation: ratio, numerator: buys, denominator: views}
                """, file: "f.yaml")
        let engine = FeatureEngine(definitions: config.contract.features)
        func event(_ type: String, _ fields: [(String, FieldValue)], at time: Int64) -> Event {
            Event(type: type, userID: "u", timestamp: time, ingestedAt: time, fields: [("item_id", .string("i"))] + fields.map { (name: $0.0, value: $0.1) })
        }
        let events = [
            event("purchase", [("price", .double(20)), ("currency", .string("EUR"))], at: 1),
            event("purchase", [("price", .double(5)), ("currency", .string("EUR"))], at: 2),
            event("purchase", [("price", .double(30)), ("currency", .string("USD"))], at: 3),
            event("view", [], at: 4), event("view", [], at: 5), event("view", [], at: 6), event("view", [], at: 7),
        ]
        for (offset, item) in events.enumerated() { engine.apply(item, offset: Int64(offset), now: item.timestamp) }
        #expect(try engine.read(.user, id: "u", at: 100).first?.value == .double(20))
        let item = try engine.read(.item, id: "i", at: 100)
        #expect(item.first { $0.name == "conversion" }?.value == .double(3.0 / 4.0))
        let unknown = try engine.read(.item, id: "nobody", at: 100)
        #expect(unknown.allSatisfy { $0.isDefault })
        #expect(unknown.first { $0.name == "views" }?.value == .int(0))
        #expect(throws: StrataError.self) { try engine.read(.item, id: "i", features: ["eur_spend"], at: 100) }
    }
}
