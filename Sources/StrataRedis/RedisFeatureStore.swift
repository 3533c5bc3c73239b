import Foundation
import Logging
import ServiceLifecycle
import StrataCore
import StrataFeatures
import StrataLake

/// Online features in Redis, for replicas that do not compute them: the worker's feature store
/// publishes each entity's values as one compact binary value
/// (`strata:<project>:feat:<user|item>:<id>`: the definitions' hash prefix, the time computed,
/// then per feature of that entity, in definition order, a flag byte and the value in the log's
/// encoding), and API replicas read them with one MGET per request. Entities that events
/// touched are republished every `interval`; every entity is republished every `fullRefresh`
/// (sliding windows change with time alone), so a value read from Redis is at most `interval`
/// behind events and `fullRefresh` behind the clock. Keys expire after a day without updates.
public struct RedisFeatureEncoding: Sendable {
    let definitions: [FeatureDefinition]
    /// The first 16 hex digits of the definitions' hash: values of other definitions are ignored.
    let stamp: [UInt8]

    public init(definitions: [FeatureDefinition]) {
        self.definitions = definitions
        let hash = FeatureEngine(definitions: definitions).definitionsHash
        stamp = Array(hash.utf8.prefix(16))
    }

    func names(_ entity: FeatureDefinition.Entity) -> [String] { definitions.filter { $0.entity == entity }.map(\.name) }

    func encode(_ readings: [FeatureReading], at time: Int64) -> [UInt8] {
        var bytes = stamp
        withUnsafeBytes(of: time.littleEndian) { bytes += $0 }
        for reading in readings {
            switch (reading.isDefault, reading.value) {
            case (true, _): bytes.append(0)
            case (false, nil): bytes.append(1)
            case (false, .some(let value)):
                bytes.append(2)
                EventCodec.appendValue(value, to: &bytes)
            }
        }
        return bytes
    }

    /// All of the entity's features in definition order; nil when the bytes are not ours.
    func decode(_ bytes: [UInt8], entity: FeatureDefinition.Entity) -> [FeatureReading]? {
        let names = self.names(entity)
        guard bytes.count >= stamp.count + 8, Array(bytes.prefix(stamp.count)) == stamp else { return nil }
        return bytes.withUnsafeBytes { raw -> [FeatureReading]? in
            var reader = PayloadReader(raw)
            reader.position = stamp.count + 8
            var readings: [FeatureReading] = []
            for name in names {
                guard !reader.isAtEnd else { return nil }
                let flag = raw[reader.position]
                reader.position += 1
                switch flag {
                case 0: readings.append(defaultReading(name))
                case 1: readings.append(FeatureReading(name: name, value: nil, isDefault: false))
                case 2:
                    guard let value = try? EventCodec.readValue(&reader) else { return nil }
                    readings.append(FeatureReading(name: name, value: value, isDefault: false))
                default: return nil
                }
            }
            return reader.isAtEnd ? readings : nil
        }
    }

    func defaultReading(_ name: String) -> FeatureReading {
        FeatureReading(name: name, value: definitions.first { $0.name == name }?.defaultValue, isDefault: true)
    }
}

/// The worker's side: publishes the feature store's values to Redis.
public struct RedisFeaturePublisher: Service {
    let store: FeatureStore
    let client: RedisClient
    let prefix: String
    let encoding: RedisFeatureEncoding
    let interval: Duration
    let fullRefresh: Duration
    let logger: Logger

    public init(
        store: FeatureStore, client: RedisClient, namespace: String, definitions: [FeatureDefinition], interval: Duration = .seconds(1),
        fullRefresh: Duration = .seconds(60), logger: Logger
    ) {
        self.store = store
        self.client = client
        self.prefix = "strata:\(namespace):feat:"
        self.encoding = RedisFeatureEncoding(definitions: definitions)
        self.interval = interval
        self.fullRefresh = fullRefresh
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var lastFull = ContinuousClock.now
            while !Task.isCancelled {
                do {
                    var entities = store.takeChanged()
                    if ContinuousClock.now - lastFull >= fullRefresh {
                        entities = store.engine.entityKeys()
                        lastFull = .now
                    }
                    try await publish(entities)
                } catch {
                    logger.warning("publishing features to Redis failed; retrying", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// Writes the current values of `entities` (pipelined, 1,000 SETs a round trip).
    public func publish(_ entities: [FeatureDefinition.Entity: [String]]) async throws {
        let expiry = RESPArgument.text("86400000")
        for (entity, ids) in entities {
            let names = encoding.names(entity)
            guard !names.isEmpty else { continue }
            for start in stride(from: 0, to: ids.count, by: 1000) {
                let chunk = Array(ids[start..<min(ids.count, start + 1000)])
                let now = SystemClock().nowMillis()
                let readings = try store.read(entity, ids: chunk, features: names)
                let commands: [[RESPArgument]] = zip(chunk, readings).map { id, row in
                    ["SET", .text("\(prefix)\(entity.rawValue):\(id)"), .bytes(encoding.encode(row, at: now)), "PX", expiry]
                }
                for reply in try await client.pipeline(commands) { try reply.check() }
            }
        }
    }
}

/// The API replicas' side: reads features from Redis, one MGET per call; an entity without a
/// value (or Redis unreachable) answers the defaults, as an unknown entity does in the store.
public struct RedisFeatureReader: OnlineFeatureReader {
    let client: RedisClient
    let prefix: String
    let encoding: RedisFeatureEncoding

    public init(client: RedisClient, namespace: String, definitions: [FeatureDefinition]) {
        self.client = client
        self.prefix = "strata:\(namespace):feat:"
        self.encoding = RedisFeatureEncoding(definitions: definitions)
    }

    public func read(_ entity: FeatureDefinition.Entity, ids: [String], features: [String]?) async throws -> [[FeatureReading]] {
        let all = encoding.names(entity)
        let wanted = features ?? all
        for name in wanted where !all.contains(name) {
            throw FeatureDefinition.refusal(for: name, entity: entity, among: encoding.definitions)
                ?? StrataError.internal("feature '\(name)' is neither known nor refused")
        }
        let values = (try? await client.mget(ids.map { "\(prefix)\(entity.rawValue):\($0)" })) ?? Array(repeating: nil, count: ids.count)
        return values.map { bytes in
            guard let bytes, let row = encoding.decode(bytes, entity: entity) else { return wanted.map(encoding.defaultReading) }
            let byName = Dictionary(row.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            return wanted.map { byName[$0] ?? encoding.defaultReading($0) }
        }
    }
}
