import CRdKafka
import Dispatch
import Foundation
import StrataCore

/// librdkafka's handles, used from one serial queue each (librdkafka is thread-safe, but a
/// blocking poll must stay off Swift's cooperative threads).
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A librdkafka configuration from key/value pairs (`bootstrap.servers`, `group.id`, ...).
func makeConfiguration(_ properties: [String: String]) throws(KafkaError) -> OpaquePointer {
    let conf = rd_kafka_conf_new()!
    var errors = [CChar](repeating: 0, count: 512)
    for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
        guard rd_kafka_conf_set(conf, key, value, &errors, errors.count) == RD_KAFKA_CONF_OK else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError("librdkafka refused \(key)=\(value): \(String(cString: errors))")
        }
    }
    return conf
}

func makeHandle(_ type: rd_kafka_type_t, _ properties: [String: String]) throws(KafkaError) -> OpaquePointer {
    let conf = try makeConfiguration(properties)
    var errors = [CChar](repeating: 0, count: 512)
    guard let handle = rd_kafka_new(type, conf, &errors, errors.count) else {
        throw KafkaError("cannot create a Kafka client: \(String(cString: errors))")
    }
    return handle
}

/// One message as the consumer received it (payload copied out of librdkafka's buffer).
public struct KafkaMessage: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var payload: [UInt8]
}

/// A consumer-group member with manual commits: the caller commits only what it has made
/// durable, so a crash re-delivers (at-least-once) instead of losing.
public final class KafkaConsumer: @unchecked Sendable {
    let handle: OpaquePointer
    let queue = DispatchQueue(label: "strata.kafka.consumer")
    private var closed = false

    /// `properties` must name `bootstrap.servers` and `group.id`; with no `topics`, the consumer
    /// does not join the group (it only reads the group's committed offsets).
    public init(properties: [String: String], topics: [String]) throws(KafkaError) {
        var all = ["enable.auto.commit": "false", "enable.auto.offset.store": "false", "auto.offset.reset": "earliest"]
        all.merge(properties) { $1 }
        handle = try makeHandle(RD_KAFKA_CONSUMER, all)
        rd_kafka_poll_set_consumer(handle)
        guard !topics.isEmpty else { return }
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in topics { rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA) }
        let error = rd_kafka_subscribe(handle, list)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
            rd_kafka_destroy(handle)
            throw KafkaError("cannot subscribe to \(topics): \(String(cString: rd_kafka_err2str(error)))")
        }
    }

    /// Up to `max` messages: waits up to `timeoutMillis` for the first, then takes what is
    /// already there. Errors reported as messages (a partition's end, a broker going away)
    /// are logged by librdkafka and skipped; a fatal error throws.
    public func poll(max: Int, timeoutMillis: Int32) async throws -> [KafkaMessage] {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[KafkaMessage], any Error>) in
            queue.async {
                var messages: [KafkaMessage] = []
                var wait = timeoutMillis
                while messages.count < max, !self.closed, let message = rd_kafka_consumer_poll(self.handle, wait) {
                    wait = 0
                    defer { rd_kafka_message_destroy(message) }
                    let m = message.pointee
                    if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                        if m.err == RD_KAFKA_RESP_ERR__FATAL {
                            continuation.resume(throwing: KafkaError("fatal consumer error: \(String(cString: rd_kafka_err2str(m.err)))"))
                            return
                        }
                        continue
                    }
                    let payload = m.payload.map { [UInt8](UnsafeRawBufferPointer(start: $0, count: m.len)) } ?? []
                    messages.append(
                        KafkaMessage(topic: String(cString: rd_kafka_topic_name(m.rkt)), partition: m.partition, offset: m.offset, payload: payload))
                }
                continuation.resume(returning: messages)
            }
        }
    }

    /// Commits, synchronously, the position after each partition's last message in `messages`.
    public func commit(_ messages: [KafkaMessage]) async throws {
        var next: [String: [Int32: Int64]] = [:]
        for message in messages { next[message.topic, default: [:]][message.partition] = max(next[message.topic]?[message.partition] ?? 0, message.offset + 1) }
        guard !next.isEmpty else { return }
        let offsets = next
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            queue.async {
                let list = rd_kafka_topic_partition_list_new(Int32(offsets.count))!
                defer { rd_kafka_topic_partition_list_destroy(list) }
                for (topic, partitions) in offsets {
                    for (partition, offset) in partitions { rd_kafka_topic_partition_list_add(list, topic, partition).pointee.offset = offset }
                }
                let error = rd_kafka_commit(self.handle, list, 0)
                if error == RD_KAFKA_RESP_ERR_NO_ERROR {
                    continuation.resume()
                } else {
                    continuation.resume(throwing: KafkaError("committing offsets failed: \(String(cString: rd_kafka_err2str(error)))"))
                }
            }
        }
    }

    /// The group's committed offsets for `topic`'s partitions `0..<partitions` (-1001: none yet).
    public func committed(topic: String, partitions: Int32) async throws -> [Int32: Int64] {
        try await try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[Int32: Int64], any Error>) in
            queue.async {
                let list = rd_kafka_topic_partition_list_new(partitions)!
                defer { rd_kafka_topic_partition_list_destroy(list) }
                for partition in 0..<partitions { rd_kafka_topic_partition_list_add(list, topic, partition) }
                let error = rd_kafka_committed(self.handle, list, 10_000)
                guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    continuation.resume(throwing: KafkaError("reading committed offsets failed: \(String(cString: rd_kafka_err2str(error)))"))
                    return
                }
                var result: [Int32: Int64] = [:]
                for index in 0..<Int(list.pointee.cnt) { result[list.pointee.elems[index].partition] = list.pointee.elems[index].offset }
                continuation.resume(returning: result)
            }
        }
    }

    /// Leaves the group (its partitions go to the other members at once) and frees the handle.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                if !self.closed {
                    self.closed = true
                    rd_kafka_consumer_close(self.handle)
                    rd_kafka_destroy(self.handle)
                }
                continuation.resume()
            }
        }
    }
}

/// A producer for benchmarks, tests and tools: messages are copied, `flush` waits for every
/// delivery report.
public final class KafkaProducer: @unchecked Sendable {
    let handle: OpaquePointer
    private var topics: [String: OpaquePointer] = [:]
    private let lock = NSLock()

    public init(properties: [String: String]) throws(KafkaError) {
        var all = ["acks": "all", "linger.ms": "5", "enable.idempotence": "true"]
        all.merge(properties) { $1 }
        handle = try makeHandle(RD_KAFKA_PRODUCER, all)
    }

    /// Queues one message (partition chosen by librdkafka's partitioner from `key`).
    public func send(topic: String, key: [UInt8]? = nil, _ payload: [UInt8]) throws(KafkaError) {
        lock.lock()
        let rkt: OpaquePointer
        if let existing = topics[topic] {
            rkt = existing
        } else {
            rkt = rd_kafka_topic_new(handle, topic, nil)
            topics[topic] = rkt
        }
        lock.unlock()
        while true {
            let status = payload.withUnsafeBytes { body in
                (key ?? []).withUnsafeBytes { keyBytes in
                    rd_kafka_produce(
                        rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, UnsafeMutableRawPointer(mutating: body.baseAddress), body.count,
                        key == nil ? nil : keyBytes.baseAddress, key?.count ?? 0, nil)
                }
            }
            if status == 0 { return }
            let error = rd_kafka_last_error()
            guard error == RD_KAFKA_RESP_ERR__QUEUE_FULL else { throw KafkaError("producing failed: \(String(cString: rd_kafka_err2str(error)))") }
            rd_kafka_poll(handle, 10)
        }
    }

    /// Waits until every queued message is acknowledged (or `timeoutMillis` passes).
    public func flush(timeoutMillis: Int32 = 30_000) throws(KafkaError) {
        let error = rd_kafka_flush(handle, timeoutMillis)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError("flush failed: \(String(cString: rd_kafka_err2str(error)))") }
    }

    deinit {
        for (_, rkt) in topics { rd_kafka_topic_destroy(rkt) }
        rd_kafka_destroy(handle)
    }
}

/// librdkafka's built-in mock Kafka cluster: real brokers speaking the Kafka protocol on
/// local ports (consumer groups and offset commits included), for tests and benchmarks.
public final class KafkaMockCluster: @unchecked Sendable {
    let owner: OpaquePointer
    let cluster: OpaquePointer
    /// `host:port,...` for clients in this or another process.
    public let bootstrapServers: String

    public init(brokers: Int32 = 1) throws(KafkaError) {
        owner = try makeHandle(RD_KAFKA_PRODUCER, ["log_level": "4"])
        guard let cluster = rd_kafka_mock_cluster_new(owner, brokers) else {
            rd_kafka_destroy(owner)
            throw KafkaError("librdkafka could not start a mock cluster")
        }
        self.cluster = cluster
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    public func createTopic(_ name: String, partitions: Int32) throws(KafkaError) {
        let error = rd_kafka_mock_topic_create(cluster, name, partitions, 1)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError("cannot create topic \(name): \(String(cString: rd_kafka_err2str(error)))") }
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(owner)
    }
}
