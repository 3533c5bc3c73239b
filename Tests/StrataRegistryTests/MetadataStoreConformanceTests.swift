import Foundation
import StrataCore
import StrataTesting
import Testing

/// The metadata store's conformance suite on each database it runs on: a SQLite file, SQLite in
/// memory, and PostgreSQL when `STRATA_TEST_POSTGRES_URL` names a server (otherwise skipped with
/// a message).
@Suite struct MetadataStoreConformanceTests {
    @Test func sqliteFile() async throws {
        let directory = TemporaryDirectory("strata-metadata-conformance")
        defer { directory.remove() }
        try await MetadataStoreConformance.check(url: "sqlite:\(directory.file("metadata.sqlite"))")
    }

    @Test func sqliteInMemory() async throws {
        try await MetadataStoreConformance.check(url: "sqlite::memory:")
    }

    @Test func postgres() async throws {
        guard let url = MetadataBackends.postgresURL else {
            peerMissing(
                "SKIPPED (PostgreSQL): set STRATA_TEST_POSTGRES_URL=postgres://user:password@127.0.0.1:5432/db to run the metadata store conformance suite on PostgreSQL"
            )
            return
        }
        // A database of its own: the registry suites drop the schema's tables of the default one
        // while they run, and this suite reads `schema_migrations` and writes `cluster_workers`.
        let database = try FreshPostgresDatabase(url)
        defer { database.drop() }
        try await MetadataStoreConformance.check(url: database.url)
    }
}

/// A new, empty database on the test PostgreSQL server, created and dropped with `psql` as the
/// `postgres` superuser (as `scripts/start-postgres.sh` sets the server up).
struct FreshPostgresDatabase {
    let url: String
    let name = "strata_conformance_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
    let psql: [String]

    init(_ serverURL: String) throws {
        guard var components = URLComponents(string: serverURL) else { throw StrataError.internal("bad STRATA_TEST_POSTGRES_URL") }
        psql = ["psql", "-h", components.host ?? "127.0.0.1", "-p", String(components.port ?? 5432), "-U", "postgres", "-tAc"]
        let created = try runProcess("/usr/bin/env", psql + ["CREATE DATABASE \(name) OWNER \(components.user ?? "strata")"])
        guard created.status == 0 else { throw StrataError.internal("cannot create a database for the conformance suite: \(created.errors)") }
        components.path = "/\(name)"
        url = components.string!
    }

    func drop() {
        _ = try? runProcess("/usr/bin/env", psql + ["DROP DATABASE IF EXISTS \(name) WITH (FORCE)"])
    }
}
