import ArgumentParser
import Foundation
import Logging
import StrataCore
import StrataKafka
import StrataLake

/// `strata bench kafka`: ingestion through Kafka end to end — events produced to a topic, then
/// consumed by the Kafka source (decode, validate, durable write with fsync, offset commit) —
/// on librdkafka's mock cluster in this process, or on a real cluster (`--brokers`).
struct BenchKafka: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka", abstract: "Kafka ingestion end to end: produce, then consume into the lake (events/s, median of repeats).")

    @Option(help: "Events per repeat (librdkafka's mock cluster keeps a bounded log per partition).") var events = 60_000
    @Option(help: "Repeats; the median is reported.") var repeats = 3
    @Option(help: "Partitions of the benchmark topic (mock cluster).") var partitions: Int32 = 3
    @Option(help: "Messages per durable write and commit (kafka.batch_size).") var batch = 1000
    @Option(help: "Brokers of a real cluster (host:port,...); default: librdkafka's mock cluster.") var brokers: String?

    func run() async throws {
        LoggingSetup.bootstrap(format: "text")
        var logger = Logger(label: "strata-bench")
        logger.logLevel = .warning
        let cluster = brokers == nil ? try KafkaMockCluster(brokers: 1) : nil
        let bootstrap = brokers ?? cluster!.bootstrapServers
        let config = StrataConfig.example()
        var generatorConfig = GeneratorConfig(endMillis: SystemClock().nowMillis())
        generatorConfig.days = 2
        var generator = SyntheticGenerator(contract: config.contract, config: generatorConfig)
        let template = generator.history(limit: min(events, 50_000))
        print(
            "strata bench kafka: \(events) JSON events a repeat, \(partitions) partitions, batches of \(batch), fsync on, \(brokers == nil ? "librdkafka mock cluster" : bootstrap); machine: \(ProcessInfo.processInfo.activeProcessorCount) cores"
        )
        var produceRates: [Double] = []
        var consumeRates: [Double] = []
        for round in 0..<repeats {
            let topic = "bench-\(getpid())-\(round)"
            try cluster?.createTopic(topic, partitions: partitions)
            let producer = try KafkaProducer(properties: ["bootstrap.servers": bootstrap, "linger.ms": "20", "batch.num.messages": "10000"])
            let produceStart = ContinuousClock.now
            for index in 0..<events {
                var event = template[index % template.count]
                event.eventID = "kafka-\(getpid())-\(round)-\(index)"
                try producer.send(topic: topic, key: event.userID.map { Array($0.utf8) }, event.json.serializedBytes)
            }
            try producer.flush()
            produceRates.append(Double(events) / BenchFigures.seconds(since: produceStart))

            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("strata-bench-kafka-\(getpid())-\(round)").path
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let lake = try Lake(config: config, dataDirectory: directory, logger: logger)
            var kafka = try KafkaConfig(url: "kafka://\(bootstrap)/\(topic)?group=bench-\(getpid())-\(round)", project: config.project)
            kafka.batchSize = batch
            let source = try KafkaSource(config: kafka, lake: lake, logger: logger)
            let consumeStart = ContinuousClock.now
            let running = Task { try await source.run() }
            // Timed from the first batch stored (joining the group takes the mock's rebalance delay,
            // seconds, whatever the volume) until every event is durable and committed.
            var firstBatch: ContinuousClock.Instant?
            var firstCount = 0.0
            var lastProgress = (count: 0, at: ContinuousClock.now)
            while source.counts.messages < events {
                try await Task.sleep(for: .milliseconds(2))
                let count = source.counts.messages
                if count > 0, firstBatch == nil { (firstBatch, firstCount) = (ContinuousClock.now, Double(count)) }
                if count != lastProgress.count { lastProgress = (count, .now) }
                if ContinuousClock.now - lastProgress.at > .seconds(30) {
                    throw StrataError.internal("the source stopped at \(count) of \(events) messages (a mock cluster keeps a bounded log: use fewer --events)")
                }
            }
            let joined = firstBatch.map { $0 - consumeStart } ?? .zero
            let elapsed = BenchFigures.seconds(since: firstBatch ?? consumeStart)
            running.cancel()
            _ = try? await running.value
            guard lake.ingestor.counts.accepted == events else {
                throw StrataError.internal("only \(lake.ingestor.counts.accepted) of \(events) events were stored")
            }
            await lake.close()
            consumeRates.append((Double(events) - firstCount) / elapsed)
            print(
                String(
                    format: "  repeat %d: produced %.0f events/s; joined the group in %.2f s, then consumed into the lake %.0f events/s", round + 1,
                    produceRates.last!, joined.inSeconds, consumeRates.last!))
        }
        print(String(format: "produce (librdkafka, acks=all):               median %.0f events/s", BenchFigures.median(produceRates)))
        print(String(format: "Kafka → lake (decode, validate, fsync, commit): median %.0f events/s", BenchFigures.median(consumeRates)))
    }

}
