import Foundation
import SQLKit
import StrataCore
import StrataMetadata
import StrataTesting
import Testing

/// The metadata backends every registry test runs on: SQLite always; PostgreSQL when
/// `STRATA_TEST_POSTGRES_URL` names a server (`.ci/run` starts one), otherwise skipped with a
/// message.
enum MetadataBackends {
    static let names = ["sqlite", "postgres"]

    static var postgresURL: String? { ProcessInfo.processInfo.environment["STRATA_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 } }

    /// A fresh, empty store of that kind, or nil (with a message) when it is not available.
    static func open(_ name: String, _ directory: TemporaryDirectory) async throws -> MetadataStore? {
        switch name {
        case "sqlite":
            return try await MetadataStore.open(url: "sqlite:\(directory.file("metadata.sqlite"))", defaultSQLitePath: "", logger: quietLogger)
        default:
            guard let url = postgresURL else {
                peerMissing(
                    "SKIPPED (PostgreSQL): set STRATA_TEST_POSTGRES_URL=postgres://user:password@127.0.0.1:5432/db to run the registry suite on PostgreSQL")
                return nil
            }
            // A clean schema: drop what earlier tests left, then migrate.
            let store = try await MetadataStore.open(url: url, defaultSQLitePath: "", logger: quietLogger)
            try await store.transaction { db in
                for table in [
                    "audit_log", "api_keys", "runs", "run_metrics", "model_versions", "approvals", "aliases", "deployments", "deployment_events",
                    "baselines", "cluster_workers", "schema_migrations",
                ] {
                    try await db.raw("DROP TABLE IF EXISTS \(unsafeRaw: table)").run()
                }
            }
            await store.close()
            return try await MetadataStore.open(url: url, defaultSQLitePath: "", logger: quietLogger)
        }
    }
}
