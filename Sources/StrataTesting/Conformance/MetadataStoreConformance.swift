import Foundation
import SQLKit
import StrataCore
import StrataMetadata
import Synchronization
import Testing

/// What the metadata store does the same way on every database it runs on (a SQLite file,
/// SQLite in memory, PostgreSQL), checked through its public API: migrations run once, a
/// transaction is all or nothing and a committed one outlives the store that wrote it, values
/// round-trip exactly, a unique-key violation leaves the store usable, concurrent callers are
/// serialised, and the worker lease behaves as `WorkerLease` documents for the dialect.
///
/// The queries are written here through `MetadataStore`'s `SQLDatabase`: the store's API is SQL,
/// so its conformance is too (the layer rules let StrataTesting import SQLKit for this).
public enum MetadataStoreConformance {
    /// Runs every check against the store `url` opens (`MetadataStore.open(url:)`'s forms).
    /// `sqlite::memory:` opens a new, empty database each time, so the checks that need a second
    /// open of the same data (migrations not rerun, durability, the lease's published URL) are
    /// left out for it. The suite's tables carry a random suffix and are dropped at the end, but
    /// it also reads `schema_migrations` and writes `cluster_workers`: give it a database no
    /// concurrent test drops the schema of.
    public static func check(url: String) async throws {
        let tables = Tables()
        let persistent = url != "sqlite::memory:"
        let store = try await open(url)
        var failure: (any Error)?
        do {
            try await migrations(store, url: url, persistent: persistent)
            try await atomicity(store, tables)
            if persistent { try await durability(url: url, tables) }
            try await textRoundTrips(store, tables)
            try await numberRoundTrips(store, tables)
            try await uniqueViolations(store, tables)
            try await serialisation(store, tables)
            try await lease(store, url: url, persistent: persistent, tables)
        } catch {
            failure = error
        }
        do {
            try await store.transaction { db in
                for table in tables.all { try await db.raw("DROP TABLE IF EXISTS \(unsafeRaw: table)").run() }
                if persistent { try await db.raw("DELETE FROM cluster_workers WHERE project = \(bind: tables.project)").run() }
            }
        } catch {
            Issue.record("could not drop the conformance tables (\(tables.all.joined(separator: ", "))): \(error)")
        }
        await store.close()
        if let failure { throw failure }
    }

    /// The per-run names of the suite's tables (a random suffix, so runs never collide).
    struct Tables: Sendable {
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        var atomic: String { "conformance_atomic_\(suffix)" }
        var created: String { "conformance_created_\(suffix)" }
        var text: String { "conformance_text_\(suffix)" }
        var numbers: String { "conformance_numbers_\(suffix)" }
        var unique: String { "conformance_unique_\(suffix)" }
        var counter: String { "conformance_counter_\(suffix)" }
        var all: [String] { [atomic, created, text, numbers, unique, counter] }
        /// The worker lease's project.
        var project: String { "conformance-\(suffix)" }
    }

    /// Whether the second lease caller has found the lease held, and whether it has got it.
    final class LeaseProgress: Sendable {
        private let state = Mutex((waiting: false, acquired: false))
        var waiting: Bool { state.withLock { $0.waiting } }
        var acquired: Bool { state.withLock { $0.acquired } }
        func waited() { state.withLock { $0.waiting = true } }
        func got() { state.withLock { $0.acquired = true } }
    }

    /// Thrown from inside a transaction to abandon it.
    struct Abandoned: Error {}

    static func open(_ url: String) async throws -> MetadataStore {
        try await MetadataStore.open(url: url, defaultSQLitePath: "", logger: quietLogger)
    }

    static func count(_ store: MetadataStore, _ table: String) async throws -> Int64 {
        try await store.read { db in
            try await db.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table)").first()?.decode(column: "n", as: Int64.self) ?? -1
        }
    }

    /// Every migration ran, in order, once; opening the same data again runs none of them.
    static func migrations(_ store: MetadataStore, url: String, persistent: Bool) async throws {
        let versions = try await store.appliedMigrations()
        #expect(!versions.isEmpty, "opening the store applies the schema")
        #expect(versions == Array(1...Int64(max(versions.count, 1))), "migrations are numbered from 1 and applied in order, each once")
        guard persistent else { return }
        let applied: @Sendable (MetadataStore) async throws -> [String] = { store in
            try await store.read { db in
                try await db.raw("SELECT version, name, applied_at FROM schema_migrations ORDER BY version").all().map { row in
                    "\(try row.decode(column: "version", as: Int64.self)) \(try row.decode(column: "name", as: String.self)) "
                        + "\(try row.decode(column: "applied_at", as: Int64.self))"
                }
            }
        }
        let before = try await applied(store)
        let again = try await open(url)
        let after = try await applied(again)
        await again.close()
        #expect(after == before, "a second open applies nothing (the recorded migrations and their times are unchanged)")
    }

    /// A transaction that throws leaves nothing behind, its schema changes included, and its
    /// error reaches the caller unchanged; one that returns hands back its result.
    static func atomicity(_ store: MetadataStore, _ tables: Tables) async throws {
        let table = tables.atomic
        try await store.transaction { db in try await db.raw("CREATE TABLE \(unsafeRaw: table) (id TEXT PRIMARY KEY, body TEXT NOT NULL)").run() }
        await #expect(throws: Abandoned.self, "the body's own error reaches the caller") {
            try await store.transaction { db in
                try await db.raw("INSERT INTO \(unsafeRaw: table) (id, body) VALUES ('a', 'first'), ('b', 'second')").run()
                try await db.raw("UPDATE \(unsafeRaw: table) SET body = 'changed'").run()
                throw Abandoned()
            }
        }
        #expect(try await Self.count(store, table) == 0, "a transaction that threw left rows behind")

        let created = tables.created
        await #expect(throws: Abandoned.self) {
            try await store.transaction { db in
                try await db.raw("CREATE TABLE \(unsafeRaw: created) (id BIGINT PRIMARY KEY)").run()
                try await db.raw("INSERT INTO \(unsafeRaw: created) (id) VALUES (1)").run()
                throw Abandoned()
            }
        }
        await #expect(throws: (any Error).self, "a table created by a transaction that threw is gone (migrations rely on it)") {
            _ = try await Self.count(store, created)
        }

        let returned = try await store.transaction { db in
            try await db.raw("INSERT INTO \(unsafeRaw: table) (id, body) VALUES ('kept', 'committed')").run()
            return "result"
        }
        #expect(returned == "result")
        #expect(try await Self.count(store, table) == 1)
    }

    /// A committed transaction is there for a store opened after the writer closed.
    static func durability(url: String, _ tables: Tables) async throws {
        let table = tables.atomic
        let writer = try await open(url)
        try await writer.transaction { db in try await db.raw("INSERT INTO \(unsafeRaw: table) (id, body) VALUES ('durable', 'written, then closed')").run() }
        await writer.close()
        let reader = try await open(url)
        let body = try await reader.read { db in
            try await db.raw("SELECT body FROM \(unsafeRaw: table) WHERE id = 'durable'").first()?.decode(column: "body", as: String.self)
        }
        await reader.close()
        #expect(body == "written, then closed", "a committed write is visible after reopening")
    }

    /// Text the store must hand back byte for byte (compared as UTF-8: Swift's `==` would let a
    /// database that normalised Unicode pass). None holds a NUL: SQLite hands such a string back
    /// cut at the NUL, silently, and PostgreSQL refuses it (invalid byte sequence, 22021).
    static var texts: [String] {
        // A quarter of a million characters of varied text, two- to four-byte characters included.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let alphabet = Array("abcXYZ019 \n\t'\"\\%_;é€中👍𝄞")
        let long = String(
            (0..<(1 << 18)).map { _ -> Character in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return alphabet[Int(state >> 33) % alphabet.count]
            })
        return [
            "", "plain", " leading and trailing spaces ", "it's \"quoted\" with \\ back\\slashes; -- not a comment /* nor this */ $1 ?1 :name %_",
            "Zürich, naïve café, Ελληνικά, русский, 日本語, 한국어, العربية, עברית", "emoji 👩‍👩‍👧‍👦 🇨🇭 ✔︎ and 𝄞 𐍈 beyond the BMP",
            "caf\u{E9}", "cafe\u{301}", "\u{FEFF}byte order mark, zero\u{200B}width, \u{202E}override",
            "lines\nand\r\ncarriage\rreturns\tand tabs",
            long,
        ]
    }

    static func textRoundTrips(_ store: MetadataStore, _ tables: Tables) async throws {
        let table = tables.text
        let texts = Self.texts
        try await store.transaction { db in
            try await db.raw("CREATE TABLE \(unsafeRaw: table) (id BIGINT PRIMARY KEY, body TEXT NOT NULL)").run()
            for (id, text) in texts.enumerated() {
                try await db.raw("INSERT INTO \(unsafeRaw: table) (id, body) VALUES (\(bind: Int64(id)), \(bind: text))").run()
            }
        }
        let stored = try await store.read { db in
            try await db.raw("SELECT body FROM \(unsafeRaw: table) ORDER BY id").all().map { try $0.decode(column: "body", as: String.self) }
        }
        #expect(stored.count == texts.count)
        for (text, back) in zip(texts, stored) {
            #expect(Array(back.utf8) == Array(text.utf8), "text changed on its way through the store: \(text.prefix(60).debugDescription)")
        }
        // Equal to Swift, two rows to the database: it compares the bytes, never normalising.
        let precomposed = try #require(texts.firstIndex { Array($0.utf8) == Array("caf\u{E9}".utf8) })
        let matched = try await store.read { db in
            try await db.raw("SELECT id FROM \(unsafeRaw: table) WHERE body = \(bind: "caf\u{E9}")").all().map { try $0.decode(column: "id", as: Int64.self) }
        }
        #expect(matched == [Int64(precomposed)], "a bound string finds its own row, and only it")
    }

    /// 64-bit integers at and near their limits, and doubles round-trip bit for bit. Finite and
    /// not negative zero: SQLite refuses NaN (stored as NULL) and hands -0.0 back as 0.0, where
    /// PostgreSQL keeps both (infinities round-trip on both).
    static func numberRoundTrips(_ store: MetadataStore, _ tables: Tables) async throws {
        let table = tables.numbers
        let integers: [Int64] = [.min, .min + 1, -1, 0, 1, Int64(Int32.max) + 1, (1 << 53) + 1, .max - 1, .max]
        let doubles: [Double] = [
            0, 1, -1.5, 0.1, 1.0 / 3, .pi, 1e-300, 1e300, .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude,
            -.greatestFiniteMagnitude, 9_007_199_254_740_992, 0.1 + 0.2,
        ]
        let rows = max(integers.count, doubles.count)
        try await store.transaction { db in
            try await db.raw("CREATE TABLE \(unsafeRaw: table) (id BIGINT PRIMARY KEY, i BIGINT NOT NULL, d DOUBLE PRECISION NOT NULL)").run()
            for id in 0..<rows {
                let (integer, double) = (integers[id % integers.count], doubles[id % doubles.count])
                try await db.raw("INSERT INTO \(unsafeRaw: table) (id, i, d) VALUES (\(bind: Int64(id)), \(bind: integer), \(bind: double))").run()
            }
        }
        let stored = try await store.read { db in
            try await db.raw("SELECT i, d FROM \(unsafeRaw: table) ORDER BY id").all().map {
                (try $0.decode(column: "i", as: Int64.self), try $0.decode(column: "d", as: Double.self))
            }
        }
        #expect(stored.count == rows)
        for (id, (integer, double)) in stored.enumerated() {
            #expect(integer == integers[id % integers.count])
            #expect(double.bitPattern == doubles[id % doubles.count].bitPattern, "\(doubles[id % doubles.count]) came back as \(double)")
        }
        let extremes = try await store.read { db in
            try await db.raw("SELECT MIN(i) AS low, MAX(i) AS high FROM \(unsafeRaw: table) WHERE i <> \(bind: Int64.min + 1)").first().map {
                (try $0.decode(column: "low", as: Int64.self), try $0.decode(column: "high", as: Int64.self))
            }
        }
        #expect(extremes?.0 == .min && extremes?.1 == .max, "the database compares the extremes as 64-bit integers")
    }

    /// A duplicate key is refused, rolls its transaction back, and leaves the store usable.
    static func uniqueViolations(_ store: MetadataStore, _ tables: Tables) async throws {
        let table = tables.unique
        try await store.transaction { db in
            try await db.raw("CREATE TABLE \(unsafeRaw: table) (id TEXT PRIMARY KEY, body TEXT NOT NULL)").run()
            try await db.raw("INSERT INTO \(unsafeRaw: table) (id, body) VALUES ('a', 'first')").run()
        }
        var inTransaction: (any Error)?
        do {
            try await store.transaction { db in
                try await db.raw("INSERT INTO \(unsafeRaw: table) (id, body) VALUES ('b', 'before the violation')").run()
                try await db.raw("INSERT INTO \(unsafeRaw: table) (id, body) VALUES ('a', 'duplicate')").run()
            }
        } catch {
            inTransaction = error
        }
        var alone: (any Error)?
        do {
            try await store.read { db in try await db.raw("INSERT INTO \(unsafeRaw: table) (id, body) VALUES ('a', 'duplicate')").run() }
        } catch {
            alone = error
        }
        #expect(inTransaction != nil && alone != nil, "a duplicate primary key is refused")
        let rows = try await store.read { db in
            try await db.raw("SELECT id, body FROM \(unsafeRaw: table) ORDER BY id").all().map {
                "\(try $0.decode(column: "id", as: String.self))=\(try $0.decode(column: "body", as: String.self))"
            }
        }
        #expect(rows == ["a=first"], "the refused transaction's earlier insert was rolled back and the first row kept")
        try await store.transaction { db in try await db.raw("INSERT INTO \(unsafeRaw: table) (id, body) VALUES ('c', 'after')").run() }
        #expect(try await Self.count(store, table) == 2, "the store works on after a refused write")
        for error in [inTransaction, alone].compactMap({ $0 }) {
            #expect((error as? StrataError)?.code != "metadata_unavailable", "a refused write is not a lost connection: \(error)")
            #expect(
                (error as? StrataError)?.kind == .conflict && (error as? StrataError)?.code == "duplicate_key",
                "a duplicate key surfaces as one error on every dialect, not \(String(reflecting: error))")
        }
    }

    /// Concurrent callers each run alone: 50 read-modify-write transactions (each inserts the
    /// current maximum plus one) all land, with no number taken twice and none skipped.
    static func serialisation(_ store: MetadataStore, _ tables: Tables) async throws {
        let table = tables.counter
        let writers = 50
        try await store.transaction { db in try await db.raw("CREATE TABLE \(unsafeRaw: table) (n BIGINT PRIMARY KEY, writer BIGINT NOT NULL)").run() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    try await store.transaction { db in
                        let top =
                            try await db.raw("SELECT COALESCE(MAX(n), 0) AS top FROM \(unsafeRaw: table)").first()?.decode(column: "top", as: Int64.self) ?? 0
                        await Task.yield()  // invite another caller in between the read and the write
                        try await db.raw("INSERT INTO \(unsafeRaw: table) (n, writer) VALUES (\(bind: top + 1), \(bind: Int64(writer)))").run()
                    }
                }
                group.addTask { _ = try await Self.count(store, table) }
            }
            try await group.waitForAll()
        }
        let rows = try await store.read { db in
            try await db.raw("SELECT n, writer FROM \(unsafeRaw: table) ORDER BY n").all().map {
                (try $0.decode(column: "n", as: Int64.self), try $0.decode(column: "writer", as: Int64.self))
            }
        }
        #expect(rows.map(\.0) == Array(1...Int64(writers)), "every write landed, one after another")
        #expect(Set(rows.map(\.1)) == Set(0..<Int64(writers)), "each writer's row is there once")
    }

    /// The worker lease, as `WorkerLease` documents it per dialect. PostgreSQL: one holder at a
    /// time (a session advisory lock); a second caller waits and gets it once the first releases.
    /// SQLite: the lease admits every caller (the data folder's lock admits one process, outside
    /// the store), so two holders at once is what the code does there. Where the data outlives
    /// the lease's own store, the holder's published URL is readable through another store.
    static func lease(_ store: MetadataStore, url: String, persistent: Bool, _ tables: Tables) async throws {
        let project = tables.project
        let first = try await WorkerLease.acquire(url: url, defaultSQLitePath: "", project: project, logger: quietLogger)
        let progress = LeaseProgress()
        let second = Task {
            let lease = try await WorkerLease.acquire(
                url: url, defaultSQLitePath: "", project: project, retry: .milliseconds(50), logger: quietLogger,
                onWaiting: { progress.waited() })
            progress.got()
            return lease
        }
        var holder: WorkerLease?
        do {
            switch store.dialect {
            case .postgres:
                try await waitUntil("the second caller to find the lease held") { progress.waiting }
                try await Task.sleep(for: .milliseconds(300))  // several retries
                #expect(!progress.acquired, "a second holder got the lease while the first held it")
                await first.release()
                try await waitUntil("the second caller to get the lease once the first released it") { progress.acquired }
            case .sqlite:
                try await waitUntil("the second caller to get the lease") { progress.acquired }
                #expect(!progress.waiting, "on SQLite the lease does not make a caller wait")
                await first.release()
            }
            holder = try await second.value
        } catch {
            second.cancel()
            await first.release()
            await (try? second.value)?.release()
            throw error
        }
        guard let holder else { return }
        if persistent {
            try await holder.advertise(url: "http://worker-\(tables.suffix):8080")
            let current = try await WorkerLease.current(store: store, project: project)
            #expect(current?.url == "http://worker-\(tables.suffix):8080", "the holder's URL is published to other stores")
        }
        await holder.release()
    }
}
