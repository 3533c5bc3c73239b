import StrataCore

extension DeploymentController {
    /// A deployment as the API and the dashboard show it: its variants with the model each
    /// serves (or why it cannot), their cache, serving statistics and A/B counts, the shadow,
    /// the canary and the recent history.
    public func status(_ name: String) async throws -> JSONValue {
        guard let deployment = try await store.get(name) else {
            throw StrataError.notFound("deployment_not_found", "no deployment \(name) (GET /v1/deployments lists them)")
        }
        let state = service.state(name)
        var variants: [JSONValue] = []
        for spec in deployment.variants {
            let variant = state?.variants.first { $0.spec.name == spec.name }
            var table: (computedAt: Int64, users: Int)?
            if let model = variant?.model { table = await service.cache.tableInfo(model: model.key) }
            variants.append([
                "name": .string(spec.name), "reference": .string(spec.reference), "weight": .double(spec.weight),
                "serving": variant?.model.map { .string($0.key) } ?? .null, "error": variant?.error.map(JSONValue.string) ?? .null,
                "lineage": variant?.model?.lineage.json ?? .null,
                "cache": table.map { ["users": .int(Int64($0.users)), "computed_at": .string(EventTime.format(millis: $0.computedAt))] } ?? .null,
                "stats": service.metrics.variant(deployment: name, variant: spec.name).json,
            ])
        }
        var shadow: JSONValue = .null
        if let spec = deployment.shadow {
            let loaded = state?.shadow
            shadow = [
                "reference": .string(spec.reference), "serving": loaded?.model.map { .string($0.key) } ?? .null,
                "error": loaded?.error.map(JSONValue.string) ?? .null, "stats": service.metrics.shadow(deployment: name)?.json ?? .null,
            ]
        }
        return [
            "name": .string(name), "salt": .string(deployment.salt), "revision": .int(deployment.revision),
            "updated_at": .string(EventTime.format(millis: deployment.updatedAt)), "variants": .array(variants), "shadow": shadow,
            "canary": deployment.canary?.json ?? .null, "guardrails": config.canary.json,
            "history": .array(try await store.history(name, limit: 20).map(\.json)),
        ]
    }

    /// Every deployment, briefly.
    public func list() async throws -> JSONValue {
        .array(
            try await store.all().map { deployment in
                [
                    "name": .string(deployment.name), "revision": .int(deployment.revision), "variants": .array(deployment.variants.map(\.json)),
                    "shadow": deployment.shadow?.json ?? .null, "canary": deployment.canary.map { .string($0.status.rawValue) } ?? .null,
                ]
            })
    }

    /// The A/B report of a deployment.
    public func experiment(_ name: String) async throws -> ExperimentReport {
        guard let deployment = try await store.get(name) else {
            throw StrataError.notFound("deployment_not_found", "no deployment \(name) (GET /v1/deployments lists them)")
        }
        let state = service.state(name)
        return ExperimentReport(
            deployment: name,
            variants: deployment.variants.map { spec in
                (spec.name, state?.variants.first { $0.spec.name == spec.name }?.model?.key ?? spec.reference, spec.weight)
            }, counts: service.activity.arms(deployment: name), settings: config.experiments)
    }
}

extension CanaryGuardrails {
    var json: JSONValue {
        [
            "max_error_rate": .double(maxErrorRate), "min_requests": .int(Int64(minRequests)), "max_p99_ms": .double(maxP99Millis),
            "max_ctr_drop": .double(maxCTRDrop), "min_impressions": .int(Int64(minImpressions)),
        ]
    }
}
