import Foundation
import StrataCore
import StrataMetadata
import StrataTesting
import Testing

@testable import StrataRegistry

/// Deployment rows: optimistic revisions, and the history of every change and note.
@Suite struct DeploymentRecordsTests {
    static func body(_ model: String) -> @Sendable (Int64) -> JSONValue {
        { revision in ["model": .string(model), "revision": .int(revision), "variants": .array([["weight": 1.0]])] }
    }

    @Test func theFirstSaveCreatesRevisionOneAndLaterSavesCountOn() async throws {
        try await RegistryFixture.with { fixture in
            let records = DeploymentRecords(store: fixture.store)
            let start = RegistryFixture.start
            #expect(try await records.get("home") == nil)
            let first = try await records.save(
                "home", expectedRevision: nil, at: start, principal: "key:a(ann)", kind: "create", detail: "als@1", body: Self.body("als@1"))
            #expect(first.revision == 1 && first.updatedAt == start && first.name == "home")
            #expect(first.body["revision"] == .int(1), "the body is built for the revision it gets")
            #expect(try await records.get("home") == first)
            let second = try await records.save(
                "home", expectedRevision: 1, at: start + 1000, principal: "key:a(ann)", kind: "promote", detail: "als@2", body: Self.body("als@2"))
            #expect(second.revision == 2)
            let stored = try #require(try await records.get("home"))
            #expect(stored == second)
            #expect(stored.body["model"] == .string("als@2"))
            #expect(stored.body["variants"]?.arrayValue?.first?["weight"] == .double(1.0))
            #expect(try await records.revisions() == ["home": 2])
        }
    }

    @Test func aStaleOrMissingRevisionIsAConflictAndChangesNothing() async throws {
        try await RegistryFixture.with { fixture in
            let records = DeploymentRecords(store: fixture.store)
            let start = RegistryFixture.start
            _ = try await records.save("home", expectedRevision: nil, at: start, principal: "p", kind: "create", detail: "", body: Self.body("a"))
            _ = try await records.save("home", expectedRevision: 1, at: start + 1, principal: "p", kind: "update", detail: "", body: Self.body("b"))
            for expected: Int64? in [nil, 1, 3] {
                let error = await strataError {
                    _ = try await records.save(
                        "home", expectedRevision: expected, at: start + 2, principal: "q", kind: "lost", detail: "", body: Self.body("c"))
                }
                #expect(error?.code == "deployment_changed", "expected \(String(describing: expected))")
                #expect(error?.kind == .conflict)
                #expect(error?.message.contains("revision 2") == true)
            }
            // Expecting a revision of a deployment that does not exist.
            let missing = await strataError {
                _ = try await records.save("other", expectedRevision: 1, at: start, principal: "q", kind: "update", detail: "", body: Self.body("c"))
            }
            #expect(missing?.code == "deployment_changed")
            #expect(missing?.message.contains("revision none") == true)
            #expect(try await records.get("other") == nil)
            #expect(try await records.get("home")?.body["model"] == .string("b"))
            #expect(try await records.get("home")?.revision == 2)
            #expect(try await records.history("home").map(\.kind) == ["update", "create"], "refused saves leave no event")
            #expect(try await records.history("other").isEmpty)
        }
    }

    /// Two writers read the same revision; only the first save wins.
    @Test func concurrentWritersFromTheSameRevisionOneWins() async throws {
        try await RegistryFixture.with { fixture in
            let records = DeploymentRecords(store: fixture.store)
            _ = try await records.save("home", expectedRevision: nil, at: 1, principal: "p", kind: "create", detail: "", body: Self.body("a"))
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for writer in 0..<8 {
                    group.addTask {
                        do {
                            _ = try await records.save(
                                "home", expectedRevision: 1, at: 2, principal: "w\(writer)", kind: "update", detail: "", body: Self.body("w\(writer)"))
                            return true
                        } catch {
                            return false
                        }
                    }
                }
                var results: [Bool] = []
                for await result in group { results.append(result) }
                return results
            }
            #expect(outcomes.filter { $0 }.count == 1)
            #expect(try await records.get("home")?.revision == 2)
            #expect(try await records.history("home").count == 2)
        }
    }

    @Test func historyIsNewestFirstWithNotesAtTheCurrentRevision() async throws {
        try await RegistryFixture.with { fixture in
            let records = DeploymentRecords(store: fixture.store)
            let start = RegistryFixture.start
            _ = try await records.save("home", expectedRevision: nil, at: start, principal: "ann", kind: "create", detail: "als@1", body: Self.body("1"))
            try await records.note("home", at: start + 10, principal: "monitor", kind: "canary_step", detail: "10% → 25%")
            _ = try await records.save("home", expectedRevision: 1, at: start + 20, principal: "ann", kind: "promote", detail: "als@2", body: Self.body("2"))
            try await records.note("home", at: start + 30, principal: "monitor", kind: "auto_rollback", detail: "error rate 5%")
            let history = try await records.history("home")
            #expect(history.map(\.kind) == ["auto_rollback", "promote", "canary_step", "create"])
            #expect(history.map(\.revision) == [2, 2, 1, 1], "a note carries the revision it happened at")
            #expect(history.map(\.at) == [start + 30, start + 20, start + 10, start])
            #expect(history[0] == DeploymentEvent(revision: 2, at: start + 30, principal: "monitor", kind: "auto_rollback", detail: "error rate 5%"))
            #expect(try await records.history("home", limit: 2).map(\.kind) == ["auto_rollback", "promote"])
            #expect(try await records.get("home")?.revision == 2, "notes do not change the deployment")
            #expect(history[0].json["at"] == .string(EventTime.format(millis: start + 30)))
            // A note about a deployment that does not exist (yet) is kept at revision 0.
            try await records.note("later", at: start, principal: "p", kind: "planned", detail: "")
            #expect(try await records.history("later").map(\.revision) == [0])
            #expect(try await records.get("later") == nil)
        }
    }

    @Test func everyDeploymentIsListedWithItsRevision() async throws {
        try await RegistryFixture.with { fixture in
            let records = DeploymentRecords(store: fixture.store)
            #expect(try await records.all().isEmpty)
            #expect(try await records.revisions().isEmpty)
            for name in ["search", "home", "email"] {
                _ = try await records.save(name, expectedRevision: nil, at: 1, principal: "p", kind: "create", detail: "", body: Self.body(name))
            }
            _ = try await records.save("home", expectedRevision: 1, at: 2, principal: "p", kind: "update", detail: "", body: Self.body("home2"))
            #expect(try await records.all().map(\.name) == ["email", "home", "search"])
            #expect(try await records.revisions() == ["email": 1, "home": 2, "search": 1])
            #expect(try await records.all().first { $0.name == "home" }?.body["model"] == .string("home2"))
            #expect(try await records.history("search").count == 1)
            #expect(try await records.history("home").count == 2)
        }
    }
}
