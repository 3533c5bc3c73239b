/// The metadata schema, as numbered migrations applied in order at start (never edited once
/// released: a change is a new migration). Types common to SQLite and PostgreSQL only.
struct Migration: Sendable {
    let version: Int64
    let name: String
    let statements: [String]
}

enum Migrations {
    static let all: [Migration] = [
        Migration(
            version: 1, name: "audit log and API keys",
            statements: [
                """
                CREATE TABLE audit_log (seq BIGINT PRIMARY KEY, at BIGINT NOT NULL, principal TEXT NOT NULL, action TEXT NOT NULL,
                  target TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT NOT NULL, previous_hash TEXT NOT NULL, hash TEXT NOT NULL)
                """,
                "CREATE INDEX audit_log_principal ON audit_log (principal, at)",
                "CREATE INDEX audit_log_action ON audit_log (action, at)",
                """
                CREATE TABLE api_keys (id TEXT PRIMARY KEY, name TEXT NOT NULL, secret_hash TEXT NOT NULL, roles TEXT NOT NULL,
                  created_at BIGINT NOT NULL, created_by TEXT NOT NULL, revoked_at BIGINT)
                """,
            ]),
        Migration(
            version: 2, name: "training runs and their metrics",
            statements: [
                """
                CREATE TABLE runs (id TEXT PRIMARY KEY, experiment TEXT NOT NULL, model TEXT NOT NULL, algorithm TEXT NOT NULL, status TEXT NOT NULL,
                  data_version TEXT NOT NULL, contract_version TEXT NOT NULL, code_version TEXT NOT NULL, strata_version TEXT NOT NULL,
                  parameters TEXT NOT NULL, seed BIGINT NOT NULL, host TEXT NOT NULL, principal TEXT NOT NULL, started_at BIGINT NOT NULL,
                  finished_at BIGINT, artifact_hash TEXT, checkpoint_hash TEXT, checkpoint_iteration BIGINT NOT NULL, metrics TEXT, error TEXT,
                  reproduces TEXT)
                """,
                "CREATE INDEX runs_model ON runs (model, started_at)",
                """
                CREATE TABLE run_metrics (run_id TEXT NOT NULL, step BIGINT NOT NULL, name TEXT NOT NULL, value DOUBLE PRECISION NOT NULL,
                  at BIGINT NOT NULL, PRIMARY KEY (run_id, step, name))
                """,
            ]),
        Migration(
            version: 3, name: "model registry",
            statements: [
                """
                CREATE TABLE model_versions (model TEXT NOT NULL, version BIGINT NOT NULL, run_id TEXT NOT NULL, artifact_hash TEXT NOT NULL,
                  stage TEXT NOT NULL, created_at BIGINT NOT NULL, gate TEXT NOT NULL, PRIMARY KEY (model, version))
                """,
                """
                CREATE TABLE approvals (model TEXT NOT NULL, version BIGINT NOT NULL, principal TEXT NOT NULL, reason TEXT NOT NULL, at BIGINT NOT NULL)
                """,
                "CREATE TABLE aliases (model TEXT NOT NULL, alias TEXT NOT NULL, version BIGINT NOT NULL, PRIMARY KEY (model, alias))",
            ]),
        Migration(
            version: 4, name: "deployments and their history",
            statements: [
                "CREATE TABLE deployments (name TEXT PRIMARY KEY, body TEXT NOT NULL, revision BIGINT NOT NULL, updated_at BIGINT NOT NULL)",
                """
                CREATE TABLE deployment_events (name TEXT NOT NULL, revision BIGINT NOT NULL, at BIGINT NOT NULL, principal TEXT NOT NULL,
                  kind TEXT NOT NULL, detail TEXT NOT NULL)
                """,
                "CREATE INDEX deployment_events_name ON deployment_events (name, at)",
            ]),
        Migration(
            version: 5, name: "training baselines for drift monitoring",
            statements: ["CREATE TABLE IF NOT EXISTS baselines (run_id TEXT PRIMARY KEY, body TEXT NOT NULL)"]),
        Migration(
            version: 6, name: "the elected worker of each project",
            statements: ["CREATE TABLE IF NOT EXISTS cluster_workers (project TEXT PRIMARY KEY, url TEXT NOT NULL, host TEXT NOT NULL, since BIGINT NOT NULL)"]),
        Migration(
            version: 7, name: "the strata.yaml settings each run's artifact depends on",
            statements: ["ALTER TABLE runs ADD COLUMN inputs TEXT"]),
    ]
}
