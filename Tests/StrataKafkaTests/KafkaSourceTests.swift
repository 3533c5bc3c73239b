import Foundation
import StrataCore
import StrataLake
import StrataTesting
import Synchronization
import Testing

@testable import StrataKafka

/// Kafka as a source, against librdkafka's own mock cluster (real brokers on local ports) and
/// Avro records written by a real Avro library (fastavro from PyPI): JSON, plain Avro and
/// Confluent-framed Avro become events; bad messages become dead letters; offsets are committed
/// only after the events are durable, so a crash before the commit re-delivers them
/// (deduplicated by event id), and a restarted member resumes after what was committed.
@Suite(.serialized) struct KafkaSourceTests {
    static let schemaJSON = StrataConfig.example().contract.avroSchema(project: "shop").serialized

    /// fastavro's encoding of `records` (`[type, record]` pairs) in the exported union schema
    /// (`framing`: none, or a Confluent schema id and the schema it names: the union or one record).
    static func fastavro(_ records: String, union: Bool = true) throws -> [[UInt8]]? {
        let script = """
            import sys, io, json, fastavro
            schema = fastavro.parse_schema(json.loads(sys.argv[1]))
            names = [r['name'] for r in json.loads(sys.argv[1])]
            union = sys.argv[3] == 'union'
            for type_name, record in json.loads(sys.argv[2]):
                out = io.BytesIO()
                if union:
                    fastavro.schemaless_writer(out, schema, (f'strata.shop.events.{type_name}', record))
                else:
                    one = fastavro.parse_schema(json.loads(sys.argv[1])[names.index(type_name)])
                    fastavro.schemaless_writer(out, one, record)
                print(out.getvalue().hex())
            """
        guard let output = try runPython(script, arguments: [schemaJSON, records, union ? "union" : "record"], requiring: ["fastavro"]) else { return nil }
        return output.split(separator: "\n").map { line in
            stride(from: 0, to: line.count, by: 2).map { UInt8(line.dropFirst($0).prefix(2), radix: 16)! }
        }
    }

    @Test func decodesRecordsWrittenByFastavro() throws {
        let now: Int64 = 1_790_000_000_000
        let records = """
            [["view", {"event_id": "v1", "user_id": "u1", "timestamp": \(now), "item_id": "i1", "session_id": null, "recommendation_id": null, "page": "home"}],
             ["purchase", {"event_id": null, "user_id": "u2", "timestamp": \(now + 1), "item_id": "i2", "order_id": "o9", "session_id": null,
               "recommendation_id": null, "quantity": 3, "price": 19.5, "currency": "EUR", "category": null}],
             ["click", {"event_id": "c1", "user_id": "ü ß", "timestamp": -5, "item_id": "i3", "session_id": "s", "recommendation_id": "r", "position": -2}]]
            """
        guard let payloads = try Self.fastavro(records) else { return }
        let decoder = try KafkaMessageDecoder(contract: StrataConfig.example().contract, project: "shop", format: .avro, schemaIDs: [:])
        let decoded = try payloads.map { bytes in try bytes.withUnsafeBytes { try decoder.decode($0) } }
        #expect(decoded[0] == ["type": "view", "event_id": "v1", "user_id": "u1", "timestamp": .int(now), "item_id": "i1", "page": "home"])
        #expect(
            decoded[1] == [
                "type": "purchase", "user_id": "u2", "timestamp": .int(now + 1), "item_id": "i2", "order_id": "o9", "quantity": 3, "price": 19.5,
                "currency": "EUR",
            ])
        #expect(decoded[2]["user_id"] == "ü ß")
        #expect(decoded[2]["timestamp"] == -5)
        #expect(decoded[2]["position"] == -2)
        // Every strict prefix is an error, never a crash or a shorter event.
        for payload in payloads {
            for length in 0..<payload.count {
                let prefix = Array(payload.prefix(length))
                #expect(throws: KafkaMessageDecoder.Failure.self) { try prefix.withUnsafeBytes { try decoder.decode($0) } }
            }
        }
        // Random bytes are errors too.
        var rng = SplitMix64(seed: 11)
        for _ in 0..<2000 {
            let garbage = (0..<rng.nextInt(below: 40)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            _ = try? garbage.withUnsafeBytes { try decoder.decode($0) }
        }
    }

    @Test func configNamesBrokersTopicsGroupAndSchemaIDs() throws {
        let yaml =
            ExampleConfig.yaml.replacingOccurrences(of: "stream: \"log:\"", with: "stream: \"kafka://b1:9092,b2:9092/events,more?group=g1\"")
            + "\nkafka:\n  format: avro\n  schema_ids: {\"7\": union, \"8\": view}\n  batch_size: 200\n  properties: {\"security.protocol\": \"plaintext\"}\n"
        let config = try StrataConfig.parse(yaml: yaml, file: "strata.yaml")
        let kafka = try #require(config.kafka)
        #expect(kafka.brokers == "b1:9092,b2:9092")
        #expect(kafka.topics == ["events", "more"])
        #expect(kafka.group == "g1")
        #expect(kafka.schemaIDs == [7: "union", 8: "view"])
        #expect(kafka.batchSize == 200)
        #expect(kafka.format == "avro")
        #expect(throws: StrataError.self) {
            try StrataConfig.parse(
                yaml: ExampleConfig.yaml.replacingOccurrences(of: "stream: \"log:\"", with: "stream: \"kafka://b1:9092\""), file: "strata.yaml")
        }
        #expect(throws: StrataError.self) { try StrataConfig.parse(yaml: ExampleConfig.yaml + "\nkafka:\n  format: avro\n", file: "strata.yaml") }
        let unknownType = try KafkaConfig(url: "kafka://b/t", project: "shop")
        #expect(throws: StrataError.self) {
            try KafkaMessageDecoder(contract: config.contract, project: "shop", format: .auto, schemaIDs: [3: "no_such_type"])
            _ = unknownType
        }
    }

    /// Waits until `condition` holds (up to `seconds`: joining a group takes the mock cluster
    /// seconds, and much longer on a machine busy with the rest of the suite).
    static func eventually(_ seconds: Double = 120, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    @Test func consumesIntoTheLakeAndCommitsAfterDurableWrites() async throws {
        let now = SystemClock().nowMillis()
        func record(_ i: Int, _ prefix: String) -> String {
            """
            ["view", {"event_id": "\(prefix)\(i)", "user_id": "u\(i % 7)", "timestamp": \(now - Int64(i) * 1000), "item_id": "i\(i % 13)",
              "session_id": null, "recommendation_id": null, "page": null}]
            """
        }
        guard let plain = try Self.fastavro("[" + (0..<40).map { record($0, "a") }.joined(separator: ",") + "]"),
            let framedUnion = try Self.fastavro("[" + (0..<20).map { record($0, "f") }.joined(separator: ",") + "]"),
            let framedView = try Self.fastavro("[" + (0..<20).map { record($0, "g") }.joined(separator: ",") + "]", union: false)
        else { return }
        let cluster = try KafkaMockCluster(brokers: 1)
        try cluster.createTopic("events", partitions: 3)
        let producer = try KafkaProducer(properties: ["bootstrap.servers": cluster.bootstrapServers])
        func frame(_ id: UInt8, _ body: [UInt8]) -> [UInt8] { [0, 0, 0, 0, id] + body }
        var good = 0
        for i in 0..<60 {
            let json = #"{"type":"view","event_id":"j\#(i)","user_id":"u\#(i % 5)","timestamp":\#(now - Int64(i)),"item_id":"i\#(i % 11)"}"#
            try producer.send(topic: "events", key: Array("u\(i % 5)".utf8), Array(json.utf8))
            good += 1
        }
        for payload in plain { try producer.send(topic: "events", payload) }
        for payload in framedUnion { try producer.send(topic: "events", frame(7, payload)) }
        for payload in framedView { try producer.send(topic: "events", frame(8, payload)) }
        good += plain.count + framedUnion.count + framedView.count
        // Four bad messages: not JSON, not Avro, an unmapped schema id, and an event the contract refuses.
        let bad: [[UInt8]] = [
            Array("{not json".utf8), [0xFF, 0xFF, 0xFF], frame(99, plain[0]), Array(#"{"type":"view","timestamp":1,"item_id":"x"}"#.utf8),
        ]
        for payload in bad { try producer.send(topic: "events", payload) }
        try producer.flush()
        let total = good + bad.count

        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var config = StrataConfig.example()
        var kafka = try KafkaConfig(url: "kafka://\(cluster.bootstrapServers)/events?group=strata-test", project: "shop")
        kafka.schemaIDs = [7: "union", 8: "view"]
        kafka.batchSize = 50
        // A member that vanishes without leaving is noticed after this (the broker's minimum).
        kafka.properties = ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500"]
        config.kafka = kafka
        let lake = try Fixtures.lake(directory, config: config)
        let source = try KafkaSource(config: kafka, lake: lake, logger: quietLogger)
        let running = Task { try await source.run() }
        #expect(try await Self.eventually { source.counts.messages == total && source.counts.committedBatches > 0 }, "consumed \(source.counts)")
        // Messages are counted when stored, before their commit: stopping now could skip the last
        // commit. Wait until the group's offsets cover every message before stopping the member.
        let checker = try KafkaConsumer(properties: ["bootstrap.servers": cluster.bootstrapServers, "group.id": "strata-test"], topics: [])
        func committedCount() async -> Int64 {
            ((try? await checker.committed(topic: "events", partitions: 3)) ?? [:]).values.filter { $0 >= 0 }.reduce(0, +)
        }
        #expect(try await Self.eventually { await committedCount() == Int64(total) }, "the group's offsets never covered all \(total) messages")
        running.cancel()
        _ = try? await running.value
        #expect(lake.ingestor.counts.accepted == good)
        #expect(lake.log.endOffset == Int64(good))
        let letters = try lake.deadLetters.list()
        #expect(Set(letters.map(\.rejection.code)) == ["malformed_json", "invalid_avro", "unknown_schema_id", "missing_field"])
        // A stored event carries the Avro record's values.
        let stored = try lake.log.read(from: 0, limit: good).map { try $0.payload.withUnsafeBytes { try EventCodec.decode($0) } }
        #expect(stored.contains { $0.eventID == "a3" && $0.userID == "u3" && $0.timestamp == now - 3000 && $0.itemID == "i3" })
        #expect(stored.contains { $0.eventID == "g5" && $0.type == "view" })
        // Everything was committed: the group's offsets reach each partition's end.
        let committed = try await checker.committed(topic: "events", partitions: 3)
        // (A partition that received nothing has no committed offset: -1001.)
        #expect(committed.values.filter { $0 >= 0 }.reduce(0, +) == Int64(total), "\(committed)")

        // A member that stored a batch but died before committing: the next member gets the
        // batch again, and event ids keep it from being stored twice.
        for i in 0..<10 {
            try producer.send(topic: "events", Array(#"{"type":"view","event_id":"late\#(i)","user_id":"u1","timestamp":\#(now),"item_id":"i1"}"#.utf8))
        }
        try producer.flush()
        let crashed = try KafkaConsumer(properties: source.consumerProperties, topics: ["events"])
        var taken: [KafkaMessage] = []
        _ = try await Self.eventually {
            taken += try await crashed.poll(max: 100, timeoutMillis: 200)
            return taken.count == 10
        }
        #expect(taken.count == 10)
        try await source.store(taken)  // durable, but never committed
        await crashed.close()
        #expect(lake.ingestor.counts.accepted == good + 10)
        let restarted = try KafkaSource(config: kafka, lake: lake, logger: quietLogger)
        let again = Task { try await restarted.run() }
        #expect(try await Self.eventually { restarted.counts.messages == 10 && restarted.counts.committedBatches > 0 }, "\(restarted.counts)")
        // Nothing older is re-read (it was committed), and the re-delivered ten are duplicates.
        // Once the group's offsets reach every partition's end, the member has stored all it
        // read: whatever it re-read is counted by then (a causal wait, not a pause).
        #expect(
            try await Self.eventually { await committedCount() == Int64(total + 10) }, "the group's offsets never covered all \(total + 10) messages")
        #expect(restarted.counts.messages == 10)
        #expect(lake.ingestor.counts.duplicates == 10)
        #expect(lake.log.endOffset == Int64(good + 10))
        again.cancel()
        _ = try? await again.value
        await checker.close()
        await lake.close()
    }
}
