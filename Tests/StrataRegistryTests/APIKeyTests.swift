import Foundation
import SQLKit
import StrataCore
import StrataMetadata
import StrataTesting
import Testing

@testable import StrataRegistry

/// API keys: created with roles, presented as `strata_<id>_<secret>`, revoked for good.
@Suite struct APIKeyTests {
    @Test func aCreatedKeyAuthenticatesAsItsPrincipalWithItsRoles() async throws {
        try await RegistryFixture.with { fixture in
            let keys = try await APIKeys(store: fixture.store, clock: fixture.clock)
            #expect(try await keys.isEmpty(), "a new project has no keys")
            let (key, record) = try await keys.create(name: "batch-job", roles: [.serve, .ingest], by: "local:ops")
            let parts = key.split(separator: "_", omittingEmptySubsequences: false)
            #expect(parts.count == 3 && parts[0] == "strata" && String(parts[1]) == record.id)
            #expect(record.id.count == 12 && parts[2].count == 48)
            #expect(record.roles == [.ingest, .serve], "roles are listed sorted")
            #expect(record.createdAt == RegistryFixture.start && record.createdBy == "local:ops" && record.revokedAt == nil)
            let principal = try #require(keys.authenticate(key))
            #expect(principal.id == record.id && principal.name == "batch-job")
            #expect(principal.roles == [.ingest, .serve])
            #expect(principal.label == "key:\(record.id)(batch-job)")
            #expect(principal.has(.serve) && principal.has(.ingest))
            #expect(!principal.has(.approver) && !principal.has(.scientist) && !principal.has(.admin))
            #expect(!(try await keys.isEmpty()))
            let listed = try await keys.list()
            #expect(listed.count == 1 && listed[0].id == record.id && listed[0].roles == [.ingest, .serve])
            #expect(listed[0].json["roles"] == .array([.string("ingest"), .string("serve")]))
            #expect(listed[0].json["revoked_at"] == .null)
        }
    }

    @Test func aKeyNeedsARole() async throws {
        try await RegistryFixture.with { fixture in
            let keys = try await APIKeys(store: fixture.store, clock: fixture.clock)
            let error = await strataError { _ = try await keys.create(name: "empty", roles: [], by: "local:ops") }
            #expect(error?.code == "no_roles" && error?.kind == .invalidInput)
            #expect(try await keys.list().isEmpty, "nothing was stored")
        }
    }

    @Test func onlyTheExactSecretOfAnActiveKeyAuthenticates() async throws {
        try await RegistryFixture.with { fixture in
            let keys = try await APIKeys(store: fixture.store, clock: fixture.clock)
            let (first, firstRecord) = try await keys.create(name: "a", roles: [.serve], by: "t")
            let (second, secondRecord) = try await keys.create(name: "b", roles: [.admin], by: "t")
            let firstSecret = String(first.split(separator: "_")[2])
            let secondSecret = String(second.split(separator: "_")[2])
            #expect(keys.authenticate(first)?.id == firstRecord.id)
            #expect(keys.authenticate(second)?.id == secondRecord.id)
            let forged = [
                "strata_\(firstRecord.id)_\(secondSecret)",  // another key's secret
                "strata_\(firstRecord.id)_\(firstSecret.dropLast())",  // a truncated secret
                "strata_\(firstRecord.id)_\(firstSecret)x",  // a longer one
                "strata_\(firstRecord.id)_\(firstSecret.uppercased())",
                "strata_\(firstRecord.id)_",
                "strata_\(firstRecord.id)",
                "strata__\(firstSecret)",
                "other_\(firstRecord.id)_\(firstSecret)",
                "\(firstRecord.id)_\(firstSecret)",
                "strata_unknownid000_\(firstSecret)",
                "",
            ]
            for key in forged { #expect(keys.authenticate(key) == nil, "\(key)") }
        }
    }

    @Test func onlyAHashOfTheSecretIsStored() async throws {
        try await RegistryFixture.with { fixture in
            let keys = try await APIKeys(store: fixture.store, clock: fixture.clock)
            let (key, _) = try await keys.create(name: "a", roles: [.serve], by: "t")
            let secret = String(key.split(separator: "_")[2])
            let stored = try await fixture.store.read { db in
                try await db.raw("SELECT secret_hash FROM api_keys").all().map { try $0.decode(column: "secret_hash", as: String.self) }
            }
            #expect(stored == [SHA256Hex.of(secret)])
            #expect(!stored[0].contains(secret))
        }
    }

    @Test func revokedKeysStopWorkingAndStayRevoked() async throws {
        try await RegistryFixture.with { fixture in
            let keys = try await APIKeys(store: fixture.store, clock: fixture.clock)
            let (kept, keptRecord) = try await keys.create(name: "kept", roles: [.serve], by: "t")
            fixture.clock.advance(10)
            let (revoked, revokedRecord) = try await keys.create(name: "revoked", roles: [.ingest], by: "t")
            #expect(try await !keys.revoke(id: "no-such-key"))
            fixture.clock.advance(5000)
            #expect(try await keys.revoke(id: revokedRecord.id))
            #expect(try await !keys.revoke(id: revokedRecord.id), "revoking twice changes nothing")
            #expect(keys.authenticate(revoked) == nil)
            #expect(keys.authenticate(kept)?.id == keptRecord.id, "other keys keep working")
            let listed = try await keys.list()
            #expect(listed.map(\.name) == ["kept", "revoked"], "oldest first, revoked ones included")
            #expect(listed[1].revokedAt == RegistryFixture.start + 5010)
            #expect(listed[0].revokedAt == nil)
            #expect(!(try await keys.isEmpty()))
            #expect(try await keys.revoke(id: keptRecord.id))
            #expect(try await keys.isEmpty(), "no usable key left")
            // A fresh instance (a restart) loads only active keys.
            let restarted = try await APIKeys(store: fixture.store, clock: fixture.clock)
            #expect(restarted.authenticate(kept) == nil && restarted.authenticate(revoked) == nil)
        }
    }

    @Test func anotherInstanceSeesChangesAfterItReloads() async throws {
        try await RegistryFixture.with { fixture in
            let replicaA = try await APIKeys(store: fixture.store, clock: fixture.clock)
            let replicaB = try await APIKeys(store: fixture.store, clock: fixture.clock)
            let (key, record) = try await replicaA.create(name: "shared", roles: [.scientist, .approver], by: "t")
            #expect(replicaB.authenticate(key) == nil, "B answers from its cache")
            try await replicaB.reload()
            let principal = try #require(replicaB.authenticate(key))
            #expect(principal.roles == [.scientist, .approver])
            #expect(try await replicaA.revoke(id: record.id))
            #expect(replicaB.authenticate(key) != nil, "until it reloads")
            try await replicaB.reload()
            #expect(replicaB.authenticate(key) == nil)
        }
    }

    @Test func adminMayDoEverythingAndLabelsNameTheKind() {
        let admin = Principal(id: "k1", name: "root", roles: [.admin])
        for role in Role.allCases { #expect(admin.has(role), "\(role)") }
        let local = Principal.local("alice")
        #expect(local.label == "local:alice")
        #expect(local.roles == Set(Role.allCases))
        #expect(Principal(id: "k2", name: "ci", roles: [.serve]).label == "key:k2(ci)")
        #expect(Role.allCases.sorted().map(\.rawValue) == ["admin", "approver", "ingest", "scientist", "serve"])
        let none = Principal(id: "k3", name: "none", roles: [])
        #expect(Role.allCases.allSatisfy { !none.has($0) })
    }

    @Test func secretsCompareInConstantTimeAndTokensUseTheAlphabet() {
        let a = Array("0123456789abcdef".utf8)
        #expect(APIKeys.constantTimeEqual(a, a))
        #expect(!APIKeys.constantTimeEqual(a, Array("0123456789abcdee".utf8)))
        #expect(!APIKeys.constantTimeEqual(a, Array("1123456789abcdef".utf8)))
        #expect(!APIKeys.constantTimeEqual(a, Array(a.dropLast())))
        #expect(APIKeys.constantTimeEqual([], []))
        let tokens = (0..<50).map { _ in APIKeys.randomToken(6) }
        #expect(tokens.allSatisfy { $0.count == 12 && $0.allSatisfy { $0.isLowercase || $0.isNumber } && $0.allSatisfy(\.isASCII) })
        #expect(Set(tokens).count == tokens.count, "tokens do not repeat")
    }
}
