import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import StrataCore
import StrataLake
import StrataServer
import StrataTesting
import Testing

@Suite struct RouterTests {
    func withServer(_ body: @Sendable (any TestClientProtocol, Lake) async throws -> Void) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var config = Fixtures.config
        config.ingest.maxBodyBytes = 64 * 1024
        let lake = try Fixtures.lake(directory, config: config)
        let server = StrataHTTPServer(lake: lake, config: config, logger: quietLogger)
        server.readiness.set(true)
        let app = Application(router: server.router())
        do {
            try await app.test(.router) { client in try await body(client, lake) }
        } catch {
            await lake.close()
            throw error
        }
        await lake.close()
    }

    func errorCode(_ response: TestResponse) throws -> String? {
        try json(response)["error"]?["code"]?.stringValue
    }

    func json(_ response: TestResponse) throws -> JSONValue {
        try JSONValue.parse(String(buffer: response.body))
    }

    @Test func evaluationBoardServesTheLatestReport() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let lake = try Fixtures.lake(directory)
        let server = StrataHTTPServer(lake: lake, config: Fixtures.config, logger: quietLogger)
        let app = Application(router: server.router())
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/evaluation", method: .get) { response throws in
                #expect(response.status == .notFound)
                #expect(try errorCode(response) == "no_evaluation")
            }
            server.evaluations.publish(["models": [["model": "als", "ndcg@10": 0.1]]])
            try await client.execute(uri: "/v1/evaluation", method: .get) { response throws in
                #expect(try json(response)["models"]?.arrayValue?.first?["model"] == "als")
            }
        }
        await lake.close()
    }

    @Test func healthAndReadiness() async throws {
        try await withServer { client, _ in
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .ok) }
        }
    }

    @Test func ingestsBatchesInEveryFormatWithPerEventAnswers() async throws {
        try await withServer { client, lake in
            let events = Fixtures.events(30, seed: 31)
            var lines = events.map(\.json.serialized)
            lines[4] = #"{"type":"view"}"#
            try await client.execute(
                uri: "/v1/events", method: .post, headers: [.contentType: "application/x-ndjson"], body: ByteBuffer(string: lines.joined(separator: "\n"))
            ) { response throws in
                #expect(response.status == .ok)
                let body = try json(response)
                #expect(body["accepted"] == 29)
                #expect(body["rejected"]?.arrayValue?.first?["index"] == 4)
                #expect(body["rejected"]?.arrayValue?.first?["code"] == "missing_field")
            }
            let array = "[" + Fixtures.events(5, seed: 32).map(\.json.serialized).joined(separator: ",") + "]"
            try await client.execute(
                uri: "/v1/events", method: .post, headers: [.contentType: "application/json; charset=utf-8"], body: ByteBuffer(string: array)
            ) { response throws in
                #expect(try json(response)["accepted"] == 5)
            }
            let single = Fixtures.events(1, seed: 33)[0].json.serialized
            try await client.execute(uri: "/v1/events", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: single)) {
                response throws in
                #expect(response.status == .accepted)
            }
            try await client.execute(
                uri: "/v1/events", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: #"{"type":"nope"}"#)
            ) { response throws in
                #expect(response.status == .badRequest)
                #expect(try errorCode(response) == "unknown_event_type")
            }
            #expect(lake.log.endOffset == 35)
            try await client.execute(uri: "/v1/lake/dead-letters", method: .get) { response throws in
                let body = try json(response)
                #expect(body["total"] == 2)
                #expect(body["dead_letters"]?.arrayValue?.first?["code"] == "missing_field")
            }
        }
    }

    @Test func badRequestsGetJSONErrorsNotCrashes() async throws {
        try await withServer { client, lake in
            try await client.execute(uri: "/v1/events", method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(string: "hi")) {
                response throws in
                #expect(response.status == .unsupportedMediaType)
                #expect(try errorCode(response) == "unsupported_media_type")
            }
            try await client.execute(uri: "/v1/events", method: .post, body: ByteBuffer(string: "{}")) { response throws in
                #expect(response.status == .unsupportedMediaType)
            }
            let big = String(repeating: "x", count: 70 * 1024)
            try await client.execute(uri: "/v1/events", method: .post, headers: [.contentType: "application/x-ndjson"], body: ByteBuffer(string: big)) {
                response throws in
                #expect(response.status == .contentTooLarge)
                #expect(try errorCode(response) == "body_too_large")
            }
            try await client.execute(uri: "/v1/events", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: "[{\"type\": ")) {
                response throws in
                #expect(response.status == .badRequest)
                #expect(try errorCode(response) == "malformed_json")
            }
            try await client.execute(uri: "/v1/events", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer()) { response throws in
                #expect(response.status == .badRequest)
            }
            try await client.execute(
                uri: "/v1/events", method: .post, headers: [.contentType: "application/x-protobuf"], body: ByteBuffer(bytes: [0x0A, 0xFF])
            ) { response throws in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/v1/nothing", method: .get) { response throws in
                #expect(response.status == .notFound)
                #expect(try errorCode(response) == "route_not_found")
            }
            try await client.execute(uri: "/v1/lake/dead-letters?limit=abc", method: .get) { response throws in
                #expect(response.status == .badRequest)
            }
            #expect(lake.log.endOffset == 0)
        }
    }

    @Test func catalogRoutes() async throws {
        try await withServer { client, _ in
            try await client.execute(uri: "/v1/items/i1", method: .put, body: ByteBuffer(string: #"{"category":"shoes","price":30,"in_stock":true}"#)) {
                response throws in
                #expect(response.status == .ok)
                #expect(try json(response)["properties"]?["category"] == "shoes")
            }
            try await client.execute(uri: "/v1/items/i1", method: .get) { response throws in
                #expect(try json(response)["properties"]?["price"] == 30.0)
            }
            try await client.execute(uri: "/v1/items/i2", method: .put, body: ByteBuffer(string: #"{"price":-1}"#)) { response throws in
                #expect(response.status == .badRequest)
                #expect(try errorCode(response) == "below_minimum")
            }
            try await client.execute(uri: "/v1/users", method: .post, body: ByteBuffer(string: #"[{"id":"u1","segment":"vip"},{"id":"u2","segment":"king"}]"#))
            { response throws in
                let body = try json(response)
                #expect(body["accepted"] == 1)
                #expect(body["rejected"]?.arrayValue?.first?["index"] == 1)
            }
            try await client.execute(uri: "/v1/users/u1", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/items/i1", method: .delete) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/items/i1", method: .get) { response throws in
                #expect(response.status == .notFound)
                #expect(try errorCode(response) == "item_not_found")
            }
        }
    }

    @Test func lakeAndContractRoutes() async throws {
        try await withServer { client, _ in
            let body = Fixtures.events(200, seed: 34).map(\.json.serialized).joined(separator: "\n")
            try await client.execute(uri: "/v1/events", method: .post, headers: [.contentType: "application/x-ndjson"], body: ByteBuffer(string: body)) { _ in }
            var version = ""
            try await client.execute(uri: "/v1/lake/snapshots", method: .post) { response throws in
                #expect(response.status == .created)
                let snapshot = try json(response)
                #expect(snapshot["rows"] == 200)
                version = snapshot["version"]?.stringValue ?? ""
            }
            try await client.execute(uri: "/v1/lake/snapshots/\(version)", method: .get) { response throws in
                #expect(try json(response)["rows"] == 200)
            }
            try await client.execute(uri: "/v1/lake", method: .get) { response throws in
                let status = try json(response)
                #expect(status["lake"]?["rows"] == 200)
                #expect(status["latest_snapshot"]?["version"]?.stringValue == version)
            }
            try await client.execute(uri: "/v1/contract/export?format=avro", method: .get) { response throws in
                #expect(try JSONValue.parse(String(buffer: response.body)).arrayValue != nil)
            }
            try await client.execute(uri: "/v1/contract/export?format=xml", method: .get) { #expect($0.status == .badRequest) }
            try await client.execute(uri: "/", method: .get) { response throws in
                #expect(String(buffer: response.body).contains("<title>Strata</title>"))
            }
        }
    }
}
