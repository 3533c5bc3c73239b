import Foundation
import SQLKit
import StrataCore
import StrataMetadata
import StrataTesting
import Testing

@testable import StrataRegistry

/// The audit log: append-only, hash-chained, anchored outside the database.
@Suite struct AuditLogTests {
    /// Rewrites the stored entries: `edit` changes their content, then (when `rechain`) every
    /// hash is recomputed so the chain links up again, as someone with write access could.
    static func rewrite(_ store: MetadataStore, rechain: Bool, _ edit: (inout [AuditEntry]) -> Void) async throws {
        var entries = try await store.read { db in try await db.raw("SELECT * FROM audit_log ORDER BY seq").all().map(AuditLog.entry) }
        edit(&entries)
        if rechain {
            var previous = AuditLog.genesis
            for index in entries.indices {
                entries[index].previousHash = previous
                entries[index].hash = SHA256Hex.of(entries[index].chainedBytes)
                previous = entries[index].hash
            }
        }
        let rewritten = entries
        try await store.transaction { db in
            try await db.raw("DELETE FROM audit_log").run()
            for entry in rewritten {
                try await db.raw(
                    """
                    INSERT INTO audit_log (seq, at, principal, action, target, outcome, detail, previous_hash, hash) VALUES
                    (\(bind: entry.seq), \(bind: entry.at), \(bind: entry.principal), \(bind: entry.action), \(bind: entry.target),
                     \(bind: entry.outcome), \(bind: entry.detail), \(bind: entry.previousHash), \(bind: entry.hash))
                    """
                ).run()
            }
        }
    }

    static func storedCount(_ store: MetadataStore) async throws -> Int {
        try await store.read { db in
            Int(try await db.raw("SELECT COUNT(*) AS n FROM audit_log").first()?.decode(column: "n", as: Int64.self) ?? 0)
        }
    }

    @Test func entriesChainFromGenesisInOrder() async throws {
        try await RegistryFixture.with { fixture in
            for index in 1...5 {
                fixture.clock.advance(100)
                try await fixture.audit.append(principal: "key:a(x)", action: "model.register", target: "als@\(index)", detail: "detail \(index)")
            }
            let entries = try await fixture.audit.list()
            #expect(entries.map(\.seq) == [1, 2, 3, 4, 5])
            #expect(entries.map(\.at) == (1...5).map { RegistryFixture.start + Int64($0) * 100 })
            #expect(entries[0].previousHash == String(repeating: "0", count: 64))
            for (previous, entry) in zip(entries, entries.dropFirst()) { #expect(entry.previousHash == previous.hash) }
            #expect(entries.allSatisfy { $0.hash == SHA256Hex.of($0.chainedBytes) && $0.hash.count == 64 })
            #expect(Set(entries.map(\.hash)).count == 5)
            #expect(entries.allSatisfy { $0.outcome == "ok" })
            let verification = try await fixture.audit.verify()
            #expect(verification.isIntact && verification.entries == 5)
            #expect(entries[0].json["target"] == .string("als@1"))
            #expect(entries[0].json["at"] == .string(EventTime.format(millis: RegistryFixture.start + 100)))
        }
    }

    @Test func recordedEntriesWaitForAFlushAndKeepTheirTimes() async throws {
        try await RegistryFixture.with { fixture in
            fixture.clock.set(RegistryFixture.start + 1)
            fixture.audit.record(principal: "p", action: "ingest", target: "events")
            fixture.clock.set(RegistryFixture.start + 2)
            fixture.audit.record(principal: "p", action: "feature.read", target: "user:u1", outcome: "denied", detail: "no role")
            #expect(try await Self.storedCount(fixture.store) == 0, "queued, not written")
            fixture.clock.set(RegistryFixture.start + 50)
            try await fixture.audit.flush()
            #expect(try await Self.storedCount(fixture.store) == 2)
            try await fixture.audit.flush()
            #expect(try await Self.storedCount(fixture.store) == 2, "a second flush writes nothing")
            let entries = try await fixture.audit.list()
            #expect(entries.map(\.at) == [RegistryFixture.start + 1, RegistryFixture.start + 2], "the time recorded, not the time written")
            #expect(entries[1].outcome == "denied" && entries[1].detail == "no role")
            // Reading flushes what is queued.
            fixture.audit.record(principal: "p", action: "ingest", target: "more")
            #expect(try await fixture.audit.list().count == 3)
            // An append writes queued entries first, in order.
            fixture.audit.record(principal: "q", action: "queued", target: "a")
            try await fixture.audit.append(principal: "q", action: "appended", target: "b")
            #expect(try await fixture.audit.list(principal: "q").map(\.action) == ["queued", "appended"])
            #expect(try await fixture.audit.verify().isIntact)
        }
    }

    @Test func listFiltersByPrincipalActionTimeAndLimit() async throws {
        try await RegistryFixture.with { fixture in
            let audit = fixture.audit
            for index in 0..<10 {
                fixture.clock.set(RegistryFixture.start + Int64(index) * 1000)
                audit.record(principal: index % 2 == 0 ? "alice" : "bob", action: index < 5 ? "ingest" : "model.promote", target: "t\(index)")
            }
            #expect(try await audit.list(principal: "alice").map(\.target) == ["t0", "t2", "t4", "t6", "t8"])
            #expect(try await audit.list(action: "model.promote").map(\.target) == ["t5", "t6", "t7", "t8", "t9"])
            #expect(try await audit.list(principal: "bob", action: "ingest").map(\.target) == ["t1", "t3"])
            // `from` is inclusive, `to` exclusive.
            let window = try await audit.list(from: RegistryFixture.start + 2000, to: RegistryFixture.start + 5000)
            #expect(window.map(\.target) == ["t2", "t3", "t4"])
            #expect(try await audit.list(limit: 3).map(\.target) == ["t0", "t1", "t2"])
            #expect(try await audit.list(limit: 3, newestFirst: true).map(\.target) == ["t9", "t8", "t7"])
            #expect(try await audit.list(limit: 0).count == 1, "a limit below one still lists one")
            #expect(try await audit.list(principal: "nobody").isEmpty)
            #expect(try await audit.list(principal: "alice' OR '1' = '1").isEmpty, "filters are bound, not spliced")
        }
    }

    @Test func verifyNamesTheFirstEditedEntry() async throws {
        try await RegistryFixture.with { fixture in
            for index in 1...6 { try await fixture.audit.append(principal: "p", action: "a", target: "t\(index)") }
            let saved = try await fixture.store.read { db in try await db.raw("SELECT * FROM audit_log ORDER BY seq").all().map(AuditLog.entry) }
            for (column, value) in [("target", "'forged'"), ("outcome", "'denied'"), ("detail", "'x'"), ("at", "1"), ("principal", "'mallory'")] {
                try await fixture.store.transaction { db in
                    try await db.raw("UPDATE audit_log SET \(unsafeRaw: column) = \(unsafeRaw: value) WHERE seq = 4").run()
                }
                let result = try await fixture.audit.verify()
                #expect(result.problem?.seq == 4, "\(column)")
                #expect(result.problem?.message.contains("edited") == true, "\(column)")
                #expect(!result.isIntact)
                #expect(result.entries == 4, "verification stops at the break")
                // Put it back.
                try await Self.rewrite(fixture.store, rechain: false) { $0 = saved }
                #expect(try await fixture.audit.verify().isIntact, "restored after \(column)")
            }
        }
    }

    @Test func anEditWithARecomputedHashBreaksTheNextLink() async throws {
        try await RegistryFixture.with { fixture in
            for index in 1...4 { try await fixture.audit.append(principal: "p", action: "a", target: "t\(index)") }
            try await Self.rewrite(fixture.store, rechain: false) { entries in
                entries[1].target = "forged"
                entries[1].hash = SHA256Hex.of(entries[1].chainedBytes)
            }
            let result = try await fixture.audit.verify()
            #expect(result.problem?.seq == 3)
            #expect(result.problem?.message.contains("does not follow entry 2") == true)
        }
    }

    @Test func aRemovedEntryIsNamedAsMissing() async throws {
        try await RegistryFixture.with { fixture in
            for index in 1...6 { try await fixture.audit.append(principal: "p", action: "a", target: "t\(index)") }
            try await fixture.store.transaction { db in try await db.raw("DELETE FROM audit_log WHERE seq IN (3, 4)").run() }
            let result = try await fixture.audit.verify()
            #expect(result.problem?.seq == 5)
            #expect(result.problem?.message.contains("entries 3–4 are missing") == true)
            // The first entry removed: the chain starts at 2.
            try await fixture.store.transaction { db in try await db.raw("DELETE FROM audit_log").run() }
            for index in 1...3 { try await fixture.audit.append(principal: "p", action: "a", target: "u\(index)") }
            try await fixture.store.transaction { db in try await db.raw("DELETE FROM audit_log WHERE seq = 1").run() }
            #expect(try await fixture.audit.verify().problem?.seq == 2)
        }
    }

    /// Removing the newest entries, or rewriting the whole chain consistently, leaves a chain
    /// that verifies by itself; the anchor outside the database catches both.
    @Test func theAnchorCatchesTruncationAndARewrittenChain() async throws {
        try await RegistryFixture.with(anchor: true) { fixture in
            for index in 1...5 { try await fixture.audit.append(principal: "p", action: "a", target: "t\(index)") }
            let anchor = try #require(fixture.audit.anchor)
            let last = try #require(try await fixture.audit.list(newestFirst: true).first)
            let head = try #require(try anchor.highest())
            #expect(head.seq == 5 && head.hash == last.hash)
            let lines = try String(contentsOfFile: anchor.path, encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 5, "one head per write")
            #expect(try await fixture.audit.verify().isIntact)
            let unanchored = AuditLog(store: fixture.store, clock: fixture.clock)

            // The newest two removed.
            let saved = try await fixture.store.read { db in try await db.raw("SELECT * FROM audit_log ORDER BY seq").all().map(AuditLog.entry) }
            try await fixture.store.transaction { db in try await db.raw("DELETE FROM audit_log WHERE seq > 3").run() }
            #expect(try await unanchored.verify().isIntact, "the shorter chain verifies by itself")
            let truncated = try await fixture.audit.verify()
            #expect(truncated.problem?.seq == 5)
            #expect(truncated.problem?.message.contains("entries 4–5 are missing") == true)
            #expect(truncated.problem?.message.contains("newest entries were removed") == true)

            // Restored, then rewritten from entry 2 on with consistent hashes.
            try await Self.rewrite(fixture.store, rechain: false) { $0 = saved }
            #expect(try await fixture.audit.verify().isIntact)
            try await Self.rewrite(fixture.store, rechain: true) { entries in entries[1].target = "forged" }
            #expect(try await unanchored.verify().isIntact, "a consistent rewrite passes the chain check")
            let rewritten = try await fixture.audit.verify()
            #expect(rewritten.problem?.seq == 5)
            #expect(rewritten.problem?.message.contains("rewritten") == true)
        }
    }

    @Test func aFailedWriteKeepsItsEntriesForTheNextFlush() async throws {
        try await RegistryFixture.with { fixture in
            try await fixture.audit.append(principal: "p", action: "a", target: "before")
            try await fixture.store.transaction { db in try await db.raw("ALTER TABLE audit_log RENAME TO audit_log_away").run() }
            fixture.audit.record(principal: "p", action: "a", target: "queued-1")
            await #expect(throws: (any Error).self) { try await fixture.audit.append(principal: "p", action: "a", target: "queued-2") }
            try await fixture.store.transaction { db in try await db.raw("ALTER TABLE audit_log_away RENAME TO audit_log").run() }
            fixture.audit.record(principal: "p", action: "a", target: "after")
            try await fixture.audit.flush()
            #expect(try await fixture.audit.list().map(\.target) == ["before", "queued-1", "queued-2", "after"])
            #expect(try await fixture.audit.verify().isIntact)
        }
    }
}
