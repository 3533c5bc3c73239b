import ArgumentParser
import Foundation
import StrataCore
import StrataFeatures
import StrataLake

/// `strata bench features`: the feature engine's hot paths, in process, release mode.
struct BenchFeatures: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features",
        abstract: "Streaming update throughput (one core, 10 features), in-process read latency of 10 features, point-in-time batch time.")

    @Option(help: "Events streamed.") var events = 1_000_000
    @Option(help: "Reads measured.") var reads = 200_000
    @Option(help: "(entity, time) pairs for the point-in-time batch.") var pairs = 100_000
    @Option(help: "Repeats of the streaming measurement (median reported).") var repeats = 3

    /// Ten user features over the example contract: every window kind and most aggregations.
    static let yaml = """
        features:
          views_1h: {entity: user, source: [view], aggregation: count, window: 1h}
          views_24h: {entity: user, source: [view], aggregation: count, window: 24h}
          views_7d: {entity: user, source: [view], aggregation: count, window: 7d, bucket: 1h}
          clicks_24h: {entity: user, source: [click], aggregation: count, window: 24h}
          spend_30d: {entity: user, source: [purchase], filter: "price > 0", aggregation: sum, field: price, window: 30d, default: 0}
          avg_cart_price_7d: {entity: user, source: [add_to_cart], aggregation: mean, field: price, window: 7d}
          max_price_30d: {entity: user, source: [purchase, add_to_cart], aggregation: max, field: price, window: 30d}
          categories_30d: {entity: user, source: [purchase], aggregation: distinct_count, field: category, window: 30d}
          recent_items: {entity: user, source: [view, click, add_to_cart, purchase], aggregation: recent_items, n: 20, window: lifetime}
          click_rate_24h: {entity: user, aggregation: ratio, numerator: clicks_24h, denominator: views_24h}
        """

    /// The example configuration up to its features, with `features` (a `features:` section)
    /// in their place.
    static func config(features: String) throws -> StrataConfig {
        let yaml = ExampleConfig.yaml
        return try StrataConfig.parse(yaml: String(yaml[..<yaml.range(of: "\nfeatures:")!.lowerBound]) + "\n" + features + "\n", file: "(bench)")
    }

    /// Generated events as the log holds them (ingested at their own time).
    static func logged(_ history: [IncomingEvent]) -> [Event] {
        history.map { event in
            let time: Int64 = if case .millis(let t) = event.time { t } else { 0 }
            return Event(
                type: event.type, eventID: event.eventID, userID: event.userID, timestamp: time, ingestedAt: time,
                fields: event.fields.compactMap { field in field.value.map { (field.name, $0) } })
        }
    }

    func run() async throws {
        let config = try Self.config(features: Self.yaml)
        let definitions = config.contract.features
        print("strata bench features: \(definitions.count) feature definitions, \(events) events, one core for streaming and reads")

        var generatorConfig = GeneratorConfig(endMillis: 1_795_000_000_000)
        generatorConfig.users = 20_000
        generatorConfig.items = 20_000
        generatorConfig.days = 30
        var generator = SyntheticGenerator(contract: config.contract, config: generatorConfig)
        let incoming = generator.history(limit: events)
        let stream = Self.logged(incoming)
        // The log's binary records, to include decoding as the streaming service does it.
        let payloads: [[UInt8]] = stream.map { event in
            var bytes: [UInt8] = []
            EventCodec.encode(event, into: &bytes)
            return bytes
        }

        var rates: [Double] = []
        var engine = FeatureEngine(definitions: definitions)
        for _ in 0..<repeats {
            engine = FeatureEngine(definitions: definitions)
            let start = MonotonicClock.nanoseconds()
            for (offset, payload) in payloads.enumerated() {
                let event = try payload.withUnsafeBytes { try EventCodec.decode($0) }
                engine.apply(event, offset: Int64(offset), now: event.timestamp)
            }
            rates.append(Double(payloads.count) * 1e9 / Double(MonotonicClock.nanoseconds() - start))
        }
        let sortedRates = rates.sorted()
        print(
            String(
                format: "streaming update (decode + apply), one core: median %.0f events/s (min %.0f, max %.0f)", sortedRates[sortedRates.count / 2],
                sortedRates.first!, sortedRates.last!))

        let users = Array(Set(stream.compactMap(\.userID))).sorted()
        let now = stream.last!.timestamp + 1
        var rng = SplitMix64(seed: 3)
        // Reads while the clock moves on (10 ms per read, as a server's does: windows slide),
        // first on windows left where the stream put them (each entity's first read slides them
        // itself), then as the live store keeps them: settled every second in the background.
        var sink = 0
        for settled in [false, true] {
            let engine = settled ? engine : FeatureEngine(definitions: definitions)
            if !settled {
                for (offset, event) in stream.enumerated() { engine.apply(event, offset: Int64(offset), now: event.timestamp) }
            }
            var latencies: [Double] = []
            latencies.reserveCapacity(reads)
            var settledThrough = now
            for index in 0..<reads {
                let time = now + Int64(index) * 10
                if settled && time >= settledThrough {
                    engine.settle(at: time)
                    settledThrough = time + 1000
                }
                let user = users[rng.nextInt(below: users.count)]
                let start = MonotonicClock.nanoseconds()
                let values = try engine.read(.user, id: user, at: time)
                latencies.append(Double(MonotonicClock.nanoseconds() - start) / 1000)
                sink &+= values.count
            }
            latencies.sort()
            print(
                String(
                    format: "in-process read of %d features for one user (%@): median %.2f µs, p99 %.2f µs, p99.9 %.2f µs", definitions.count,
                    settled ? "windows settled every second, as the live store does" : "cold: each entity's first read slides its windows",
                    latencies[latencies.count / 2], latencies[latencies.count * 99 / 100], latencies[latencies.count * 999 / 1000]))
        }

        let history = stream.enumerated().map { (offset: Int64($0.offset), event: $0.element) }
        let first = stream.first!.timestamp
        let queries = (0..<pairs).map { _ in
            FeatureQuery(entity: .user, id: users[rng.nextInt(below: users.count)], time: first + Int64(rng.nextDouble() * Double(now - first)))
        }
        let start = MonotonicClock.nanoseconds()
        let values = try PointInTime.compute(definitions: definitions, events: history, queries: queries)
        let seconds = Double(MonotonicClock.nanoseconds() - start) / 1e9
        print(
            String(
                format: "point-in-time batch: %d events, %d (entity, time) pairs, %d features: %.2f s", history.count, queries.count, definitions.count, seconds
            ))
        if sink == 0 && values.isEmpty { print("") }
    }
}
