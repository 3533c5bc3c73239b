import Hummingbird
import StrataRegistry

/// The role every route needs and the action its use is audited as. Routes not listed need
/// `admin`: a new route is closed until it is declared here.
enum RoutePolicy {
    struct Rule {
        let method: HTTPRequest.Method?
        /// Path prefix (segments), `*` matching any one segment.
        let path: [Substring]
        /// nil: public (no key needed, not audited).
        let role: Role?
        let action: String
        /// Whether each granted request is audited (refusals always are). The end-user serving
        /// path is not: an entry per page view would dwarf the data it protects; nor are reads of
        /// the status, reports and audit log the dashboard polls every two seconds (every change,
        /// read of personal data and model download is).
        var auditsAccess = true
        /// Whether the path must have exactly the rule's segments (not just begin with them).
        var exact = false
    }

    static let rules: [Rule] = [
        rule(.get, "/healthz", nil, "health"), rule(.get, "/readyz", nil, "health"), rule(.get, "/", nil, "dashboard", exact: true),
        rule(.get, "/dashboard.js", nil, "dashboard", exact: true),
        rule(.get, "/metrics", nil, "metrics"), rule(.get, "/openapi.json", nil, "openapi", exact: true),
        rule(.post, "/v1/events", .ingest, "ingest"),
        rule(.get, "/v1/recommendations", .serve, "recommend", auditsAccess: false),
        rule(.get, "/v1/items/*/similar", .serve, "recommend", auditsAccess: false),
        rule(.get, "/v1/monitoring", .scientist, "monitoring.read", auditsAccess: false),
        rule(.get, "/v1/deployments", .scientist, "deployments.read", auditsAccess: false),
        rule(.get, "/v1/experiments", .scientist, "experiments.read", auditsAccess: false),
        rule(.put, "/v1/deployments", .approver, "deploy.update"), rule(.post, "/v1/deployments/*/rollback", .approver, "deploy.rollback"),
        rule(.post, "/v1/deployments/*/canary", .approver, "deploy.canary"), rule(.post, "/v1/deployments/*/precompute", .scientist, "deploy.precompute"),
        rule(.get, "/v1/items", .serve, "catalog.read"), rule(.get, "/v1/users", .serve, "catalog.read"),
        rule(nil, "/v1/items", .ingest, "catalog.write"), rule(nil, "/v1/users", .ingest, "catalog.write"),
        rule(.get, "/v1/features", .serve, "features.status", exact: true, auditsAccess: false), rule(.get, "/v1/features", .serve, "feature.read"),
        rule(.post, "/v1/features/batch", .serve, "feature.read"),
        rule(.post, "/v1/features/check-skew", .scientist, "feature.check_skew"),
        rule(.get, "/v1/lake", .scientist, "lake.status", exact: true, auditsAccess: false),
        rule(.get, "/v1/lake/snapshots", .scientist, "lake.snapshots", exact: true, auditsAccess: false), rule(.get, "/v1/lake", .scientist, "lake.read"),
        rule(.post, "/v1/lake/snapshots", .scientist, "lake.snapshot"),
        rule(.post, "/v1/lake/compact", .admin, "lake.compact"), rule(.post, "/v1/lake/forget", .admin, "lake.forget"),
        rule(.get, "/v1/contract", .scientist, "contract.read"), rule(.get, "/v1/evaluation", .scientist, "evaluation.read", auditsAccess: false),
        rule(.post, "/v1/training/runs", .scientist, "training.start"), rule(.post, "/v1/training/retrain", .scientist, "training.retrain"),
        rule(.get, "/v1/training/runs", .scientist, "runs.read", auditsAccess: false),
        rule(.get, "/v1/models/*/artifact", .scientist, "model.download"), rule(.get, "/v1/models", .scientist, "models.read", auditsAccess: false),
        rule(.post, "/v1/models/*/approve", .approver, "model.approve"), rule(.post, "/v1/models/*/promote", .approver, "model.promote"),
        rule(.post, "/v1/models/*/rollback", .approver, "model.rollback"),
        rule(.get, "/v1/audit", .admin, "audit.read", auditsAccess: false), rule(nil, "/v1/keys", .admin, "keys"),
    ]

    static func rule(_ method: HTTPRequest.Method?, _ path: String, _ role: Role?, _ action: String, exact: Bool = false, auditsAccess: Bool = true) -> Rule {
        let segments = path.split(separator: "/")
        return Rule(method: method, path: segments.isEmpty ? [""] : segments, role: role, action: action, auditsAccess: auditsAccess, exact: exact)
    }

    /// The first rule whose method and path prefix match; nil when none does.
    static func match(_ method: HTTPRequest.Method, _ path: String) -> Rule? {
        let segments = path.split(separator: "/")
        for rule in rules where rule.method == nil || rule.method == method {
            if rule.path == [""] {
                if segments.isEmpty { return rule }
                continue
            }
            guard segments.count >= rule.path.count, !rule.exact || segments.count == rule.path.count else { continue }
            if zip(rule.path, segments).allSatisfy({ $0 == "*" || $0 == $1 }) { return rule }
        }
        return nil
    }
}
