import Foundation
import SQLKit
import StrataCore
import StrataMetadata

/// Where a model version is in its life.
public enum Stage: String, Sendable, CaseIterable {
    /// Passed the evaluation gate; waits for approval.
    case candidate
    /// Failed the evaluation gate; never deployable.
    case rejected
    /// Approved by a human; may be promoted.
    case approved
    case production
    case archived
}

/// The evaluation gate's verdict on a new version: the candidate against production on the
/// same holdout.
public struct GateResult: Sendable, Equatable {
    public var metric: String
    public var margin: Double
    public var candidate: Double
    /// Production's value on the same holdout (nil when there is no production version yet).
    public var production: Double?
    public var productionVersion: Int64?
    /// The retrieval index's recall@10 against exact search, and the least accepted
    /// (`serving.ann.min_recall`); nil for models served by exact search.
    public var annRecall: Double?
    public var minRecall: Double?

    public init(
        metric: String, margin: Double, candidate: Double, production: Double?, productionVersion: Int64?, annRecall: Double? = nil,
        minRecall: Double? = nil
    ) {
        self.metric = metric
        self.margin = margin
        self.candidate = candidate
        self.production = production
        self.productionVersion = productionVersion
        self.annRecall = annRecall
        self.minRecall = minRecall
    }

    var recallPassed: Bool { annRecall.map { $0 >= (minRecall ?? 0) } ?? true }

    public var passed: Bool { recallPassed && (production.map { candidate >= $0 + margin } ?? true) }

    public var message: String {
        let recall =
            annRecall.map {
                String(format: "; ANN recall@10 %.4f %@ serving.ann.min_recall %.2f", $0, recallPassed ? "meets" : "is below", minRecall ?? 0)
                    // What lifts it: more links per item (measured at 200,000 items: M 32 gave
                    // 0.82, M 64 0.96), far more than a broader search (ef_search 1,600: 0.85).
                    + (recallPassed ? "" : " (raise serving.ann.m, e.g. to 64, and retrain)")
            } ?? ""
        guard let production else {
            return "no production version: \(metric) \(String(format: "%.4f", candidate))\(recall): \(passed ? "accepted" : "rejected")"
        }
        return String(
            format: "%@ %.4f vs production v%lld %.4f (needs +%.4f)%@: %@", metric, candidate, productionVersion ?? 0, production, margin, recall,
            passed ? "passed" : "rejected")
    }

    public var json: JSONValue {
        [
            "metric": .string(metric), "margin": .double(margin), "candidate": .double(candidate), "production": production.map(JSONValue.double) ?? .null,
            "production_version": productionVersion.map(JSONValue.int) ?? .null, "passed": .bool(passed), "message": .string(message),
            "ann_recall": annRecall.map(JSONValue.double) ?? .null, "min_recall": minRecall.map(JSONValue.double) ?? .null,
        ]
    }

    init?(json: JSONValue) {
        guard let metric = json["metric"]?.stringValue, let candidate = json["candidate"]?.doubleValue else { return nil }
        self.init(
            metric: metric, margin: json["margin"]?.doubleValue ?? 0, candidate: candidate, production: json["production"]?.doubleValue,
            productionVersion: json["production_version"]?.intValue, annRecall: json["ann_recall"]?.doubleValue, minRecall: json["min_recall"]?.doubleValue)
    }
}

public struct ModelVersion: Sendable, Equatable {
    public var model: String
    public var version: Int64
    public var runID: String
    public var artifactHash: String
    public var stage: Stage
    public var createdAt: Int64
    public var gate: GateResult?

    public var reference: String { "\(model)@\(version)" }

    public var json: JSONValue {
        [
            "model": .string(model), "version": .int(version), "reference": .string(reference), "run": .string(runID), "artifact": .string(artifactHash),
            "stage": .string(stage.rawValue), "created_at": .string(EventTime.format(millis: createdAt)), "gate": gate?.json ?? .null,
        ]
    }
}

/// An approval: who, when, why.
public struct Approval: Sendable, Equatable {
    public var principal: String
    public var reason: String
    public var at: Int64

    public var json: JSONValue { ["principal": .string(principal), "reason": .string(reason), "at": .string(EventTime.format(millis: at))] }
}

/// Rules of the approval gate.
public struct GovernanceRules: Sendable {
    /// Whether the principal that started a run may approve the version it produced.
    public var allowSelfApproval: Bool

    public init(allowSelfApproval: Bool = false) {
        self.allowSelfApproval = allowSelfApproval
    }
}

/// Model versions, their stages and aliases (`production`, `previous`), approvals; every
/// change and every refusal is audited.
public final class ModelRegistry: Sendable {
    let store: MetadataStore
    let audit: AuditLog
    let clock: any WallClock
    public let rules: GovernanceRules

    public init(store: MetadataStore, audit: AuditLog, rules: GovernanceRules = GovernanceRules(), clock: any WallClock = SystemClock()) {
        self.store = store
        self.audit = audit
        self.rules = rules
        self.clock = clock
    }

    /// Registers the output of a run as the model's next version: a candidate if it passed the
    /// gate, rejected (with the numbers) if not.
    public func register(model: String, runID: String, artifactHash: String, gate: GateResult, by principal: Principal) async throws -> ModelVersion {
        let now = clock.nowMillis()
        let version = try await store.transaction { db in
            let last = try await db.raw("SELECT MAX(version) AS v FROM model_versions WHERE model = \(bind: model)").first()?.decode(
                column: "v", as: Int64?.self)
            let version = ModelVersion(
                model: model, version: (last ?? 0) + 1, runID: runID, artifactHash: artifactHash, stage: gate.passed ? .candidate : .rejected, createdAt: now,
                gate: gate)
            try await db.raw(
                """
                INSERT INTO model_versions (model, version, run_id, artifact_hash, stage, created_at, gate) VALUES
                (\(bind: model), \(bind: version.version), \(bind: runID), \(bind: artifactHash), \(bind: version.stage.rawValue), \(bind: now),
                 \(bind: gate.json.serialized))
                """
            ).run()
            return version
        }
        try await audit.append(
            principal: principal.label, action: "model.register", target: version.reference, outcome: gate.passed ? "ok" : "rejected", detail: gate.message)
        return version
    }

    /// Approves a candidate. Needs the `approver` role, and (unless the rules allow it) a
    /// principal other than the one that started the run.
    public func approve(_ reference: String, reason: String, by principal: Principal) async throws -> ModelVersion {
        let version = try await resolve(reference)
        func deny(_ code: String, _ message: String, _ kind: ErrorKind = .forbidden) async throws -> Never {
            try await refuse("model.approve", version.reference, principal, code, message, kind)
        }
        guard principal.has(.approver) else { try await deny("approver_role_required", "approving needs a key with the approver role") }
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { try await deny("reason_required", "say why (--reason)", .invalidInput) }
        guard version.stage == .candidate else {
            try await deny("not_a_candidate", "\(version.reference) is \(version.stage.rawValue); only candidates can be approved", .conflict)
        }
        if !rules.allowSelfApproval {
            let runPrincipal = try await store.read { db in
                try await db.raw("SELECT principal FROM runs WHERE id = \(bind: version.runID)").first()?.decode(column: "principal", as: String.self)
            }
            if runPrincipal == principal.label {
                try await deny(
                    "self_approval", "\(principal.label) started the run behind \(version.reference) and may not approve it (governance.allow_self_approval)")
            }
        }
        let now = clock.nowMillis()
        try await store.transaction { db in
            try await db.raw(
                "INSERT INTO approvals (model, version, principal, reason, at) VALUES (\(bind: version.model), \(bind: version.version), \(bind: principal.label), \(bind: reason), \(bind: now))"
            ).run()
            try await db.raw("UPDATE model_versions SET stage = 'approved' WHERE model = \(bind: version.model) AND version = \(bind: version.version)").run()
        }
        try await audit.append(principal: principal.label, action: "model.approve", target: version.reference, detail: reason)
        return try await resolve(version.reference)
    }

    /// Makes an approved version production; the current one becomes `previous` (archived).
    public func promote(_ reference: String, by principal: Principal) async throws -> ModelVersion {
        let version = try await resolve(reference)
        func deny(_ code: String, _ message: String, _ kind: ErrorKind = .forbidden) async throws -> Never {
            try await refuse("model.promote", version.reference, principal, code, message, kind)
        }
        guard principal.has(.approver) else { try await deny("approver_role_required", "promoting needs the approver role") }
        guard version.stage == .approved else {
            try await deny(
                "approval_required", "\(version.reference) is \(version.stage.rawValue): only an approved version can be promoted (strata models approve)",
                .conflict)
        }
        try await store.transaction { db in try await Self.makeProduction(db, model: version.model, version: version.version) }
        try await audit.append(principal: principal.label, action: "model.promote", target: version.reference)
        return try await resolve(version.reference)
    }

    /// Puts the `previous` version back into production (instant rollback).
    public func rollback(model: String, by principal: Principal) async throws -> ModelVersion {
        guard principal.has(.approver) else {
            try await refuse("model.rollback", model, principal, "approver_role_required", "rolling back needs the approver role", .forbidden)
        }
        let target = try await store.transaction { db -> Int64? in
            guard
                let previous = try await db.raw("SELECT version FROM aliases WHERE model = \(bind: model) AND alias = 'previous'").first()?
                    .decode(column: "version", as: Int64.self)
            else { return nil }
            try await Self.makeProduction(db, model: model, version: previous)
            return previous
        }
        guard let target else {
            try await refuse("model.rollback", model, principal, "nothing_to_roll_back", "\(model) has no previous production version", .conflict)
        }
        try await audit.append(principal: principal.label, action: "model.rollback", target: "\(model)@\(target)")
        return try await resolve("\(model)@\(target)")
    }

    /// `version` becomes production; the one it replaces is archived and becomes `previous`.
    static func makeProduction(_ db: any SQLDatabase, model: String, version: Int64) async throws {
        let current = try await db.raw("SELECT version FROM aliases WHERE model = \(bind: model) AND alias = 'production'").first()?
            .decode(column: "version", as: Int64.self)
        if let current {
            try await db.raw("UPDATE model_versions SET stage = 'archived' WHERE model = \(bind: model) AND version = \(bind: current)").run()
            try await setAlias(db, model: model, alias: "previous", version: current)
        }
        try await db.raw("UPDATE model_versions SET stage = 'production' WHERE model = \(bind: model) AND version = \(bind: version)").run()
        try await setAlias(db, model: model, alias: "production", version: version)
    }

    /// Audits a refusal, then throws it.
    private func refuse(_ action: String, _ target: String, _ principal: Principal, _ code: String, _ message: String, _ kind: ErrorKind) async throws
        -> Never
    {
        try await audit.append(principal: principal.label, action: action, target: target, outcome: "denied", detail: message)
        throw StrataError(kind, code: code, message)
    }

    static func setAlias(_ db: any SQLDatabase, model: String, alias: String, version: Int64) async throws {
        try await db.raw("DELETE FROM aliases WHERE model = \(bind: model) AND alias = \(bind: alias)").run()
        try await db.raw("INSERT INTO aliases (model, alias, version) VALUES (\(bind: model), \(bind: alias), \(bind: version))").run()
    }

    // MARK: - Reading

    /// `NAME@VERSION`, `NAME@production`, `NAME@previous` (or `NAME`: the newest version).
    public func resolve(_ reference: String) async throws -> ModelVersion {
        guard let parsed = ModelReference(reference) else {
            throw StrataError.invalid("invalid_reference", "'\(reference)' is not a model reference: NAME, NAME@VERSION or NAME@ALIAS (production, previous)")
        }
        let model = parsed.model
        let rows = try await store.read { db -> [any SQLRow] in
            guard let qualifier = parsed.qualifier else {
                return try await db.raw("SELECT * FROM model_versions WHERE model = \(bind: model) ORDER BY version DESC LIMIT 1").all()
            }
            if let number = parsed.version {
                return try await db.raw("SELECT * FROM model_versions WHERE model = \(bind: model) AND version = \(bind: number)").all()
            }
            return try await db.raw(
                """
                SELECT v.* FROM model_versions v JOIN aliases a ON a.model = v.model AND a.version = v.version
                WHERE a.model = \(bind: model) AND a.alias = \(bind: qualifier)
                """
            ).all()
        }
        guard let row = rows.first else { throw StrataError.notFound("model_version_not_found", "no model version \(reference)") }
        return try Self.version(row)
    }

    public func versions(model: String? = nil) async throws -> [ModelVersion] {
        try await store.read { db in
            let rows =
                if let model {
                    try await db.raw("SELECT * FROM model_versions WHERE model = \(bind: model) ORDER BY model, version").all()
                } else {
                    try await db.raw("SELECT * FROM model_versions ORDER BY model, version").all()
                }
            return try rows.map(Self.version)
        }
    }

    public func approvals(_ version: ModelVersion) async throws -> [Approval] {
        try await store.read { db in
            try await db.raw("SELECT * FROM approvals WHERE model = \(bind: version.model) AND version = \(bind: version.version) ORDER BY at").all().map {
                row in
                Approval(
                    principal: try row.decode(column: "principal", as: String.self), reason: try row.decode(column: "reason", as: String.self),
                    at: try row.decode(column: "at", as: Int64.self))
            }
        }
    }

    public func aliases(model: String) async throws -> [String: Int64] {
        try await store.read { db in
            var result: [String: Int64] = [:]
            for row in try await db.raw("SELECT alias, version FROM aliases WHERE model = \(bind: model)").all() {
                result[try row.decode(column: "alias", as: String.self)] = try row.decode(column: "version", as: Int64.self)
            }
            return result
        }
    }

    static func version(_ row: any SQLRow) throws -> ModelVersion {
        ModelVersion(
            model: try row.decode(column: "model", as: String.self), version: try row.decode(column: "version", as: Int64.self),
            runID: try row.decode(column: "run_id", as: String.self), artifactHash: try row.decode(column: "artifact_hash", as: String.self),
            stage: Stage(rawValue: try row.decode(column: "stage", as: String.self)) ?? .archived,
            createdAt: try row.decode(column: "created_at", as: Int64.self),
            gate: (try? JSONValue.parse(try row.decode(column: "gate", as: String.self))).flatMap(GateResult.init(json:)))
    }
}
