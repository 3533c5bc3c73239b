import Hummingbird
import StrataCore
import StrataRegistry
import StrataServing

/// Recommendations, similar items, deployments (variants, canaries, rollback, the cache) and
/// A/B reports over HTTP.
struct ServingRoutes {
    let controller: DeploymentController
    /// nil when auth is off.
    let keys: APIKeys?

    func register(on router: RouteRegistrar) {
        let controller = self.controller
        let service = controller.service
        let keys = self.keys
        router.get("/v1/recommendations/:user") { request, context -> Response in
            let recommendation = try await service.recommend(try Self.recommendationRequest(request, user: try context.parameters.require("user")))
            return JSONResponse.make(serialized: recommendation.serialized)
        }
        router.get("/v1/items/:id/similar") { request, context -> Response in
            let parameters = request.uri.queryParameters
            let answer = try service.similar(
                to: try context.parameters.require("id"), n: try request.queryInt("n", default: 10, range: 1...1000), filter: try Self.filter(request),
                deployment: parameters["deployment"].map(String.init), user: parameters["user"].map(String.init).flatMap { $0.isEmpty ? nil : $0 })
            return JSONResponse.make(answer.json)
        }
        router.get("/v1/deployments") { _, _ -> Response in
            JSONResponse.make(["deployments": try await controller.list()])
        }
        router.get("/v1/deployments/:name") { _, context -> Response in
            JSONResponse.make(try await controller.status(try context.parameters.require("name")))
        }
        router.put("/v1/deployments/:name") { request, context -> Response in
            let name = try context.parameters.require("name")
            let body = try await request.jsonBody(limit: 1 << 16)
            guard let variants = body["variants"]?.arrayValue, !variants.isEmpty else {
                throw StrataError.invalid(
                    "invalid_deployment",
                    "send {\"variants\": [{\"name\": \"A\", \"model\": \"als-main@production\", \"weight\": 50}, {\"name\": \"B\", \"model\": \"als-main@4\", \"weight\": 50}]}",
                    field: "variants")
            }
            let specs = try variants.map { try Self.variant($0) }
            let shadow = try body["shadow"].flatMap { $0 == .null ? nil : try Self.variant($0, defaultName: "shadow") }
            let saved = try await controller.update(
                name, variants: specs, shadow: shadow, salt: body["salt"]?.stringValue, principal: request.principal(keys))
            return JSONResponse.make(saved.json)
        }
        router.post("/v1/deployments/:name/rollback") { request, context -> Response in
            let outcome = try await controller.rollback(try context.parameters.require("name"), principal: request.principal(keys))
            return JSONResponse.make(outcome.json)
        }
        router.post("/v1/deployments/:name/canary") { request, context -> Response in
            let body = try await request.jsonBody(limit: 1 << 16)
            guard let reference = body["model"]?.stringValue else {
                throw StrataError.invalid(
                    "invalid_canary", "send {\"model\": \"als-main@4\", \"steps\": [5, 25, 50, 100], \"interval\": \"10m\"}", field: "model")
            }
            let steps = body["steps"]?.arrayValue?.compactMap(\.doubleValue) ?? [5, 25, 50, 100]
            guard let interval = DurationText.parseMillis(body["interval"]?.stringValue ?? "10m") else {
                throw StrataError.invalid("invalid_interval", "interval is a duration such as 30s, 10m or 1h", field: "interval")
            }
            let deployment = try await controller.startCanary(
                try context.parameters.require("name"), reference: reference, steps: steps, intervalMillis: interval, principal: request.principal(keys))
            return JSONResponse.make(deployment.json, status: .accepted)
        }
        router.post("/v1/deployments/:name/precompute") { _, context -> Response in
            let written = try await controller.precompute(try context.parameters.require("name"))
            return JSONResponse.make(["users_by_model": .object(written.mapValues { .int(Int64($0)) })])
        }
        router.get("/v1/experiments/:name") { _, context -> Response in
            JSONResponse.make(try await controller.experiment(try context.parameters.require("name")).json)
        }
    }

    static let reserved: Set<String> = [
        "n", "exclude", "cursor", "deployment", "category", "in_stock", "min_price", "max_price", "exclude_impressed",
    ]

    static func recommendationRequest(_ request: Request, user: String) throws -> RecommendationRequest {
        // Parsed once (each access to `queryParameters` parses the query again).
        let parameters = request.uri.queryParameters
        guard !parameters.isEmpty else { return RecommendationRequest(user: user) }
        var context: [String: String] = [:]
        for (key, value) in parameters where !reserved.contains(String(key)) && !key.hasPrefix("filter.") { context[String(key)] = String(value) }
        return RecommendationRequest(
            user: user, n: try request.queryInt("n", default: 10, range: 1...1000),
            exclude: Set((parameters["exclude"] ?? "").split(separator: ",").map(String.init)), filter: try filter(request),
            cursor: try parameters["cursor"].map { try PageCursor(token: String($0)) }, deployment: parameters["deployment"].map(String.init),
            excludeImpressed: try parameters["exclude_impressed"].map { try bool(String($0), "exclude_impressed") }, context: context)
    }

    static func filter(_ request: Request) throws -> ItemFilter {
        let parameters = request.uri.queryParameters
        var filter = ItemFilter()
        if let categories = parameters["category"] { filter.categories = Set(categories.split(separator: ",").map(String.init)) }
        if let inStock = parameters["in_stock"] { filter.inStock = try bool(String(inStock), "in_stock") }
        filter.minPrice = try parameters["min_price"].map { try number(String($0), "min_price") }
        filter.maxPrice = try parameters["max_price"].map { try number(String($0), "max_price") }
        for (key, value) in parameters where key.hasPrefix("filter.") { filter.equals[String(key.dropFirst(7))] = String(value) }
        return filter
    }

    static func bool(_ text: String, _ name: String) throws -> Bool {
        switch text {
        case "true", "1": return true
        case "false", "0": return false
        default: throw StrataError.invalid("invalid_parameter", "query parameter '\(name)' must be true or false", field: name)
        }
    }

    static func number(_ text: String, _ name: String) throws -> Double {
        guard let value = Double(text), value.isFinite else {
            throw StrataError.invalid("invalid_parameter", "query parameter '\(name)' must be a number", field: name)
        }
        return value
    }

    /// `{"name": "B", "model": "als-main@4", "weight": 50}`; the model is `NAME@VERSION` or
    /// `NAME@production` (or just `NAME`: its production version).
    static func variant(_ json: JSONValue, defaultName: String? = nil) throws -> VariantSpec {
        guard let name = json["name"]?.stringValue ?? defaultName, let reference = json["model"]?.stringValue else {
            throw StrataError.invalid("invalid_deployment", "each variant needs a name and a model (NAME@VERSION or NAME@production)", field: "variants")
        }
        guard let parsed = ModelReference(reference), parsed.qualifier == nil || parsed.qualifier == "production" || parsed.version != nil else {
            throw StrataError.invalid("invalid_deployment", "variant \(name): '\(reference)' is not NAME@VERSION or NAME@production", field: "variants")
        }
        return VariantSpec(
            name: name, model: parsed.model, version: parsed.version, weight: json["weight"]?.doubleValue ?? (defaultName == nil ? 100 : 0))
    }
}
