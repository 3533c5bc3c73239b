import Hummingbird
import StrataCore
import StrataFeatures
import StrataLake
import StrataRegistry
import StrataServing

/// `POST /v1/lake/forget {"user_id": ...}`: a user's personal data leaves the lake's current
/// files (so no later snapshot holds it), the catalog, the online feature store and the
/// precomputed recommendations; models trained before treat the user as new. Snapshots and
/// model versions that still hold the user's events are immutable: the answer lists them. The
/// audit entry names the user by hash only (the audit log itself is immutable).
struct ForgetRoute {
    let lake: Lake
    let features: FeatureStore?
    let serving: DeploymentController?
    let governance: ServerGovernance?
    let keys: APIKeys?

    func register(on router: RouteRegistrar) {
        router.post("/v1/lake/forget") { request, _ -> Response in
            let body = try await request.jsonBody(limit: 4096)
            guard let user = body["user_id"]?.stringValue, !user.isEmpty, user.utf8.count <= 256 else {
                throw StrataError.invalid("invalid_user", "send {\"user_id\": \"...\"}: the id of the user to forget, 1 to 256 bytes", field: "user_id")
            }
            let principal = request.principal(keys)
            let outcome = try await lake.forget(userID: user, requestedBy: principal.label)
            try features?.forget(userID: user)
            try await serving?.forget(user: user)
            var answer = outcome.json.objectValue ?? [:]
            answer["affected_model_versions"] = .array(try await affectedModels(outcome.affectedSnapshots).map(JSONValue.string))
            if let audit = governance?.audit {
                try await audit.append(
                    principal: principal.label, action: "lake.forget.done", target: "user:\(outcome.record.userHash)",
                    detail:
                        "removed \(outcome.removedEvents) events from \(outcome.replaced.count) lake files; affected snapshots: \(outcome.affectedSnapshots.joined(separator: ","))"
                )
            }
            return JSONResponse.make(.object(answer))
        }
    }

    /// Model versions trained on one of `snapshots`: they learned from the user's events.
    private func affectedModels(_ snapshots: [String]) async throws -> [String] {
        guard let governance, !snapshots.isEmpty else { return [] }
        let affected = Set(snapshots)
        var references: [String] = []
        for version in try await governance.registry.versions() {
            guard let run = try? await governance.trainer.runs.get(version.runID), affected.contains(run.dataVersion) else { continue }
            references.append(version.reference)
        }
        return references
    }
}
