import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import StrataCore
import StrataLake
import StrataMetadata
import StrataRegistry
import StrataServer
import StrataTesting
import StrataTraining
import Testing

/// API keys and roles on every route, the audit of accesses and refusals, and the registry's
/// gates over HTTP.
@Suite struct AuthTests {
    func json(_ response: TestResponse) throws -> JSONValue { try JSONValue.parse(String(buffer: response.body)) }

    @Test func routesNeedAKeyWithTheirRoleAndEveryAccessIsAudited() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let config = Fixtures.config
        let lake = try Fixtures.lake(directory, config: config)
        _ = try await lake.ingestor.ingest(events: Fixtures.events(3000, seed: 8), source: "test", allowLate: true)
        _ = try await lake.maintain(force: true)
        _ = try await lake.compactor.snapshot()
        let store = try await MetadataStore.open(url: "sqlite:", defaultSQLitePath: directory.file("metadata.sqlite"), logger: quietLogger)
        let audit = AuditLog(store: store)
        let keys = try await APIKeys(store: store)
        let registry = ModelRegistry(store: store, audit: audit)
        let blobs = FileBlobStore(root: directory.file("blobs"))
        let trainer = Trainer(
            runs: RunStore(store: store), blobs: blobs, registry: registry, audit: audit, directory: lake.directory, config: config, codeVersion: "git:test",
            threads: 2)
        let models = [try ModelSpec(name: "pop", algorithm: .popularity)]
        let server = StrataHTTPServer(
            lake: lake, config: config,
            governance: RegistryServices(keys: keys, audit: audit, registry: registry, trainer: trainer, blobs: blobs, models: models),
            logger: quietLogger)
        let (ingestKey, _) = try await keys.create(name: "shop", roles: [.ingest], by: "test")
        let (scientistKey, _) = try await keys.create(name: "sam", roles: [.scientist], by: "test")
        let (approverKey, _) = try await keys.create(name: "ann", roles: [.approver], by: "test")
        let (adminKey, _) = try await keys.create(name: "root", roles: [.admin], by: "test")
        @Sendable func bearer(_ key: String) -> HTTPFields { [.authorization: "Bearer \(key)", .contentType: "application/json"] }
        let event = #"{"type":"view","user_id":"u1","item_id":"i1","timestamp":\#(SystemClock().nowMillis())}"#

        try await Application(router: server.router()).test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/events", method: .post, body: ByteBuffer(string: event)) { response throws in
                #expect(response.status == .unauthorized)
                #expect(try json(response)["error"]?["code"] == "missing_key")
            }
            try await client.execute(uri: "/v1/events", method: .post, headers: bearer(ingestKey + "x"), body: ByteBuffer(string: event)) { response throws in
                #expect(response.status == .unauthorized)
                #expect(try json(response)["error"]?["code"] == "invalid_key")
            }
            try await client.execute(uri: "/v1/events", method: .post, headers: bearer(scientistKey), body: ByteBuffer(string: event)) { response throws in
                #expect(response.status == .forbidden)
                #expect(try json(response)["error"]?["code"] == "role_required")
            }
            try await client.execute(uri: "/v1/events", method: .post, headers: bearer(ingestKey), body: ByteBuffer(string: event)) {
                #expect($0.status == .accepted)
            }
            try await client.execute(uri: "/v1/events", method: .post, headers: bearer(adminKey), body: ByteBuffer(string: event)) {
                #expect($0.status == .accepted, "admin may do everything")
            }
            try await client.execute(uri: "/v1/audit", method: .get, headers: bearer(scientistKey)) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/v1/keys", method: .get, headers: bearer(ingestKey)) { #expect($0.status == .forbidden) }

            // Training over HTTP, then the gates.
            var reference = ""
            try await client.execute(uri: "/v1/training/runs", method: .post, headers: bearer(scientistKey), body: ByteBuffer(string: #"{"model":"pop"}"#)) {
                response throws in
                #expect(response.status == .created)
                let body = try json(response)
                reference = body["version"]?["reference"]?.stringValue ?? ""
                #expect(body["run"]?["principal"]?.stringValue?.contains("sam") == true)
            }
            #expect(reference == "pop@1")
            try await client.execute(uri: "/v1/models/pop@1/promote", method: .post, headers: bearer(approverKey)) { response throws in
                #expect(response.status == .conflict)
                #expect(try json(response)["error"]?["code"] == "approval_required")
            }
            try await client.execute(
                uri: "/v1/models/pop@1/approve", method: .post, headers: bearer(scientistKey), body: ByteBuffer(string: #"{"reason":"mine"}"#)
            ) { #expect($0.status == .forbidden, "the scientist has no approver role") }
            try await client.execute(
                uri: "/v1/models/pop@1/approve", method: .post, headers: bearer(approverKey), body: ByteBuffer(string: #"{"reason":"ok"}"#)
            ) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/v1/models/pop@1/promote", method: .post, headers: bearer(approverKey)) { response throws in
                #expect(try json(response)["stage"] == "production")
            }
            try await client.execute(uri: "/v1/models/pop@production/artifact", method: .get, headers: bearer(scientistKey)) { response in
                #expect(response.status == .ok)
                #expect(SHA256Hex.of(Array(buffer: response.body)) == (response.headers[.eTag] ?? "").dropFirst(8).dropLast().description)
            }
            try await client.execute(uri: "/v1/training/runs", method: .get, headers: bearer(scientistKey)) { response throws in
                #expect(try json(response)["runs"]?.arrayValue?.count == 1)
            }
            // Retraining on request: a fresh snapshot, a run per model, a version through the gate.
            try await client.execute(uri: "/v1/training/retrain", method: .post, headers: bearer(ingestKey)) { #expect($0.status == .forbidden) }
            try await client.execute(
                uri: "/v1/training/retrain", method: .post, headers: bearer(scientistKey), body: ByteBuffer(string: #"{"reason":"ctr dropped"}"#)
            ) { response throws in
                #expect(response.status == .created)
                let results = try json(response)["results"]?.arrayValue ?? []
                #expect(results.map { $0["version"]?["reference"] } == ["pop@2"])
            }
            try await audit.flush()
            try await client.execute(uri: "/v1/audit?action=ingest", method: .get, headers: bearer(adminKey)) { response throws in
                let outcomes = try json(response)["entries"]?.arrayValue?.compactMap { $0["outcome"]?.stringValue } ?? []
                #expect(outcomes == ["denied", "denied", "denied", "ok", "ok"])
            }
            try await client.execute(uri: "/v1/audit/verify", method: .get, headers: bearer(adminKey)) { response throws in
                #expect(try json(response)["intact"] == true)
            }
        }
        let actions = Set(try await audit.list().map(\.action))
        for action in ["ingest", "training.start", "training.finish", "model.register", "model.approve", "model.promote", "model.download"] {
            #expect(actions.contains(action), "\(action) is audited")
        }
        #expect(try await audit.list(action: "model.approve").map(\.outcome).contains("denied"))
        await store.close()
        await lake.close()
    }
}
