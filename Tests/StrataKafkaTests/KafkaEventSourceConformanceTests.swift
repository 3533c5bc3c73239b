import Foundation
import StrataCore
import StrataKafka
import StrataLake
import StrataTesting
import Testing

/// The Kafka source passes the conformance suite every event source runs, over librdkafka's
/// mock cluster.
@Suite struct KafkaEventSourceConformanceTests {
    /// A Kafka source fed by a producer that keys each message by its user, as producers must
    /// for each user's events to stay in order across partitions. A delivery returns once the
    /// group's committed offsets cover every message produced: the source commits only what it
    /// has stored. A restart is a process restart: the member leaves, the lake closes, and a new
    /// lake on the same folder and a new member of the same group take over.
    final class KafkaHarness {
        static let topic = "events"
        static let partitions: Int32 = 3
        let cluster: KafkaMockCluster
        let producer: KafkaProducer
        /// Reads the group's committed offsets without joining it.
        let checker: KafkaConsumer
        let directory: TemporaryDirectory
        let config: StrataConfig
        let kafka: KafkaConfig
        private(set) var lake: Lake
        private var running: Task<Void, any Error>
        private var produced: Int64 = 0

        init(_ directory: TemporaryDirectory) throws {
            cluster = try KafkaMockCluster(brokers: 1)
            try cluster.createTopic(Self.topic, partitions: Self.partitions)
            producer = try KafkaProducer(properties: ["bootstrap.servers": cluster.bootstrapServers])
            var kafka = try KafkaConfig(url: "kafka://\(cluster.bootstrapServers)/\(Self.topic)?group=conformance", project: "shop")
            kafka.batchSize = 50
            // A member that vanishes without leaving is noticed after this (the broker's minimum;
            // the mock cluster also waits about this long to rebalance after a restart). A fetch
            // waits at most 20 ms for new messages (librdkafka's 500 ms made each delivery slow).
            kafka.properties = ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500", "fetch.wait.max.ms": "20"]
            var config = StrataConfig.example()
            config.kafka = kafka
            self.kafka = kafka
            self.config = config
            self.directory = directory
            checker = try KafkaConsumer(properties: ["bootstrap.servers": cluster.bootstrapServers, "group.id": kafka.group], topics: [])
            lake = try Fixtures.lake(directory, config: config)
            running = try Self.start(kafka: kafka, lake: lake)
        }

        static func start(kafka: KafkaConfig, lake: Lake) throws -> Task<Void, any Error> {
            let source = try KafkaSource(config: kafka, lake: lake, logger: quietLogger)
            return Task { try await source.run() }
        }

        func deliver(_ payloads: [[UInt8]]) async throws {
            for payload in payloads {
                let user = (try? JSONValue.parse(bytes: payload))?["user_id"]?.stringValue
                try producer.send(topic: Self.topic, key: user.map { Array($0.utf8) }, payload)
            }
            try producer.flush()
            produced += Int64(payloads.count)
            let (checker, target) = (checker, produced)
            // The limit only bounds a hang: under the whole suite's load a restarted member took
            // over 100 s to join the group and commit.
            try await waitUntil("the group's committed offsets to cover all \(target) messages", timeout: .seconds(600)) {
                await Self.committed(checker) == target
            }
        }

        /// The messages the group has committed, over all partitions.
        static func committed(_ checker: KafkaConsumer) async -> Int64 {
            // (A partition the group has not committed yet reads -1001.)
            ((try? await checker.committed(topic: topic, partitions: partitions)) ?? [:]).values.filter { $0 >= 0 }.reduce(0, +)
        }

        func restart() async throws {
            try await stop()
            lake = try Fixtures.lake(directory, config: config)
            running = try Self.start(kafka: kafka, lake: lake)
        }

        func stop() async throws {
            running.cancel()
            _ = try? await running.value
            await lake.close()
        }
    }

    /// The dead letters carry the HTTP API's reason codes (the suite first found the decoder
    /// calling bad JSON `invalid_json` where `POST /v1/events` says `malformed_json`).
    @Test func theKafkaSourceConforms() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let harness = try KafkaHarness(directory)
        try await EventSourceConformance.check(deliver: harness.deliver, restart: harness.restart, lake: { harness.lake })
        try await harness.stop()
        await harness.checker.close()
    }
}
