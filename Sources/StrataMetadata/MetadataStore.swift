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
    private let lock = AsyncSerialLock()
    /// The open connection: its database, whether it is still open, how to close it.
    struct Connection: Sendable {
        var database: any SQLDatabase
        var isOpen: @Sendable () -> Bool
        var close: @Sendable () async throws -> Void
    }
    private let connection: Mutex<Connection>
    /// Opens a new connection when the one in use was lost (PostgreSQL restarted, the network
    /// dropped it); nil for SQLite, whose file does not go away.
    private let reconnect: (@Sendable () async throws -> Connection)?

    var database: any SQLDatabase { connection.withLock { $0.database } }

    init(dialect: Dialect, location: String, connection: Connection, reconnect: (@Sendable () async throws -> Connection)? = nil) {
        self.dialect = dialect
        self.location = location
        self.connection = Mutex(connection)
        self.reconnect = reconnect
    }

    /// Opens `url` and brings its schema up to date: `sqlite:` (the file `defaultSQLitePath`),
    /// `sqlite:/some/file.sqlite`, `sqlite::memory:`, or `postgres://user:password@host:port/database`.
    /// `reconnects`: whether a lost PostgreSQL connection is replaced on the next call (not for
    /// a connection whose session holds something, like the worker's lease).
    public static func open(url: String, defaultSQLitePath: String, reconnects: Bool = true, logger: Logger) async throws -> MetadataStore {
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
            store = MetadataStore(
                dialect: .sqlite, location: location, connection: Connection(database: database, isOpen: { true }, close: { try await connection.close() }))
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
            let core = configuration.coreConfiguration
            let location = Self.redacted(url)
            let connect: @Sendable () async throws -> Connection = {
                let connection: PostgresConnection
                do {
                    connection = try await PostgresConnection.connect(configuration: core, id: 1, logger: logger)
                } catch {
                    throw StrataError(.unavailable, code: "metadata_unavailable", "cannot connect to PostgreSQL at \(location): \(String(reflecting: error))")
                }
                return Connection(database: connection.sql(queryLogLevel: nil), isOpen: { !connection.isClosed }, close: { try await connection.close() })
            }
            store = MetadataStore(dialect: .postgres, location: location, connection: try await connect(), reconnect: reconnects ? connect : nil)
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
        try? await connection.withLock { $0 }.close()
    }

    /// The connection to use now: the open one, or a new one when it was lost (called under `lock`).
    private func connected() async throws -> any SQLDatabase {
        let current = connection.withLock { $0 }
        guard !current.isOpen(), let reconnect else { return current.database }
        try? await current.close()
        let fresh = try await reconnect()
        connection.withLock { $0 = fresh }
        return fresh.database
    }

    /// A lost connection is a clear 503 (the next call reconnects), not a driver's error.
    private func explained(_ error: any Error) -> any Error {
        if let duplicate = Self.duplicateKey(error) { return duplicate }
        guard dialect == .postgres, !connection.withLock({ $0 }).isOpen(), !(error is StrataError) else { return error }
        return StrataError(
            .unavailable, code: "metadata_unavailable",
            "lost the connection to PostgreSQL at \(location) (\(String(describing: error).prefix(120)))\(reconnect == nil ? "" : "; the next request reconnects, retry")"
        )
    }

    /// A write refused for a duplicate key, as one error on both dialects (each driver words it
    /// its own way: SQLite's UNIQUE constraint, PostgreSQL's SQLSTATE 23505); nil for any other.
    static func duplicateKey(_ error: any Error) -> StrataError? {
        let detail: String
        if let sqlite = error as? SQLiteError, sqlite.message.contains("UNIQUE constraint failed") {
            detail = sqlite.message
        } else if let postgres = error as? PSQLError, postgres.serverInfo?[.sqlState] == "23505" {
            detail = postgres.serverInfo?[.message] ?? "duplicate key"
        } else {
            return nil
        }
        return StrataError(.conflict, code: "duplicate_key", "a row with this key already exists (\(detail))")
    }

    /// Runs `body` alone and atomically: committed if it returns, rolled back if it throws.
    public func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await lock.run {
            let database = try await connected()
            do {
                try await database.raw("BEGIN").run()
                let result = try await body(database)
                try await database.raw("COMMIT").run()
                return result
            } catch {
                try? await database.raw("ROLLBACK").run()
                throw explained(error)
            }
        }
    }

    /// Runs `body` alone (reads; single statements).
    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await lock.run {
            let database = try await connected()
            do {
                return try await body(database)
            } catch {
                throw explained(error)
            }
        }
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
