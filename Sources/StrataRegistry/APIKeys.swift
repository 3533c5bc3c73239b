import Foundation
import SQLKit
import StrataCore
import StrataMetadata
import Synchronization

/// What a key may do. `admin` may do everything.
public enum Role: String, Sendable, CaseIterable, Comparable {
    case admin, ingest, serve, scientist, approver

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Who is calling: a key's id and name, and its roles.
public struct Principal: Sendable, Equatable {
    public var id: String
    public var name: String
    public var roles: Set<Role>

    public init(id: String, name: String, roles: Set<Role>) {
        self.id = id
        self.name = name
        self.roles = roles
    }

    public func has(_ role: Role) -> Bool { roles.contains(.admin) || roles.contains(role) }

    /// How the audit log and the registry name it.
    public var label: String { id == "local" ? "local:\(name)" : "key:\(id)(\(name))" }

    /// Local command-line use on the data directory itself (whoever can read the folder).
    public static func local(_ user: String = ProcessInfo.processInfo.environment["USER"] ?? ProcessInfo.processInfo.environment["LOGNAME"] ?? "\(getuid())")
        -> Principal
    {
        Principal(id: "local", name: user, roles: Set(Role.allCases))
    }
}

/// A key as listed (never its secret).
public struct APIKeyRecord: Sendable {
    public var id: String
    public var name: String
    public var roles: [Role]
    public var createdAt: Int64
    public var createdBy: String
    public var revokedAt: Int64?

    public var json: JSONValue {
        [
            "id": .string(id), "name": .string(name), "roles": .array(roles.map { .string($0.rawValue) }),
            "created_at": .string(EventTime.format(millis: createdAt)), "created_by": .string(createdBy),
            "revoked_at": revokedAt.map { .string(EventTime.format(millis: $0)) } ?? .null,
        ]
    }
}

/// API keys: `strata_<id>_<secret>`. Only the SHA-256 of the secret is stored; checks compare
/// hashes in constant time. Verified keys are cached in memory (the request path never waits
/// for the database) and the cache is reloaded after every change and every few seconds, so a
/// revocation on another replica takes effect quickly.
public final class APIKeys: Sendable {
    let store: MetadataStore
    let clock: any WallClock
    private let cache = Mutex<[String: (hash: [UInt8], principal: Principal)]>([:])

    public init(store: MetadataStore, clock: any WallClock = SystemClock()) async throws {
        self.store = store
        self.clock = clock
        try await reload()
    }

    /// Creates a key; returns the full key, shown once.
    public func create(name: String, roles: Set<Role>, by creator: String) async throws -> (key: String, record: APIKeyRecord) {
        guard !roles.isEmpty else {
            throw StrataError.invalid("no_roles", "a key needs at least one role (\(Role.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let id = Self.randomToken(6)
        let secret = Self.randomToken(24)
        let record = APIKeyRecord(id: id, name: name, roles: roles.sorted(), createdAt: clock.nowMillis(), createdBy: creator, revokedAt: nil)
        try await store.transaction { db in
            try await db.raw(
                """
                INSERT INTO api_keys (id, name, secret_hash, roles, created_at, created_by) VALUES
                (\(bind: id), \(bind: name), \(bind: SHA256Hex.of(secret)), \(bind: record.roles.map(\.rawValue).joined(separator: ",")),
                 \(bind: record.createdAt), \(bind: creator))
                """
            ).run()
        }
        try await reload()
        return ("strata_\(id)_\(secret)", record)
    }

    /// Revokes a key by id; false when there is no such active key.
    public func revoke(id: String) async throws -> Bool {
        let changed = try await store.transaction { db in
            let row = try await db.raw("SELECT id FROM api_keys WHERE id = \(bind: id) AND revoked_at IS NULL").first()
            guard row != nil else { return false }
            try await db.raw("UPDATE api_keys SET revoked_at = \(bind: self.clock.nowMillis()) WHERE id = \(bind: id)").run()
            return true
        }
        try await reload()
        return changed
    }

    public func list() async throws -> [APIKeyRecord] {
        try await store.read { db in
            try await db.raw("SELECT * FROM api_keys ORDER BY created_at, id").all().map { row in
                APIKeyRecord(
                    id: try row.decode(column: "id", as: String.self), name: try row.decode(column: "name", as: String.self),
                    roles: try row.decode(column: "roles", as: String.self).split(separator: ",").compactMap { Role(rawValue: String($0)) },
                    createdAt: try row.decode(column: "created_at", as: Int64.self), createdBy: try row.decode(column: "created_by", as: String.self),
                    revokedAt: try row.decode(column: "revoked_at", as: Int64?.self))
            }
        }
    }

    /// Whether any key can still be used.
    public func isEmpty() async throws -> Bool { try await list().allSatisfy { $0.revokedAt != nil } }

    /// Reloads the active keys into the cache.
    public func reload() async throws {
        let rows = try await store.read { db in try await db.raw("SELECT * FROM api_keys WHERE revoked_at IS NULL").all() }
        var fresh: [String: (hash: [UInt8], principal: Principal)] = [:]
        for row in rows {
            let id = try row.decode(column: "id", as: String.self)
            let roles = Set(try row.decode(column: "roles", as: String.self).split(separator: ",").compactMap { Role(rawValue: String($0)) })
            let hash = Array(try row.decode(column: "secret_hash", as: String.self).utf8)
            fresh[id] = (hash, Principal(id: id, name: try row.decode(column: "name", as: String.self), roles: roles))
        }
        cache.withLock { $0 = fresh }
    }

    /// The principal a presented key belongs to, or nil (unknown, revoked or wrong secret).
    public func authenticate(_ presented: String) -> Principal? {
        let parts = presented.split(separator: "_", maxSplits: 2)
        guard parts.count == 3, parts[0] == "strata" else { return nil }
        guard let entry = cache.withLock({ $0[String(parts[1])] }) else { return nil }
        // Hex digests of equal length, compared without an early exit.
        return Self.constantTimeEqual(Array(SHA256Hex.of(String(parts[2])).utf8), entry.hash) ? entry.principal : nil
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    static func randomToken(_ bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
        return String(decoding: (0..<(bytes * 2)).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }, as: UTF8.self)
    }
}
