import StrataCore
import StrataRegistry

/// Deployments in the metadata store (through the registry's `DeploymentRecords`), so every
/// replica and every restart serves the same variants with the same salt. Each save bumps the
/// revision and records why.
public struct DeploymentStore: Sendable {
    let records: DeploymentRecords
    let clock: any WallClock

    public init(records: DeploymentRecords, clock: any WallClock = SystemClock()) {
        self.records = records
        self.clock = clock
    }

    public func get(_ name: String) async throws -> Deployment? {
        try await records.get(name).map(Self.deployment)
    }

    public func all() async throws -> [Deployment] {
        try await records.all().map(Self.deployment)
    }

    /// The revision of every deployment (what replicas poll).
    public func revisions() async throws -> [String: Int64] {
        try await records.revisions()
    }

    /// Saves a new revision of `deployment`, unless someone saved another since `expected`
    /// (nil: only if it does not exist yet); returns the stored value.
    @discardableResult
    public func save(_ deployment: Deployment, expectedRevision expected: Int64?, principal: String, kind: String, detail: String) async throws -> Deployment {
        try deployment.validate()
        let now = clock.nowMillis()
        let record = try await records.save(
            deployment.name, expectedRevision: expected, at: now, principal: principal, kind: kind, detail: detail
        ) { revision in
            var saved = deployment
            saved.revision = revision
            saved.updatedAt = now
            return saved.json
        }
        return try Self.deployment(record)
    }

    /// Records something that happened to a deployment without changing it (a promotion of the
    /// production version it follows).
    public func note(_ name: String, principal: String, kind: String, detail: String) async throws {
        try await records.note(name, at: clock.nowMillis(), principal: principal, kind: kind, detail: detail)
    }

    public func history(_ name: String, limit: Int = 100) async throws -> [DeploymentEvent] {
        try await records.history(name, limit: limit)
    }

    static func deployment(_ record: DeploymentRecord) throws -> Deployment {
        try Deployment(json: record.body, revision: record.revision, updatedAt: record.updatedAt)
    }
}
