import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import StrataCore
import StrataFeatures
import StrataLake
import StrataMetadata
import StrataRegistry
import StrataServer
import StrataServing
import StrataTesting
import StrataTraining
import Testing

/// The serving routes over HTTP: roles, errors, a promotion swapping at once, A/B reports.
@Suite(.serialized) struct ServingRoutesTests {
    func json(_ response: TestResponse) throws -> JSONValue { try JSONValue.parse(String(buffer: response.body)) }

    /// `promtool check metrics` (Debian's prometheus package, installed by the test script)
    /// accepts the exposition; skipped with a message where promtool is missing.
    static func promtoolAccepts(_ text: String) throws {
        guard let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            peerMissing("SKIPPED (promtool): install Debian's prometheus package (scripts/install-deps.sh --with-test-peers) to check /metrics with promtool")
            return
        }
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try text.write(toFile: directory.file("metrics.txt"), atomically: true, encoding: .utf8)
        let (status, output, errors) = try runProcess("/bin/sh", ["-c", "\(promtool) check metrics < \(directory.file("metrics.txt"))"])
        #expect(status == 0, "promtool: \(output) \(errors)")
    }

    @Test func recommendationsDeploymentsAndExperimentsOverHTTP() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var config = Fixtures.config
        config.serving.model = "recs"
        config.serving.precomputeIntervalMillis = 0
        config.registry.gateMargin = -1
        let lake = try Fixtures.lake(directory, config: config)
        _ = try await lake.ingestor.ingest(events: Fixtures.events(4000, seed: 8), source: "test", allowLate: true)
        // Planted neighbours: forty shoppers view these three items together, and nothing else.
        let now = SystemClock().nowMillis()
        let planted = ["planted-a", "planted-b", "planted-c"]
        let coViews = (0..<40).flatMap { shopper in
            planted.map { IncomingEvent(type: "view", userID: "co-viewer-\(shopper)", time: .millis(now - 3_600_000), fields: [("item_id", .string($0))]) }
        }
        _ = try await lake.ingestor.ingest(events: coViews, source: "test", allowLate: true)
        _ = try await lake.maintain(force: true)
        _ = try await lake.compactor.snapshot()
        let store = try await MetadataStore.open(url: "sqlite:", defaultSQLitePath: directory.file("metadata.sqlite"), logger: quietLogger)
        let audit = AuditLog(store: store)
        let keys = try await APIKeys(store: store)
        let registry = ModelRegistry(store: store, audit: audit)
        let runs = RunStore(store: store)
        let blobs = FileBlobStore(root: directory.file("blobs"))
        let trainer = Trainer(
            runs: runs, blobs: blobs, registry: registry, audit: audit, directory: lake.directory, config: config, codeVersion: "git:test", threads: 2)
        let scientist = Principal(id: "sci", name: "sam", roles: [.scientist])
        let approver = Principal(id: "apr", name: "ann", roles: [.approver])
        for seed in [1, 2] {
            let spec = try ModelSpec(name: "recs", algorithm: .als, parameters: ["factors": 8, "iterations": 3, "seed": Double(seed)])
            let version = try await trainer.train(TrainingRequest(spec: spec, principal: scientist)).version!
            _ = try await registry.approve(version.reference, reason: "test", by: approver)
        }
        _ = try await registry.promote("recs@1", by: approver)
        let features = try FeatureStore(lake: lake, definitions: config.contract.features, logger: quietLogger)
        let activity = try ServingActivity(lake: lake, settings: ServingSettings(config), logger: quietLogger)
        let cache = MemoryRecommendationCache()
        let sources = ServingSources(lake: lake)
        let controller = DeploymentController(
            store: DeploymentStore(records: DeploymentRecords(store: store)),
            service: RecommendationService(
                sources: sources, features: features, activity: activity, cache: cache, metrics: ServingMetrics()), registry: registry,
            loader: ModelLoader(registry: registry, runs: runs, blobs: blobs),
            precomputer: Precomputer(sources: sources, activity: activity, cache: cache, topN: 50, threads: 2),
            audit: audit, logger: quietLogger)
        try await controller.start()
        let server = StrataHTTPServer(
            lake: lake, config: config, features: features,
            governance: RegistryServices(keys: keys, audit: audit, registry: registry, trainer: trainer, blobs: blobs, models: config.training.models),
            serving: controller, logger: quietLogger)
        let (serveKey, _) = try await keys.create(name: "shop", roles: [.serve], by: "test")
        let (scientistKey, _) = try await keys.create(name: "sam", roles: [.scientist], by: "test")
        let (approverKey, _) = try await keys.create(name: "ann", roles: [.approver], by: "test")
        @Sendable func bearer(_ key: String) -> HTTPFields { [.authorization: "Bearer \(key)", .contentType: "application/json"] }
        let user = Fixtures.events(4000, seed: 8).compactMap(\.userID).first!

        try await Application(router: server.router()).test(.router) { client in
            try await client.execute(uri: "/v1/recommendations/\(user)", method: .get) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/v1/recommendations/\(user)?n=5&page=home", method: .get, headers: bearer(serveKey)) { response throws in
                #expect(response.status == .ok)
                let body = try json(response)
                #expect(body["items"]?.arrayValue?.count == 5)
                #expect(body["version"] == 1)
                #expect(body["model"] == "recs")
                #expect(body["recommendation_id"]?.stringValue?.hasPrefix("default:A:recs@1:") == true)
                #expect(body["lineage"]?["data_version"]?.stringValue?.count == 64)
                #expect(body["context"]?["page"] == "home")
                #expect(body["next_cursor"]?.stringValue != nil)
            }
            try await client.execute(uri: "/v1/recommendations/\(user)?n=0", method: .get, headers: bearer(serveKey)) { response throws in
                #expect(response.status == .badRequest)
                #expect(try json(response)["error"]?["code"] == "invalid_parameter")
            }
            try await client.execute(uri: "/v1/recommendations/\(user)?cursor=@@", method: .get, headers: bearer(serveKey)) { response throws in
                #expect(response.status == .badRequest)
                #expect(try json(response)["error"]?["code"] == "invalid_cursor")
            }
            // Similar items: the planted item's neighbours are the items viewed with it.
            try await client.execute(uri: "/v1/items/planted-a/similar?n=2", method: .get, headers: bearer(serveKey)) { response throws in
                #expect(response.status == .ok)
                #expect(Set(try json(response)["items"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []) == ["planted-b", "planted-c"])
            }
            // With a user, what they viewed is left out.
            try await client.execute(uri: "/v1/items/planted-a/similar?n=2&user=co-viewer-0", method: .get, headers: bearer(serveKey)) {
                response throws in
                #expect(response.status == .ok)
                let ids = try json(response)["items"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
                #expect(ids.count == 2 && !ids.contains("planted-b") && !ids.contains("planted-c"), "\(ids)")
            }
            try await client.execute(uri: "/v1/items/no-such-item/similar?n=2", method: .get, headers: bearer(serveKey)) { response throws in
                #expect(response.status == .notFound)
                #expect(try json(response)["error"]?["code"] == "item_not_in_model")
            }
            // A promotion through the registry's route is served by the next request.
            try await client.execute(uri: "/v1/models/recs@2/promote", method: .post, headers: bearer(approverKey)) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/recommendations/\(user)", method: .get, headers: bearer(serveKey)) { response throws in
                #expect(try json(response)["version"] == 2)
            }
            try await client.execute(uri: "/v1/deployments/default/rollback", method: .post, headers: bearer(serveKey)) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/v1/deployments/default/rollback", method: .post, headers: bearer(approverKey)) { response throws in
                #expect(response.status == .ok)
                #expect(try json(response)["serving"] == ["A=recs@1"])
            }
            let ab = #"{"variants": [{"name": "A", "model": "recs@production", "weight": 50}, {"name": "B", "model": "recs@2", "weight": 50}]}"#
            try await client.execute(uri: "/v1/deployments/default", method: .put, headers: bearer(scientistKey), body: ByteBuffer(string: ab)) {
                #expect($0.status == .forbidden)
            }
            try await client.execute(uri: "/v1/deployments/default", method: .put, headers: bearer(approverKey), body: ByteBuffer(string: ab)) {
                response throws in
                #expect(response.status == .ok)
                #expect(try json(response)["variants"]?.arrayValue?.count == 2)
            }
            let bad = #"{"variants": [{"name": "A", "model": "recs@99", "weight": 50}]}"#
            try await client.execute(uri: "/v1/deployments/default", method: .put, headers: bearer(approverKey), body: ByteBuffer(string: bad)) {
                #expect($0.status == .notFound)
            }
            try await client.execute(uri: "/v1/experiments/default", method: .get, headers: bearer(scientistKey)) { response throws in
                #expect(response.status == .ok)
                let report = try json(response)
                #expect(report["variants"]?.arrayValue?.map { $0["variant"] } == ["A", "B"])
                #expect(report["verdict"]?.stringValue?.contains("Not enough data") == true)
            }
            try await client.execute(uri: "/v1/monitoring/drift", method: .get, headers: bearer(serveKey)) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/v1/monitoring/drift", method: .get, headers: bearer(scientistKey)) { response throws in
                #expect(response.status == .ok)
                let report = try json(response)["deployments"]?.arrayValue?.first
                #expect(report?["model"] == "recs@1")
                #expect(report?["features"]?.arrayValue?.contains { $0["name"] == "user_views_1h" } == true)
            }
            // Prometheus metrics: public like the health checks, every layer's series present.
            try await client.execute(uri: "/metrics", method: .get) { response throws in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                for series in [
                    #"strata_http_request_duration_seconds_count{route="/v1/recommendations/{user}",method="GET",status="200"}"#,
                    #"strata_serving_model_version_info{deployment="default",variant="B",model="recs"} 2"#,
                    #"strata_recommendations_total{deployment="default",variant="A",source="live"}"#, "strata_consumer_lag_events{consumer=\"serving\"}",
                    "strata_feature_freshness_lag_seconds{feature=", "strata_ingest_events_accepted_total{type=\"view\"}",
                    "strata_process_resident_memory_bytes", #"strata_training_runs_total{model="recs",outcome="finished"} 2"#,
                    #"strata_training_run_last_duration_seconds{model="recs",outcome="finished"}"#,
                ] {
                    #expect(text.contains(series), "missing \(series)")
                }
                try Self.promtoolAccepts(text)
            }
            try await client.execute(uri: "/v1/deployments/default", method: .get, headers: bearer(scientistKey)) { response throws in
                let status = try json(response)
                #expect(status["variants"]?.arrayValue?.first?["stats"]?["requests"]?.intValue ?? 0 >= 2)
                #expect(status["history"]?.arrayValue?.isEmpty == false)
            }
        }
        // Granted recommendation requests are not audited one by one; refusals are.
        let entries = try await audit.list(action: "recommend")
        #expect(entries.allSatisfy { $0.outcome == "denied" })
        #expect(entries.count == 1)
        await lake.close()
        await store.close()
    }
}
