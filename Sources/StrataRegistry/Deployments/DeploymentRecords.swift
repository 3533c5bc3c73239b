import SQLKit
import StrataCore
import StrataMetadata

/// A deployment as the metadata store keeps it: its JSON body (what serving decodes into a
/// `Deployment`), its revision and when it was saved.
public struct DeploymentRecord: Sendable, Equatable {
    public var name: String
    public var body: JSONValue
    public var revision: Int64
    public var updatedAt: Int64
}

/// One change to a deployment, with who made it and why (promotions, canary steps, automatic
/// rollbacks and their reasons).
public struct DeploymentEvent: Sendable, Equatable {
    public var revision: Int64
    public var at: Int64
    public var principal: String
    public var kind: String
    public var detail: String

    public var json: JSONValue {
        [
            "revision": .int(revision), "at": .string(EventTime.format(millis: at)), "principal": .string(principal), "kind": .string(kind),
            "detail": .string(detail),
        ]
    }
}

/// Deployments and their history in the metadata store (the SQL side of serving's
/// `DeploymentStore`): every save bumps the revision under optimistic concurrency and records
/// why, in one transaction.
public struct DeploymentRecords: Sendable {
    let store: MetadataStore

    public init(store: MetadataStore) {
        self.store = store
    }

    public func get(_ name: String) async throws -> DeploymentRecord? {
        try await store.read { db in
            try await db.raw("SELECT * FROM deployments WHERE name = \(bind: name)").first().map(Self.record)
        }
    }

    public func all() async throws -> [DeploymentRecord] {
        try await store.read { db in try await db.raw("SELECT * FROM deployments ORDER BY name").all().map(Self.record) }
    }

    /// The revision of every deployment (what replicas poll).
    public func revisions() async throws -> [String: Int64] {
        try await store.read { db in
            var result: [String: Int64] = [:]
            for row in try await db.raw("SELECT name, revision FROM deployments").all() {
                result[try row.decode(column: "name", as: String.self)] = try row.decode(column: "revision", as: Int64.self)
            }
            return result
        }
    }

    /// Saves `body(revision)` as the next revision of `name`, unless someone saved another since
    /// `expected` (nil: only if it does not exist yet), and records the change; returns the
    /// stored record.
    public func save(
        _ name: String, expectedRevision expected: Int64?, at now: Int64, principal: String, kind: String, detail: String,
        body: @Sendable (_ revision: Int64) -> JSONValue
    ) async throws -> DeploymentRecord {
        try await store.transaction { db in
            let current = try await db.raw("SELECT revision FROM deployments WHERE name = \(bind: name)").first()?.decode(column: "revision", as: Int64.self)
            guard current == expected else {
                throw StrataError(
                    .conflict, code: "deployment_changed",
                    "deployment \(name) changed meanwhile (revision \(current.map(String.init) ?? "none")); read it again and retry")
            }
            let revision = (current ?? 0) + 1
            let saved = DeploymentRecord(name: name, body: body(revision), revision: revision, updatedAt: now)
            let text = saved.body.serialized
            if current == nil {
                try await db.raw(
                    "INSERT INTO deployments (name, body, revision, updated_at) VALUES (\(bind: name), \(bind: text), \(bind: revision), \(bind: now))"
                ).run()
            } else {
                try await db.raw(
                    "UPDATE deployments SET body = \(bind: text), revision = \(bind: revision), updated_at = \(bind: now) WHERE name = \(bind: name)"
                ).run()
            }
            try await Self.insertEvent(db, name: name, revision: revision, at: now, principal: principal, kind: kind, detail: detail)
            return saved
        }
    }

    /// Records something that happened to a deployment without changing it.
    public func note(_ name: String, at now: Int64, principal: String, kind: String, detail: String) async throws {
        try await store.transaction { db in
            let revision = try await db.raw("SELECT revision FROM deployments WHERE name = \(bind: name)").first()?.decode(column: "revision", as: Int64.self)
            try await Self.insertEvent(db, name: name, revision: revision ?? 0, at: now, principal: principal, kind: kind, detail: detail)
        }
    }

    public func history(_ name: String, limit: Int = 100) async throws -> [DeploymentEvent] {
        try await store.read { db in
            try await db.raw("SELECT * FROM deployment_events WHERE name = \(bind: name) ORDER BY at DESC, revision DESC LIMIT \(bind: limit)").all().map {
                row in
                DeploymentEvent(
                    revision: try row.decode(column: "revision", as: Int64.self), at: try row.decode(column: "at", as: Int64.self),
                    principal: try row.decode(column: "principal", as: String.self), kind: try row.decode(column: "kind", as: String.self),
                    detail: try row.decode(column: "detail", as: String.self))
            }
        }
    }

    static func insertEvent(
        _ db: any SQLDatabase, name: String, revision: Int64, at: Int64, principal: String, kind: String, detail: String
    ) async throws {
        try await db.raw(
            """
            INSERT INTO deployment_events (name, revision, at, principal, kind, detail) VALUES
            (\(bind: name), \(bind: revision), \(bind: at), \(bind: principal), \(bind: kind), \(bind: detail))
            """
        ).run()
    }

    static func record(_ row: any SQLRow) throws -> DeploymentRecord {
        let body = try row.decode(column: "body", as: String.self)
        guard let json = try? JSONValue.parse(body) else { throw StrataError.internal("a stored deployment is not JSON") }
        return DeploymentRecord(
            name: try row.decode(column: "name", as: String.self), body: json, revision: try row.decode(column: "revision", as: Int64.self),
            updatedAt: try row.decode(column: "updated_at", as: Int64.self))
    }
}
