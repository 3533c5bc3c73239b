import Foundation
import Logging
import ServiceLifecycle
import StrataCore
import StrataLake
import Synchronization

/// Kafka topics feeding the lake: a consumer-group member that decodes each message
/// (`KafkaMessageDecoder`), hands the events to the ingestor (which validates them against the
/// contract, stores them durably and dead-letters the invalid), stores messages that are not
/// events at all as dead letters, and only then commits the offsets: at-least-once, so a crash
/// re-delivers what was not committed, and event ids deduplicate the re-delivery. A failed
/// write is retried with backoff, never skipped.
public final class KafkaSource: Service, Sendable {
    public let config: KafkaConfig
    let lake: Lake
    let decoder: KafkaMessageDecoder
    let logger: Logger
    private let totals = Mutex<Totals>(Totals())

    public struct Totals: Sendable {
        public var messages = 0
        public var accepted = 0
        public var deadLettered = 0
        public var committedBatches = 0
    }

    public var counts: Totals { totals.withLock { $0 } }

    public init(config: KafkaConfig, lake: Lake, logger: Logger) throws(StrataError) {
        guard let format = KafkaMessageDecoder.Format(rawValue: config.format) else {
            throw StrataError.invalid("invalid_config", "kafka.format must be auto, json, avro or confluent", field: "kafka.format")
        }
        self.config = config
        self.lake = lake
        self.decoder = try KafkaMessageDecoder(
            contract: lake.ingestor.contract.contract, project: lake.directory.project, format: format, schemaIDs: config.schemaIDs)
        self.logger = logger.with("component", "kafka")
    }

    /// The librdkafka settings of the consumer.
    var consumerProperties: [String: String] {
        var properties = config.properties
        properties["bootstrap.servers"] = config.brokers
        properties["group.id"] = config.group
        return properties
    }

    public func run() async throws {
        let consumer = try KafkaConsumer(properties: consumerProperties, topics: config.topics)
        logger.info(
            "consuming Kafka", metadata: ["brokers": "\(config.brokers)", "topics": "\(config.topics.joined(separator: ","))", "group": "\(config.group)"])
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let messages = try await consumer.poll(max: self.config.batchSize, timeoutMillis: 200)
                    guard !messages.isEmpty else { continue }
                    await self.storeRetrying(messages)
                    guard !Task.isCancelled else { return }
                    do {
                        try await consumer.commit(messages)
                        self.totals.withLock { $0.committedBatches += 1 }
                    } catch {
                        // The events are durable; a later commit (or a re-delivery, deduplicated by event id) covers them.
                        self.logger.warning("committing Kafka offsets failed", metadata: ["error": "\(error)"])
                    }
                } catch {
                    self.logger.error("polling Kafka failed; retrying", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
        await consumer.close()
    }

    /// Stores a batch, retrying until it is durable (or the service stops: then nothing is
    /// committed and the batch is re-delivered to whoever consumes next).
    func storeRetrying(_ messages: [KafkaMessage]) async {
        var delay = Duration.milliseconds(100)
        while !Task.isCancelled {
            do {
                try await store(messages)
                return
            } catch {
                logger.error("storing Kafka messages failed; retrying", metadata: ["error": "\(error)", "messages": "\(messages.count)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(10))
            }
        }
    }

    /// Decodes and stores one batch durably: events through the ingestor, the rest as dead letters.
    public func store(_ messages: [KafkaMessage]) async throws {
        var body: [UInt8] = []
        body.reserveCapacity(messages.count * 160)
        var undecodable: [(rejection: Rejection, raw: String)] = []
        for (index, message) in messages.enumerated() {
            let decoded = message.payload.withUnsafeBytes { raw in Result { () throws(KafkaMessageDecoder.Failure) in try decoder.decode(raw) } }
            switch decoded {
            case .success(let event):
                body += event.serializedBytes
                body.append(UInt8(ascii: "\n"))
            case .failure(let error):
                let raw = String(validating: message.payload, as: UTF8.self) ?? message.payload.prefix(4096).map { String(format: "%02x", $0) }.joined()
                undecodable.append(
                    (
                        Rejection(
                            index: index, field: nil, code: error.code, message: "\(error.message) (\(message.topic)/\(message.partition)@\(message.offset))"),
                        raw
                    ))
            }
        }
        var accepted = 0
        if !body.isEmpty {
            let result = try await lake.ingestor.ingest(body: body, format: .ndjson, source: "kafka", allowLate: true)
            accepted = result.accepted
        }
        try await lake.deadLetters.store(undecodable, source: "kafka", receivedAt: lake.clock.nowMillis())
        let rejectedByIngestor = messages.count - undecodable.count - accepted
        totals.withLock {
            $0.messages += messages.count
            $0.accepted += accepted
            $0.deadLettered += undecodable.count + max(0, rejectedByIngestor)
        }
    }
}
