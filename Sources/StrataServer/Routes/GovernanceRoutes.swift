import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import StrataCore
import StrataRegistry
import StrataTraining

/// The registry side of the server: API keys, the audit log, the model registry, the trainer with
/// its blob store, and the models, searches and re-ranker of strata.yaml it may train.
public struct RegistryServices: Sendable {
    public let keys: APIKeys
    public let audit: AuditLog
    public let registry: ModelRegistry
    public let trainer: Trainer
    public let blobs: any BlobStore
    public let models: [ModelSpec]
    public let searches: [String: SearchSpec]
    public let reranker: RerankerConfig?

    public init(
        keys: APIKeys, audit: AuditLog, registry: ModelRegistry, trainer: Trainer, blobs: any BlobStore, models: [ModelSpec],
        searches: [String: SearchSpec] = [:], reranker: RerankerConfig? = nil
    ) {
        self.reranker = reranker
        self.keys = keys
        self.audit = audit
        self.registry = registry
        self.trainer = trainer
        self.blobs = blobs
        self.models = models
        self.searches = searches
    }
}

/// Training runs, the registry, the audit log and keys over HTTP.
struct GovernanceRoutes {
    let governance: RegistryServices
    /// nil when auth is off.
    let keys: APIKeys?
    /// Told when a model's production version changed here (the serving layer swaps at once).
    var productionChanged: @Sendable () async -> Void = {}

    func register(on router: RouteRegistrar) {
        let g = governance
        router.post("/v1/training/runs") { request, _ -> Response in
            let body = try await request.jsonBody(limit: 1 << 16)
            let principal = request.principal(keys)
            let outcome: TrainingOutcome
            if let run = body["resume"]?.stringValue {
                outcome = try await g.trainer.resume(runID: run, principal: principal)
            } else if let name = body["search"]?.stringValue {
                guard let search = g.searches[name], let base = g.models.first(where: { $0.name == name }) else {
                    throw StrataError.notFound("no_search", "strata.yaml has no search for '\(name)'")
                }
                let result = try await g.trainer.search(search, base: base, snapshot: body["snapshot"]?.stringValue ?? "latest", principal: principal)
                return JSONResponse.make(result.json, status: .created)
            } else if body["reranker"]?.boolValue == true {
                guard let reranker = g.reranker else {
                    throw StrataError.invalid("no_reranker", "strata.yaml has no reranker section", field: "reranker")
                }
                outcome = try await g.trainer.trainReranker(reranker, snapshot: body["snapshot"]?.stringValue ?? "latest", principal: principal)
            } else if let reference = body["reproduce"]?.stringValue {
                let result = try await g.trainer.reproduce(reference, principal: principal)
                return JSONResponse.make(["run": result.outcome.run.json, "reproduces": result.original.json, "identical": .bool(result.identical)])
            } else {
                guard let name = body["model"]?.stringValue, let spec = g.models.first(where: { $0.name == name }) else {
                    throw StrataError.invalid(
                        "unknown_model", "send {\"model\": one of \(g.models.map(\.name).joined(separator: ", ")), \"snapshot\": \"latest\"}", field: "model")
                }
                outcome = try await g.trainer.train(
                    TrainingRequest(
                        spec: spec, snapshot: body["snapshot"]?.stringValue ?? "latest", experiment: body["experiment"]?.stringValue, principal: principal))
            }
            return JSONResponse.make(["run": outcome.run.json, "version": outcome.version?.json ?? .null], status: .created)
        }
        router.get("/v1/training/runs") { request, _ -> Response in
            let limit = try request.queryInt("limit", default: 100, range: 1...1000)
            let runs = try await g.trainer.runs.list(model: request.uri.queryParameters["model"].map(String.init), limit: limit)
            return JSONResponse.make(["runs": .array(runs.map(\.json))])
        }
        router.get("/v1/training/runs/:id") { _, context -> Response in
            let run = try await g.trainer.runs.get(try context.parameters.require("id"))
            var object = run.json.objectValue!
            object["iterations"] = .array(
                try await g.trainer.runs.iterationMetrics(run.id).map { ["step": .int(Int64($0.step)), "name": .string($0.name), "value": .double($0.value)] })
            return JSONResponse.make(.object(object))
        }
        router.get("/v1/models") { request, _ -> Response in
            let versions = try await g.registry.versions(model: request.uri.queryParameters["model"].map(String.init))
            return JSONResponse.make(["versions": .array(versions.map(\.json))])
        }
        router.get("/v1/models/:ref") { _, context -> Response in
            let version = try await g.registry.resolve(try context.parameters.require("ref"))
            var object = version.json.objectValue!
            object["approvals"] = .array(try await g.registry.approvals(version).map(\.json))
            object["run"] = try await g.trainer.runs.get(version.runID).json
            return JSONResponse.make(.object(object))
        }
        router.get("/v1/models/:ref/artifact") { _, context -> Response in
            let version = try await g.registry.resolve(try context.parameters.require("ref"))
            let bytes = try await g.blobs.get(version.artifactHash)
            var headers = HTTPFields()
            headers[.contentType] = "application/octet-stream"
            headers[.eTag] = "\"sha256:\(version.artifactHash)\""
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        router.post("/v1/models/:ref/approve") { request, context -> Response in
            let body = try await request.jsonBody(limit: 1 << 16)
            let version = try await g.registry.approve(
                try context.parameters.require("ref"), reason: body["reason"]?.stringValue ?? "", by: request.principal(keys))
            return JSONResponse.make(version.json)
        }
        let productionChanged = self.productionChanged
        router.post("/v1/models/:ref/promote") { request, context -> Response in
            let promoted = try await g.registry.promote(try context.parameters.require("ref"), by: request.principal(keys))
            await productionChanged()
            return JSONResponse.make(promoted.json)
        }
        router.post("/v1/models/:ref/rollback") { request, context -> Response in
            let restored = try await g.registry.rollback(model: try context.parameters.require("ref"), by: request.principal(keys))
            await productionChanged()
            return JSONResponse.make(restored.json)
        }
        router.get("/v1/audit") { request, _ -> Response in
            func time(_ name: String) throws -> Int64? {
                guard let text = request.uri.queryParameters[Substring(name)] else { return nil }
                guard let millis = EventTime.parse(String(text)) else {
                    throw StrataError.invalid("invalid_time", "\(name) takes an RFC 3339 time", field: name)
                }
                return millis
            }
            let order = request.uri.queryParameters["order"] ?? "oldest"
            guard order == "oldest" || order == "newest" else { throw StrataError.invalid("invalid_order", "order is oldest or newest", field: "order") }
            let entries = try await g.audit.list(
                principal: request.uri.queryParameters["principal"].map(String.init), action: request.uri.queryParameters["action"].map(String.init),
                from: try time("since"), to: try time("until"), limit: try request.queryInt("limit", default: 1000, range: 1...100_000),
                newestFirst: order == "newest")
            return JSONResponse.make(["entries": .array(entries.map(\.json))])
        }
        router.get("/v1/audit/verify") { _, _ -> Response in
            let result = try await g.audit.verify()
            return JSONResponse.make([
                "intact": .bool(result.isIntact), "entries": .int(Int64(result.entries)),
                "problem": result.problem.map { ["seq": .int($0.seq), "message": .string($0.message)] } ?? .null,
            ])
        }
        router.get("/v1/keys") { _, _ -> Response in
            JSONResponse.make(["keys": .array(try await g.keys.list().map(\.json))])
        }
        router.post("/v1/keys") { request, _ -> Response in
            let body = try await request.jsonBody(limit: 1 << 16)
            let roles = Set((body["roles"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(Role.init(rawValue:)) })
            guard let name = body["name"]?.stringValue, !roles.isEmpty else {
                throw StrataError.invalid(
                    "invalid_request", "send {\"name\": \"...\", \"roles\": [\(Role.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))]}")
            }
            let principal = request.principal(keys)
            let (key, record) = try await g.keys.create(name: name, roles: roles, by: principal.label)
            try await g.audit.append(principal: principal.label, action: "key.create", target: "key:\(record.id)")
            var object = record.json.objectValue!
            object["key"] = .string(key)
            return JSONResponse.make(.object(object), status: .created)
        }
        router.delete("/v1/keys/:id") { request, context -> Response in
            let id = try context.parameters.require("id")
            guard try await g.keys.revoke(id: id) else { throw StrataError.notFound("key_not_found", "no active key \(id)") }
            try await g.audit.append(principal: request.principal(keys).label, action: "key.revoke", target: "key:\(id)")
            return JSONResponse.make(["revoked": .string(id)])
        }
    }
}

/// Writes queued audit entries every half second, and once more at shutdown; reloads keys
/// every few seconds so revocations made elsewhere take effect.
struct GovernanceMaintenance: Service {
    let governance: RegistryServices
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var ticks = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                do {
                    // A task of its own: a shutdown beginning must not cut a write short (the
                    // entries would only be queued again, but the error would alarm).
                    let audit = governance.audit
                    try await Task.detached { try await audit.flush() }.value
                } catch {
                    logger.error("could not write the audit log", metadata: ["error": "\(error)"])
                }
                ticks += 1
                guard ticks % 10 == 0 else { continue }
                do {
                    try await governance.keys.reload()
                } catch  where !Task.isCancelled {
                    logger.error("could not reload the API keys", metadata: ["error": "\(error)"])
                } catch {
                    // A reload cut short by the shutdown beginning: the keys in memory serve to the end.
                }
            }
        }
        // Not cancellable: the entries queued until the end are written whatever stops the server.
        let audit = governance.audit
        do {
            try await Task.detached { try await audit.flush() }.value
        } catch {
            logger.error("could not write the audit log at shutdown", metadata: ["error": "\(error)"])
        }
    }
}
