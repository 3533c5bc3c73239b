import Foundation

/// Kafka topics as an event source (`backends.stream: kafka://...` and the `kafka:` section):
/// the worker consumes them in a consumer group and commits offsets only once the events are
/// durable (or dead-lettered).
public struct KafkaConfig: Sendable, Equatable {
    /// `host:port,...`
    public var brokers: String
    public var topics: [String]
    public var group: String
    /// `auto`, `json`, `avro` (plain) or `confluent` (framed Avro); see the decoder.
    public var format = "auto"
    /// Confluent schema ids → `union` (the exported union schema) or one event type.
    public var schemaIDs: [Int: String] = [:]
    /// Messages per durable write (and commit).
    public var batchSize = 1000
    /// Passed to librdkafka as they are (security.protocol, sasl.*, ...).
    public var properties: [String: String] = [:]

    /// `kafka://broker1:9092,broker2:9092/topic1,topic2?group=NAME`.
    public init(url: String, project: String) throws(StrataError) {
        guard url.hasPrefix("kafka://") else { throw StrataError.invalid("invalid_backend_url", "'\(url)' is not kafka://brokers/topics") }
        let rest = url.dropFirst("kafka://".count)
        let (location, query) = rest.firstIndex(of: "?").map { (rest[..<$0], rest[rest.index(after: $0)...]) } ?? (rest, "")
        let parts = location.split(separator: "/", maxSplits: 1)
        guard parts.count == 2, !parts[0].isEmpty else {
            throw StrataError.invalid("invalid_backend_url", "'\(url)' names no topic: kafka://broker1:9092,broker2:9092/topic1,topic2?group=NAME")
        }
        brokers = String(parts[0])
        topics = parts[1].split(separator: ",").map(String.init).filter { !$0.isEmpty }
        guard !topics.isEmpty else { throw StrataError.invalid("invalid_backend_url", "'\(url)' names no topic") }
        group = "strata-\(project)"
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            if kv.first == "group", kv.count == 2 { group = kv[1] }
        }
    }

    /// Reads the `kafka:` section.
    public mutating func apply(node: ConfigNode) throws(StrataError) {
        try node.checkKeys(["format", "schema_ids", "batch_size", "properties"])
        if let v = node["format"] { format = try v.oneOf(["auto", "json", "avro", "confluent"]) }
        if let v = node["schema_ids"] {
            for (key, value) in try v.entries() {
                guard let id = Int(key), id >= 0 else { throw value.error("schema ids are non-negative integers; got '\(key)'") }
                schemaIDs[id] = try value.string()
            }
        }
        if let v = node["batch_size"] {
            batchSize = try v.int()
            guard (1...100_000).contains(batchSize) else { throw v.error("batch_size is between 1 and 100000") }
        }
        if let v = node["properties"] { for (key, value) in try v.entries() { properties[key] = try value.string() } }
    }
}
