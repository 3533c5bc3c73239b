import Foundation
import StrataServing
import Synchronization

/// The recommendation cache in Redis, shared by every replica: one compact binary value per
/// model version and user (`<prefix>rec:<model>:<generation>:<user>`), and a small meta value
/// per model naming the live generation. A table is published under a new generation
/// (pipelined writes), then the meta switches to it in one SET, so readers see the old table or
/// the new, never a mix; the generation before the previous one is then deleted. Every key
/// expires (`expireMillis`), so tables of versions no replica serves any more go by themselves
/// (no replica deletes a table another may still serve). Readers keep the meta for up to a
/// second; a read Redis cannot answer is a miss.
public final class RedisRecommendationCache: RecommendationCacheStore {
    let client: RedisClient
    let prefix: String
    let expireMillis: Int64
    /// How long a replica trusts the meta it read (a new table is seen within this).
    let metaTTL: Duration
    private let metas = Mutex<[String: (meta: Meta?, readAt: ContinuousClock.Instant)]>([:])

    struct Meta: Equatable {
        var generation: String
        var previous: String?
        var computedAt: Int64
        var users: Int

        var text: String { [generation, previous ?? "-", String(computedAt), String(users)].joined(separator: " ") }

        init(generation: String, previous: String?, computedAt: Int64, users: Int) {
            self.generation = generation
            self.previous = previous
            self.computedAt = computedAt
            self.users = users
        }

        init?(_ bytes: [UInt8]) {
            let parts = String(decoding: bytes, as: UTF8.self).split(separator: " ").map(String.init)
            guard parts.count == 4, let computedAt = Int64(parts[2]), let users = Int(parts[3]) else { return nil }
            self.init(generation: parts[0], previous: parts[1] == "-" ? nil : parts[1], computedAt: computedAt, users: users)
        }
    }

    /// `namespace`: keeps projects sharing a Redis apart (the project's name).
    public init(client: RedisClient, namespace: String, expireMillis: Int64, metaTTL: Duration = .seconds(1)) {
        self.client = client
        self.prefix = "strata:\(namespace):"
        self.expireMillis = expireMillis
        self.metaTTL = metaTTL
    }

    func metaKey(_ model: String) -> String { "\(prefix)recmeta:\(model)" }
    func listKey(_ model: String, _ generation: String, _ user: String) -> String { "\(prefix)rec:\(model):\(generation):\(user)" }

    func meta(_ model: String, fresh: Bool = false) async throws -> Meta? {
        let now = ContinuousClock.now
        if !fresh, let cached = metas.withLock({ $0[model] }), now - cached.readAt < metaTTL { return cached.meta }
        let meta = try await client.get(metaKey(model)).flatMap(Meta.init)
        metas.withLock { $0[model] = (meta, now) }
        return meta
    }

    public func get(model: String, user: String) async -> CachedList? {
        guard let meta = try? await meta(model), let bytes = try? await client.get(listKey(model, meta.generation, user)) else { return nil }
        return Self.decode(bytes)
    }

    public func publish(model: String, table: [String: CachedList], computedAt: Int64) async throws {
        let previous = try await meta(model, fresh: true)
        let generation = "\(computedAt)-\(UInt32.random(in: 0...UInt32.max))"
        let expiry = RESPArgument.text(String(expireMillis))
        var batch: [[RESPArgument]] = []
        for (user, list) in table {
            batch.append(["SET", .text(listKey(model, generation, user)), .bytes(Self.encode(list)), "PX", expiry])
            if batch.count == 1000 {
                try Self.check(try await client.pipeline(batch))
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty { try Self.check(try await client.pipeline(batch)) }
        let meta = Meta(generation: generation, previous: previous?.generation, computedAt: computedAt, users: table.count)
        try await client.command(["SET", .text(metaKey(model)), .text(meta.text), "PX", expiry])
        metas.withLock { $0[model] = (meta, .now) }
        // The generation before the previous one: no reader can still hold a meta naming it.
        if let stale = previous?.previous { try await deleteGeneration(model, stale) }
    }

    public func tableInfo(model: String) async -> (computedAt: Int64, users: Int)? {
        guard let meta = try? await meta(model) else { return nil }
        return (meta.computedAt, meta.users)
    }

    /// Nothing to do: keys expire, and another replica may still serve a model this one dropped.
    public func retain(models: Set<String>) async {}

    /// Deletes the user's list in the current and previous generation of each model.
    public func forget(user: String, models: Set<String>) async throws {
        var keys: [RESPArgument] = []
        for model in models.sorted() {
            guard let meta = try await meta(model, fresh: true) else { continue }
            keys.append(.text(listKey(model, meta.generation, user)))
            if let previous = meta.previous { keys.append(.text(listKey(model, previous, user))) }
        }
        if !keys.isEmpty { try await client.command([.text("DEL")] + keys) }
    }

    func deleteGeneration(_ model: String, _ generation: String) async throws {
        var cursor = "0"
        repeat {
            let reply = try await client.command(["SCAN", .text(cursor), "MATCH", .text(listKey(model, generation, "*")), "COUNT", "1000"])
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string else { return }
            cursor = next
            let keys = (parts[1].array ?? []).compactMap(\.string)
            if !keys.isEmpty { try await client.command([.text("UNLINK")] + keys.map(RESPArgument.text)) }
        } while cursor != "0"
    }

    static func check(_ replies: [RESPValue]) throws {
        for reply in replies { try reply.check() }
    }

    /// computedAt (Int64), count (UInt32), the item indices (Int32) and the scores (Float32), little-endian.
    static func encode(_ list: CachedList) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(12 + list.items.count * 8)
        withUnsafeBytes(of: list.computedAt.littleEndian) { bytes += $0 }
        withUnsafeBytes(of: UInt32(list.items.count).littleEndian) { bytes += $0 }
        for item in list.items { withUnsafeBytes(of: item.littleEndian) { bytes += $0 } }
        for score in list.scores { withUnsafeBytes(of: score.bitPattern.littleEndian) { bytes += $0 } }
        return bytes
    }

    static func decode(_ bytes: [UInt8]) -> CachedList? {
        guard bytes.count >= 12 else { return nil }
        func load<T: FixedWidthInteger>(_ offset: Int, as: T.Type) -> T {
            bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
        }
        let computedAt = load(0, as: Int64.self)
        let count = Int(load(8, as: UInt32.self))
        guard bytes.count == 12 + count * 8 else { return nil }
        let items = (0..<count).map { load(12 + $0 * 4, as: Int32.self) }
        let scores = (0..<count).map { Float(bitPattern: load(12 + count * 4 + $0 * 4, as: UInt32.self)) }
        return CachedList(items: items, scores: scores, computedAt: computedAt)
    }
}
