import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresKit
import SQLKit
import SQLiteKit
import StrataCore
import Synchronization

/// The metadata store (runs, the registry, keys, the audit log): one SQL code path over SQLite
/// (embedded, a file in the project folder) and PostgreSQL (scale-out), chosen by URL. Work runs
/// one unit at a time over one connection: metadata traffic is light, and serialising it makes
/// every `transaction` atomic on both databases without a pool.
public final class MetadataStore: Sendable {
    public enum Dialect: String, Sendable { case sqlite, postgres }

    public let dialect: Dialect
    /// Where it lives, without credentials (for logs and status).
    public let location: String
    let database: any SQLDatabase
    private let lock = AsyncSerialLock()
    private let closer: @Sendable () async throws -> Void

    init(dialect: Dialect, location: String, database: any SQLDatabase, close: @escaping @Sendable () async throws -> Void) {
        self.dialect = dialect
        self.location = location
        self.database = database
        self.closer = close
    }

    /// Opens `url` and brings its schema up to date: `sqlite:` (the file `defaultSQLitePath`),
    /// `sqlite:/some/file.sqlite`, `sqlite::memory:`, or `postgres://user:password@host:port/database`.
    public static func open(url: String, defaultSQLitePath: String, logger: Logger) async throws -> MetadataStore {
        let store: MetadataStore
        if url == "sqlite:" || url.hasPrefix("sqlite:") {
            let rest = String(url.dropFirst("sqlite:".count))
            let storage: SQLiteConnection.Storage
            let location: String
            if rest == ":memory:" {
                storage = .memory
                location = "sqlite::memory:"
            } else {
                let path = rest.isEmpty ? defaultSQLitePath : rest
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                storage = .file(path: path)
                location = "sqlite:\(path)"
            }
            let connection = try await SQLiteConnection.open(storage: storage, logger: logger)
            let database = connection.sql(queryLogLevel: nil)
            store = MetadataStore(dialect: .sqlite, location: location, database: database) { try await connection.close() }
            // Durable commits and waiting (not failing) when another process holds the lock.
            try await database.raw("PRAGMA journal_mode = WAL").run()
            try await database.raw("PRAGMA synchronous = FULL").run()
            try await database.raw("PRAGMA busy_timeout = 10000").run()
        } else if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            var configuration: SQLPostgresConfiguration
            do {
                configuration = try SQLPostgresConfiguration(url: url)
            } catch {
                throw StrataError.invalid("invalid_backend_url", "cannot read the PostgreSQL URL (postgres://user:password@host:5432/database): \(error)")
            }
            if !url.contains("sslmode=") { configuration.coreConfiguration.tls = .disable }
            let connection: PostgresConnection
            do {
                connection = try await PostgresConnection.connect(configuration: configuration.coreConfiguration, id: 1, logger: logger)
            } catch {
                throw StrataError(
                    .unavailable, code: "metadata_unavailable", "cannot connect to PostgreSQL at \(Self.redacted(url)): \(String(reflecting: error))")
            }
            store = MetadataStore(dialect: .postgres, location: Self.redacted(url), database: connection.sql(queryLogLevel: nil)) {
                try await connection.close()
            }
        } else {
            throw StrataError.invalid("invalid_backend_url", "backends.metadata must be sqlite: or postgres://...; got '\(url)'", field: "backends.metadata")
        }
        do {
            try await store.migrate()
        } catch {
            // A store is closed before it goes away, also when its schema cannot be brought up to date.
            await store.close()
            throw error
        }
        return store
    }

    /// The URL without its password.
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return "postgres://…" }
        if components.password != nil { components.password = "***" }
        return components.string ?? "postgres://…"
    }

    public func close() async {
        try? await closer()
    }

    /// Runs `body` alone and atomically: committed if it returns, rolled back if it throws.
    public func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await lock.run {
            try await database.raw("BEGIN").run()
            do {
                let result = try await body(database)
                try await database.raw("COMMIT").run()
                return result
            } catch {
                try? await database.raw("ROLLBACK").run()
                throw error
            }
        }
    }

    /// Runs `body` alone (reads; single statements).
    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await lock.run { try await body(database) }
    }

    // MARK: - Migrations

    /// Applies, in order and each in its own transaction, every migration not applied yet.
    func migrate() async throws {
        try await lock.run {
            try await database.raw("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)")
                .run()
        }
        let applied = try await read { db in
            Set(try await db.raw("SELECT version FROM schema_migrations").all().map { try $0.decode(column: "version", as: Int64.self) })
        }
        for migration in Migrations.all where !applied.contains(migration.version) {
            try await transaction { db in
                for statement in migration.statements { try await db.raw(SQLQueryString(statement)).run() }
                try await db.raw(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (\(bind: migration.version), \(bind: migration.name), \(bind: SystemClock().nowMillis()))"
                ).run()
            }
        }
    }

    /// The versions applied, in order.
    public func appliedMigrations() async throws -> [Int64] {
        try await read { db in
            try await db.raw("SELECT version FROM schema_migrations ORDER BY version").all().map { try $0.decode(column: "version", as: Int64.self) }
        }
    }
}
