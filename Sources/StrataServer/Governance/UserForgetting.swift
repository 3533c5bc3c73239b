import StrataCore
import StrataFeatures
import StrataLake
import StrataRegistry
import StrataServing

/// Forgetting a user across every layer this process holds, callable without HTTP: their
/// personal data leaves the lake's current files (so no later snapshot holds it), the catalog,
/// the online feature store and the precomputed recommendations; models trained before treat
/// the user as new. Snapshots and model versions that still hold the user's events are
/// immutable: the outcome lists them. The audit entry names the user by hash only (the audit
/// log itself is immutable).
struct UserForgetting: Sendable {
    let lake: Lake
    let features: FeatureStore?
    let serving: DeploymentController?
    let registry: ModelRegistry?
    let runs: RunStore?
    let audit: AuditLog?

    /// What was removed and what still holds the user's events, as `POST /v1/lake/forget` answers.
    func forget(user: String, by principal: Principal) async throws -> JSONValue {
        let outcome = try await lake.forget(userID: user, requestedBy: principal.label)
        try features?.forget(userID: user)
        try await serving?.forget(user: user)
        var answer = outcome.json.objectValue ?? [:]
        answer["affected_model_versions"] = .array(try await affectedModels(outcome.affectedSnapshots).map(JSONValue.string))
        try await audit?.append(
            principal: principal.label, action: "lake.forget.done", target: "user:\(outcome.record.userHash)",
            detail:
                "removed \(outcome.removedEvents) events from \(outcome.replaced.count) lake files; affected snapshots: \(outcome.affectedSnapshots.joined(separator: ","))"
        )
        return .object(answer)
    }

    /// Model versions trained on one of `snapshots`: they learned from the user's events.
    private func affectedModels(_ snapshots: [String]) async throws -> [String] {
        guard let registry, let runs, !snapshots.isEmpty else { return [] }
        let affected = Set(snapshots)
        var references: [String] = []
        for version in try await registry.versions() {
            guard let run = try? await runs.get(version.runID), affected.contains(run.dataVersion) else { continue }
            references.append(version.reference)
        }
        return references
    }
}
