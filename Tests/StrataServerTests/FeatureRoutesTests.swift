import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import StrataCore
import StrataFeatures
import StrataLake
import StrataServer
import StrataTesting
import Testing

/// The feature routes over HTTP: reads of one entity and many, chosen features, defaults for
/// unknown entities, freshness, and clear errors.
@Suite struct FeatureRoutesTests {
    func json(_ response: TestResponse) throws -> JSONValue {
        try JSONValue.parse(String(buffer: response.body))
    }

    @Test func readsOneOrManyEntitiesWithDefaultsAndClearErrors() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualClock(1_800_000_000_000)
        let lake = try Fixtures.lake(directory, clock: clock)
        let store = try FeatureStore(lake: lake, definitions: Fixtures.config.contract.features, logger: quietLogger)
        let server = StrataHTTPServer(lake: lake, config: Fixtures.config, features: store, logger: quietLogger)
        let app = Application(router: server.router())
        let now = clock.nowMillis()
        let events = [
            #"{"type":"view","user_id":"u1","item_id":"i1","timestamp":\#(now - 60_000)}"#,
            #"{"type":"view","user_id":"u1","item_id":"i2","timestamp":\#(now - 50_000)}"#,
            #"{"type":"view","user_id":"u2","item_id":"i1","timestamp":\#(now - 40_000)}"#,
            #"{"type":"purchase","user_id":"u1","item_id":"i1","order_id":"o1","price":20.5,"category":"shoes","timestamp":\#(now - 30_000)}"#,
        ]
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/v1/events", method: .post, headers: [.contentType: "application/x-ndjson"], body: ByteBuffer(string: events.joined(separator: "\n"))
            ) {
                #expect($0.status == .ok)
            }
            try store.catchUp()

            try await client.execute(uri: "/v1/features/user/u1", method: .get) { response throws in
                #expect(response.status == .ok)
                let body = try json(response)
                #expect(body["found"] == true)
                #expect(body["values"]?["user_views_1h"] == 2)
                #expect(body["values"]?["user_spend_30d"] == 20.5)
                #expect(body["values"]?["user_recent_items"] == ["i1", "i2"], "newest first, each item once")
                #expect(body["values"]?["user_categories_30d"] == 1)
                #expect(body["defaults"]?.arrayValue?.contains("user_clicks_24h") == true)
            }
            try await client.execute(uri: "/v1/features/item/i1?features=item_views_24h,item_last_viewer", method: .get) { response throws in
                let values = try json(response)["values"]?.objectValue ?? [:]
                #expect(values.keys.sorted() == ["item_last_viewer", "item_views_24h"])
                #expect(values["item_views_24h"] == 2)
                #expect(values["item_last_viewer"] == "u2")
            }
            // Unknown entities answer defaults with a flag, not an error.
            try await client.execute(uri: "/v1/features/user/nobody", method: .get) { response throws in
                #expect(response.status == .ok)
                let body = try json(response)
                #expect(body["found"] == false)
                #expect(body["values"]?["user_spend_30d"] == 0.0)
                #expect(body["values"]?["user_views_1h"] == 0, "a count defaults to 0")
            }
            try await client.execute(
                uri: "/v1/features/batch", method: .post,
                body: ByteBuffer(string: #"{"entity":"user","ids":["u1","u2","nobody"],"features":["user_views_1h"]}"#)
            ) { response throws in
                let results = try json(response)["results"]?.arrayValue ?? []
                #expect(results.map { $0["id"] } == ["u1", "u2", "nobody"])
                #expect(results.map { $0["values"]?["user_views_1h"] } == [2, 1, 0])
                #expect(results.map { $0["found"] } == [true, true, false])
            }
            try await client.execute(uri: "/v1/features", method: .get) { response throws in
                let body = try json(response)
                #expect(body["definitions"]?.arrayValue?.count == Fixtures.config.contract.features.count)
                #expect(body["applied_through"] == 4)
                let views = body["freshness"]?.arrayValue?.first { $0["feature"] == "user_views_1h" }
                #expect(views?["within_sla"] == true)
                #expect(views?["freshness_sla_seconds"] == 300.0)
            }

            // The live skew sample: the store's values now against a batch recomputation.
            try await client.execute(uri: "/v1/features/check-skew?mode=live&samples=10", method: .post) { response throws in
                let body = try json(response)
                #expect(body["mismatches"] == 0)
                #expect(body["entities"] == 4, "u1, u2, i1, i2")
                #expect(body["compared_values"]?.intValue ?? 0 >= 4 * 6)
            }
            try await client.execute(uri: "/v1/features", method: .get) { response throws in
                #expect(try json(response)["skew"]?["samples"] == 1)
            }

            for (uri, status, code) in [
                ("/v1/features/shop/1", HTTPResponse.Status.badRequest, "unknown_entity"),
                ("/v1/features/user/u1?features=nope", .notFound, "unknown_feature"),
                ("/v1/features/user/u1?features=item_views_24h", .badRequest, "wrong_entity"),
            ] {
                try await client.execute(uri: uri, method: .get) { response throws in
                    #expect(response.status == status, "\(uri)")
                    #expect(try json(response)["error"]?["code"]?.stringValue == code, "\(uri)")
                }
            }
            let tooMany = JSONValue.object(["entity": "user", "ids": .array((0..<1001).map { .string("u\($0)") })]).serialized
            for (body, status, code) in [
                (#"{"ids":["u1"]}"#, HTTPResponse.Status.badRequest, "invalid_request"),
                ("not json", .badRequest, "malformed_json"),
                (tooMany, .contentTooLarge, "batch_too_large"),
            ] {
                try await client.execute(uri: "/v1/features/batch", method: .post, body: ByteBuffer(string: body)) { response throws in
                    #expect(response.status == status, "\(body.prefix(40))")
                    #expect(try json(response)["error"]?["code"]?.stringValue == code, "\(body.prefix(40))")
                }
            }
        }
        await lake.close()
    }
}
