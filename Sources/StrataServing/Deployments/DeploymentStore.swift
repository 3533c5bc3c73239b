import SQLKit
import StrataCore
import StrataMetadata

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

/// Deployments in the metadata store, so every replica and every restart serves the same
/// variants with the same salt. Each save bumps the revision and records why.
public struct DeploymentStore: Sendable {
    let store: MetadataStore
    let clock: any WallClock

    public init(store: MetadataStore, clock: any WallClock = SystemClock()) {
        self.store = store
        self.clock = clock
    }

    public func get(_ name: String) async throws -> Deployment? {
        try await store.read { db in
            guard let row = try await db.raw("SELECT * FROM deployments WHERE name = \(bind: name)").first() else { return nil }
            return try Self.deployment(row)
        }
    }

    public func all() async throws -> [Deployment] {
        try await store.read { db in try await db.raw("SELECT * FROM deployments ORDER BY name").all().map(Self.deployment) }
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

    /// Saves a new revision of `deployment`, unless someone saved another since `expected`
    /// (nil: only if it does not exist yet); returns the stored value.
    @discardableResult
    public func save(_ deployment: Deployment, expectedRevision expected: Int64?, principal: String, kind: String, detail: String) async throws -> Deployment {
        try deployment.validate()
        let now = clock.nowMillis()
        return try await store.transaction { db in
            let current = try await db.raw("SELECT revision FROM deployments WHERE name = \(bind: deployment.name)").first()?.decode(
                column: "revision", as: Int64.self)
            guard current == expected else {
                throw StrataError(
                    .conflict, code: "deployment_changed",
                    "deployment \(deployment.name) changed meanwhile (revision \(current.map(String.init) ?? "none")); read it again and retry")
            }
            var saved = deployment
            saved.revision = (current ?? 0) + 1
            saved.updatedAt = now
            let body = saved.json.serialized
            if current == nil {
                try await db.raw(
                    "INSERT INTO deployments (name, body, revision, updated_at) VALUES (\(bind: saved.name), \(bind: body), \(bind: saved.revision), \(bind: now))"
                ).run()
            } else {
                try await db.raw(
                    "UPDATE deployments SET body = \(bind: body), revision = \(bind: saved.revision), updated_at = \(bind: now) WHERE name = \(bind: saved.name)"
                ).run()
            }
            try await db.raw(
                """
                INSERT INTO deployment_events (name, revision, at, principal, kind, detail) VALUES
                (\(bind: saved.name), \(bind: saved.revision), \(bind: now), \(bind: principal), \(bind: kind), \(bind: detail))
                """
            ).run()
            return saved
        }
    }

    /// Records something that happened to a deployment without changing it (a promotion of the
    /// production version it follows).
    public func note(_ name: String, principal: String, kind: String, detail: String) async throws {
        let now = clock.nowMillis()
        try await store.transaction { db in
            let revision = try await db.raw("SELECT revision FROM deployments WHERE name = \(bind: name)").first()?.decode(column: "revision", as: Int64.self)
            try await db.raw(
                """
                INSERT INTO deployment_events (name, revision, at, principal, kind, detail) VALUES
                (\(bind: name), \(bind: revision ?? 0), \(bind: now), \(bind: principal), \(bind: kind), \(bind: detail))
                """
            ).run()
        }
    }

    public func history(_ name: String, limit: Int = 100) async throws -> [DeploymentEvent] {
        try await store.read { db in
            try await db.raw("SELECT * FROM deployment_events WHERE name = \(bind: name) ORDER BY at DESC LIMIT \(bind: limit)").all().map { row in
                DeploymentEvent(
                    revision: try row.decode(column: "revision", as: Int64.self), at: try row.decode(column: "at", as: Int64.self),
                    principal: try row.decode(column: "principal", as: String.self), kind: try row.decode(column: "kind", as: String.self),
                    detail: try row.decode(column: "detail", as: String.self))
            }
        }
    }

    static func deployment(_ row: any SQLRow) throws -> Deployment {
        let body = try row.decode(column: "body", as: String.self)
        guard let json = try? JSONValue.parse(body) else { throw StrataError.internal("a stored deployment is not JSON") }
        return try Deployment(
            json: json, revision: try row.decode(column: "revision", as: Int64.self), updatedAt: try row.decode(column: "updated_at", as: Int64.self))
    }
}
