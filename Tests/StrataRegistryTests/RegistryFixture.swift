import Foundation
import StrataCore
import StrataMetadata
import StrataTesting
import Testing

@testable import StrataRegistry

/// A fresh embedded (SQLite) metadata store in a temporary folder, with the registry's parts
/// over it and a clock the test sets.
struct RegistryFixture {
    static let start: Int64 = 1_790_000_000_000

    let directory: TemporaryDirectory
    let store: MetadataStore
    let clock: ManualClock
    let audit: AuditLog
    let runs: RunStore

    static let scientist = Principal(id: "sci", name: "sam", roles: [.scientist])
    static let approver = Principal(id: "apr", name: "ann", roles: [.approver])
    static let secondApprover = Principal(id: "apr2", name: "bob", roles: [.approver])
    static let admin = Principal(id: "adm", name: "root", roles: [.admin])
    static let reader = Principal(id: "srv", name: "web", roles: [.serve])

    static func open(anchor: Bool = false) async throws -> RegistryFixture {
        let directory = TemporaryDirectory("strata-registry")
        let store = try await MetadataStore.open(url: "sqlite:", defaultSQLitePath: directory.file("metadata.sqlite"), logger: quietLogger)
        let clock = ManualClock(start)
        let audit = AuditLog(store: store, clock: clock, anchor: anchor ? AuditAnchor(path: directory.file("audit/anchor.jsonl")) : nil)
        return RegistryFixture(directory: directory, store: store, clock: clock, audit: audit, runs: RunStore(store: store))
    }

    /// Runs `body` on a fresh fixture, closed afterwards whether it threw or not.
    static func with(anchor: Bool = false, _ body: (RegistryFixture) async throws -> Void) async throws {
        let fixture = try await open(anchor: anchor)
        do {
            try await body(fixture)
        } catch {
            await fixture.close()
            throw error
        }
        await fixture.close()
    }

    func registry(_ rules: GovernanceRules = GovernanceRules()) -> ModelRegistry {
        ModelRegistry(store: store, audit: audit, rules: rules, clock: clock)
    }

    func close() async {
        await store.close()
        directory.remove()
    }

    /// A run as `RunStore.insert` records it when training starts.
    static func run(
        _ id: String, model: String = "als", principal: Principal = scientist, startedAt: Int64 = start, parameters: [String: Double] = ["factors": 8],
        inputs: RunInputs = RunInputs()
    ) -> RunRecord {
        RunRecord(
            id: id, experiment: "exp-\(model)", model: model, algorithm: .als, dataVersion: "data-\(id)", contractVersion: "contract-1",
            codeVersion: "git:test", parameters: parameters, seed: 42, host: "test-host", principal: principal.label, startedAt: startedAt, reproduces: nil,
            inputs: inputs)
    }

    /// Inserts a run started by `principal`, then registers its output as the model's next
    /// version with the given gate.
    func registerRun(
        _ registry: ModelRegistry, runID: String, model: String = "als", candidate: Double = 0.1, production: Double? = nil, margin: Double = 0,
        by principal: Principal = scientist
    ) async throws -> ModelVersion {
        try await runs.insert(Self.run(runID, model: model, principal: principal))
        let gate = GateResult(metric: "ndcg@10", margin: margin, candidate: candidate, production: production, productionVersion: production == nil ? nil : 1)
        return try await registry.register(model: model, runID: runID, artifactHash: "artifact-\(runID)", gate: gate, by: principal)
    }
}

/// The `StrataError` a call threw (nil when it returned or threw something else).
func strataError(_ body: () async throws -> Void) async -> StrataError? {
    do {
        try await body()
        return nil
    } catch let error as StrataError {
        return error
    } catch {
        Issue.record("expected a StrataError, got \(error)")
        return nil
    }
}
