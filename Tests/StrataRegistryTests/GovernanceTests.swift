import Foundation
import SQLKit
import StrataCore
import StrataMetadata
import StrataTesting
import Testing

@testable import StrataRegistry

/// Audit log, keys and the registry's gates, on every metadata backend.
@Suite(.serialized) struct GovernanceTests {
    @Test(arguments: MetadataBackends.names)
    func migrationsRunOnceAndInOrder(backend: String) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        guard let store = try await MetadataBackends.open(backend, directory) else { return }
        #expect(try await store.appliedMigrations() == [1, 2, 3, 4, 5, 6, 7])
        await store.close()
        if backend == "sqlite" {
            let again = try await MetadataStore.open(url: "sqlite:\(directory.file("metadata.sqlite"))", defaultSQLitePath: "", logger: quietLogger)
            #expect(try await again.appliedMigrations() == [1, 2, 3, 4, 5, 6, 7])
            await again.close()
        }
    }

    @Test(arguments: MetadataBackends.names)
    func auditChainDetectsEditedRemovedAndReorderedEntries(backend: String) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        guard let store = try await MetadataBackends.open(backend, directory) else { return }
        let audit = AuditLog(store: store)
        for index in 1...6 { audit.record(principal: "key:a(x)", action: index % 2 == 0 ? "feature.read" : "ingest", target: "t\(index)") }
        try await audit.append(principal: "key:b(y)", action: "model.approve", target: "als@1", outcome: "denied", detail: "self approval")
        #expect(try await audit.verify().isIntact)
        #expect(try await audit.verify().entries == 7)
        #expect(try await audit.list(action: "ingest").map(\.target) == ["t1", "t3", "t5"])
        #expect(try await audit.list(principal: "key:b(y)").first?.outcome == "denied")

        // Edit one entry's content.
        try await store.transaction { db in try await db.raw("UPDATE audit_log SET target = 'other' WHERE seq = 3").run() }
        var result = try await audit.verify()
        #expect(result.problem?.seq == 3)
        #expect(result.problem?.message.contains("edited") == true)
        try await store.transaction { db in try await db.raw("UPDATE audit_log SET target = 't3' WHERE seq = 3").run() }
        #expect(try await audit.verify().isIntact)

        // Reorder two entries (swap their contents and hashes, keeping seq).
        let rows = try await store.read { db in try await db.raw("SELECT * FROM audit_log WHERE seq IN (4, 5) ORDER BY seq").all().map(AuditLog.entry) }
        try await store.transaction { db in
            for (seq, entry) in [(Int64(4), rows[1]), (Int64(5), rows[0])] {
                try await db.raw(
                    """
                    UPDATE audit_log SET at = \(bind: entry.at), principal = \(bind: entry.principal), action = \(bind: entry.action), target = \(bind: entry.target),
                      outcome = \(bind: entry.outcome), detail = \(bind: entry.detail), previous_hash = \(bind: entry.previousHash), hash = \(bind: entry.hash)
                    WHERE seq = \(bind: seq)
                    """
                ).run()
            }
        }
        result = try await audit.verify()
        #expect(result.problem?.seq == 4)

        // Remove one entry.
        try await store.transaction { db in
            try await db.raw("DELETE FROM audit_log").run()
        }
        for index in 1...4 { audit.record(principal: "p", action: "a", target: "t\(index)") }
        try await audit.flush()
        try await store.transaction { db in try await db.raw("DELETE FROM audit_log WHERE seq = 2").run() }
        result = try await audit.verify()
        #expect(result.problem?.seq == 3)
        #expect(result.problem?.message.contains("missing") == true)
        await store.close()
    }

    @Test(arguments: MetadataBackends.names)
    func keysAuthenticateOnlyWithTheirSecretUntilRevoked(backend: String) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        guard let store = try await MetadataBackends.open(backend, directory) else { return }
        let keys = try await APIKeys(store: store)
        let (key, record) = try await keys.create(name: "ci", roles: [.ingest, .serve], by: "local:test")
        let principal = try #require(keys.authenticate(key))
        #expect(principal.roles == [.ingest, .serve])
        #expect(principal.has(.serve) && !principal.has(.approver))
        #expect(keys.authenticate(String(key.dropLast()) + (key.hasSuffix("a") ? "b" : "a")) == nil, "a wrong secret")
        #expect(keys.authenticate("strata_nope_secret") == nil)
        #expect(keys.authenticate("garbage") == nil)
        let stored = try await store.read { db in
            try await db.raw("SELECT secret_hash FROM api_keys").all().map { try $0.decode(column: "secret_hash", as: String.self) }
        }
        #expect(stored.count == 1 && !key.contains(stored[0]), "only a hash is stored")
        // Another replica sees the key after reloading.
        let other = try await APIKeys(store: store)
        #expect(other.authenticate(key) != nil)
        #expect(try await keys.revoke(id: record.id))
        #expect(keys.authenticate(key) == nil)
        try await other.reload()
        #expect(other.authenticate(key) == nil)
        #expect(try await keys.list().first?.revokedAt != nil)
        await store.close()
    }

    func insertRun(_ store: MetadataStore, id: String, principal: String) async throws {
        try await store.transaction { db in
            try await db.raw(
                """
                INSERT INTO runs (id, experiment, model, algorithm, status, data_version, contract_version, code_version, strata_version, parameters,
                  seed, host, principal, started_at, checkpoint_iteration) VALUES
                (\(bind: id), 'als', 'als', 'als', 'finished', 'd', 'c', 'git:x', '0.1.0', '{}', 42, 'h', \(bind: principal), 0, 0)
                """
            ).run()
        }
    }

    @Test(arguments: MetadataBackends.names)
    func gatesRefuseWhatTheyMustAndAuditEveryRefusal(backend: String) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        guard let store = try await MetadataBackends.open(backend, directory) else { return }
        let audit = AuditLog(store: store)
        let registry = ModelRegistry(store: store, audit: audit)
        let scientist = Principal(id: "sci", name: "sam", roles: [.scientist, .approver])
        let approver = Principal(id: "apr", name: "ann", roles: [.approver])
        let reader = Principal(id: "srv", name: "web", roles: [.serve])

        try await insertRun(store, id: "r1", principal: scientist.label)
        let first = try await registry.register(
            model: "als", runID: "r1", artifactHash: "a1",
            gate: GateResult(metric: "ndcg@10", margin: 0.01, candidate: 0.10, production: nil, productionVersion: nil),
            by: scientist)
        #expect(first.stage == .candidate)

        // Promotion without approval is refused.
        await #expect(throws: StrataError.self) { try await registry.promote("als@1", by: approver) }
        // Self-approval is refused (the scientist started r1).
        await #expect(throws: StrataError.self) { try await registry.approve("als@1", reason: "mine", by: scientist) }
        // The approver role is needed.
        await #expect(throws: StrataError.self) { try await registry.approve("als@1", reason: "ok", by: reader) }
        _ = try await registry.approve("als@1", reason: "holdout is fine", by: approver)
        let production = try await registry.promote("als@1", by: approver)
        #expect(production.stage == .production)
        #expect(try await registry.resolve("als@production").version == 1)

        // A worse candidate is rejected by the gate, with the numbers.
        try await insertRun(store, id: "r2", principal: scientist.label)
        let worse = try await registry.register(
            model: "als", runID: "r2", artifactHash: "a2",
            gate: GateResult(metric: "ndcg@10", margin: 0.01, candidate: 0.105, production: 0.10, productionVersion: 1),
            by: scientist)
        #expect(worse.stage == .rejected)
        #expect(worse.gate?.message.contains("rejected") == true)
        await #expect(throws: StrataError.self) { try await registry.approve("als@2", reason: "please", by: approver) }

        // A better one passes, is approved, promoted; rollback restores version 1.
        try await insertRun(store, id: "r3", principal: scientist.label)
        let better = try await registry.register(
            model: "als", runID: "r3", artifactHash: "a3",
            gate: GateResult(metric: "ndcg@10", margin: 0.01, candidate: 0.12, production: 0.10, productionVersion: 1),
            by: scientist)
        #expect(better.stage == .candidate)
        _ = try await registry.approve("als@3", reason: "better", by: approver)
        _ = try await registry.promote("als@3", by: approver)
        #expect(try await registry.resolve("als@previous").version == 1)
        #expect(try await registry.resolve("als@1").stage == .archived)
        _ = try await registry.rollback(model: "als", by: approver)
        #expect(try await registry.resolve("als@production").version == 1)

        let denied = try await audit.list().filter { $0.outcome == "denied" }
        #expect(denied.map(\.action) == ["model.promote", "model.approve", "model.approve", "model.approve"])
        #expect(denied[1].detail.contains("may not approve"))
        #expect(try await audit.list(action: "model.register").map(\.outcome) == ["ok", "rejected", "ok"])
        #expect(try await audit.verify().isIntact)

        // With the rule off, the scientist may approve their own run.
        let relaxed = ModelRegistry(store: store, audit: audit, rules: GovernanceRules(allowSelfApproval: true))
        try await insertRun(store, id: "r4", principal: scientist.label)
        _ = try await relaxed.register(
            model: "als", runID: "r4", artifactHash: "a4",
            gate: GateResult(metric: "ndcg@10", margin: 0, candidate: 0.2, production: 0.1, productionVersion: 1),
            by: scientist)
        #expect(try await relaxed.approve("als@4", reason: "mine, allowed", by: scientist).stage == .approved)
        await store.close()
    }
}
