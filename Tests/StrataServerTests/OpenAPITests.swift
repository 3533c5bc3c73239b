import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import StrataCore
import StrataFeatures
import StrataLake
import StrataMetadata
import StrataRegistry
import StrataServing
import StrataTesting
import StrataTraining
import Testing

@testable import StrataServer

/// The OpenAPI document and the server agree: the same routes, each with the role the server
/// enforces; and, enumerated from the document, every protected operation refuses a request
/// without a key (401) and with a key of another role (403), each refusal audited.
@Suite struct OpenAPITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct Operation: Hashable {
        var method: String
        var path: String
        var role: String?
    }

    /// What `/openapi.json` answers.
    static func document() throws -> JSONValue { try JSONValue.parse(OpenAPIDocument.served) }

    static func operations(_ document: JSONValue) -> [Operation] {
        var operations: [Operation] = []
        for (path, item) in document["paths"]?.objectValue ?? [:] {
            for (method, operation) in item.objectValue ?? [:] where ["get", "post", "put", "delete", "patch"].contains(method) {
                operations.append(Operation(method: method.uppercased(), path: path, role: operation["x-strata-role"]?.stringValue))
            }
        }
        return operations.sorted { ($0.path, $0.method) < ($1.path, $1.method) }
    }

    /// `/v1/models/{ref}/approve` with a value for each parameter.
    static func concrete(_ path: String) -> String { path.replacing(/\{([a-z_]+)\}/) { "\($0.1)-1" } }

    /// A server with every layer, so that every route is registered.
    static func server(_ directory: TemporaryDirectory) async throws -> (StrataHTTPServer, APIKeys, AuditLog, MetadataStore) {
        let config = Fixtures.config
        let lake = try Fixtures.lake(directory, config: config)
        let store = try await MetadataStore.open(url: "sqlite:", defaultSQLitePath: directory.file("metadata.sqlite"), logger: quietLogger)
        let audit = AuditLog(store: store)
        let keys = try await APIKeys(store: store)
        let registry = ModelRegistry(store: store, audit: audit)
        let runs = RunStore(store: store)
        let blobs = FileBlobStore(root: directory.file("blobs"))
        let trainer = Trainer(
            runs: runs, blobs: blobs, registry: registry, audit: audit, directory: lake.directory, config: config, codeVersion: "git:test", threads: 1)
        let features = try FeatureStore(lake: lake, definitions: config.contract.features, logger: quietLogger)
        let activity = try ServingActivity(lake: lake, settings: ServingSettings(config), logger: quietLogger)
        let cache = MemoryRecommendationCache()
        let sources = ServingSources(lake: lake)
        let controller = DeploymentController(
            store: DeploymentStore(records: DeploymentRecords(store: store)),
            service: RecommendationService(
                sources: sources, features: features, activity: activity, cache: cache, metrics: ServingMetrics()), registry: registry,
            loader: ModelLoader(registry: registry, runs: runs, blobs: blobs),
            precomputer: Precomputer(sources: sources, activity: activity, cache: cache, topN: 50, threads: 1),
            audit: audit, logger: quietLogger)
        let server = StrataHTTPServer(
            lake: lake, config: config, features: features,
            governance: RegistryServices(keys: keys, audit: audit, registry: registry, trainer: trainer, blobs: blobs, models: config.training.models),
            serving: controller, logger: quietLogger)
        return (server, keys, audit, store)
    }

    @Test func theServedDocumentIsTheShippedFileAndValid() throws {
        let file = try String(contentsOf: Self.root.appendingPathComponent("docs/openapi.json"), encoding: .utf8)
        #expect(file == OpenAPIDocument.file, "the embedded resource is docs/openapi.json (rebuild)")
        // Nothing laid over it from routes.json changes it: the file describes every declared
        // operation with the role the server enforces.
        #expect(try JSONValue.parse(file) == Self.document(), "run scripts/openapi.py")
        let document = try Self.document()
        #expect(document["openapi"]?.stringValue?.hasPrefix("3.") == true)
        #expect(document["components"]?["schemas"]?["Error"] != nil)
    }

    @Test func routesAndRolesMatchTheDocument() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (server, _, _, store) = try await Self.server(directory)
        defer { Task { await store.close() } }
        let documented = Self.operations(try Self.document())
        let served = Set(server.router().routes.map { "\($0.method) \($0.path)" })
        let inDocument = Set(documented.map { "\($0.method) \($0.path)" })
        #expect(served.subtracting(inDocument).isEmpty, "routes missing from docs/openapi.json: \(served.subtracting(inDocument).sorted())")
        #expect(inDocument.subtracting(served).isEmpty, "documented routes the server lacks: \(inDocument.subtracting(served).sorted())")
        for operation in documented {
            let rule = RouteTable.match(HTTPRequest.Method(rawValue: operation.method)!, Self.concrete(operation.path))
            let enforced = rule == nil ? "admin" : rule!.role?.rawValue
            #expect(
                enforced == operation.role,
                "\(operation.method) \(operation.path): the server enforces \(enforced ?? "public"), the document says \(operation.role ?? "public")")
        }
    }

    /// A route is declared in one place, routes.json: the policy, forwarding, the router's check
    /// and the served document all follow from its entry.
    @Test func aRouteDeclaredOnceAppearsInThePolicyTheRouterAndTheDocument() throws {
        var rows = try JSONValue.parse(String(decoding: PackageResources.routes_json, as: UTF8.self)).arrayValue ?? []
        rows.append([
            "method": "GET", "path": "/v1/examples/{id}", "role": "scientist", "action": "examples.read", "audits_access": false, "forwarded": true,
            "operation_id": "getExample", "summary": "One example",
        ])
        let table = RouteIndex(try RouteTable.parse(JSONValue.array(rows).serializedBytes))

        let operation = table.match(.get, "/v1/examples/e1")
        #expect(operation?.role == .scientist && operation?.action == "examples.read")
        #expect(operation?.auditsAccess == false && operation?.forwarded == true)
        #expect(table.match(.get, "/v1/examples/e1/more") == nil && table.match(.post, "/v1/examples/e1") == nil)

        let router = Router(context: BasicRequestContext.self)
        RouteRegistrar(router: router, table: table).get("/v1/examples/:id") { _, _ in "ok" }
        #expect(router.routes.map { "\($0.method) \($0.path)" } == ["GET /v1/examples/{id}"])

        let document = OpenAPIDocument.merged(try JSONValue.parse(OpenAPIDocument.file), operations: table.operations)
        let described = document["paths"]?["/v1/examples/{id}"]?["get"]
        #expect(described?["x-strata-role"] == "scientist")
        #expect(described?["operationId"] == "getExample" && described?["summary"] == "One example")
        #expect(described?["parameters"]?.arrayValue?.first?["name"] == "id")
        for code in ["200", "401", "403", "429", "503"] { #expect(described?["responses"]?[code] != nil, "response \(code)") }
        // The shipped operations are untouched.
        #expect(document["paths"]?["/v1/events"] == (try JSONValue.parse(OpenAPIDocument.file))["paths"]?["/v1/events"])
    }

    @Test func everyProtectedOperationRefusesMissingAndWrongKeys() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (server, keys, audit, store) = try await Self.server(directory)
        var created: [Role: String] = [:]
        for role in [Role.ingest, .serve, .scientist, .approver] { created[role] = try await keys.create(name: role.rawValue, roles: [role], by: "test").0 }
        let keyByRole = created
        let protected = Self.operations(try Self.document()).filter { $0.role != nil }
        #expect(protected.count > 40)
        try await Application(router: server.router()).test(.router) { client in
            for operation in protected {
                let method = HTTPRequest.Method(rawValue: operation.method)!
                let uri = Self.concrete(operation.path)
                try await client.execute(uri: uri, method: method, headers: [.contentType: "application/json"], body: ByteBuffer(string: "{}")) {
                    #expect($0.status == .unauthorized, "\(operation.method) \(operation.path) without a key: \($0.status)")
                }
                // A key with one other role (admin routes: any of them).
                let other = [Role.serve, .scientist, .ingest, .approver].first { $0.rawValue != operation.role }!
                try await client.execute(
                    uri: uri, method: method, headers: [.authorization: "Bearer \(keyByRole[other]!)", .contentType: "application/json"],
                    body: ByteBuffer(string: "{}")
                ) { response throws in
                    #expect(response.status == .forbidden, "\(operation.method) \(operation.path) with a \(other) key: \(response.status)")
                    #expect(try JSONValue.parse(String(buffer: response.body))["error"]?["code"] == "role_required")
                }
            }
            try await client.execute(uri: "/openapi.json", method: .get) { response throws in
                #expect(response.status == .ok)
                #expect(try JSONValue.parse(String(buffer: response.body)) == (try Self.document()))
            }
        }
        let denied = try await audit.list(limit: 10_000).filter { $0.outcome == "denied" }
        #expect(denied.count == protected.count * 2, "every refusal is audited")
        await store.close()
    }
}
