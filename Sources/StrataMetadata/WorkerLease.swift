import Foundation
import Logging
import SQLKit
import StrataCore

/// The right to be a project's worker (compaction, training, the batch job, monitoring): one
/// process at a time holds it. On PostgreSQL it is a session-level advisory lock held by a
/// connection of its own, so a worker that dies (even by SIGKILL) loses it with its connection
/// and a standby takes over at its next attempt. The holder publishes the URL API replicas
/// forward to. On SQLite (one machine) the data folder's lock already admits one process.
public final class WorkerLease: Sendable {
    let store: MetadataStore
    public let project: String

    init(store: MetadataStore, project: String) {
        self.store = store
        self.project = project
    }

    /// Waits until this process holds the lease (trying every `retry`), then returns it.
    /// `onWaiting` runs once, when another process holds it.
    public static func acquire(
        url: String, defaultSQLitePath: String, project: String, retry: Duration = .seconds(1), logger: Logger, onWaiting: @Sendable () -> Void = {}
    ) async throws -> WorkerLease {
        // Its session holds the lock: a lost connection must stay lost (no silent reconnect).
        let store = try await MetadataStore.open(url: url, defaultSQLitePath: defaultSQLitePath, reconnects: false, logger: logger)
        guard store.dialect == .postgres else { return WorkerLease(store: store, project: project) }
        var waiting = false
        while true {
            let held = try await store.read { db in
                try await db.raw("SELECT pg_try_advisory_lock(hashtext(\(bind: "strata-worker:" + project))) AS held").first()?.decode(
                    column: "held", as: Bool.self)
            }
            if held == true { return WorkerLease(store: store, project: project) }
            if !waiting {
                waiting = true
                onWaiting()
            }
            do {
                try await Task.sleep(for: retry)
            } catch {
                await store.close()
                throw error
            }
        }
    }

    /// Publishes where API replicas reach this worker.
    public func advertise(url: String, clock: any WallClock = SystemClock()) async throws {
        let host = ProcessInfo.processInfo.hostName
        let project = self.project
        try await store.read { db in
            try await db.raw(
                """
                INSERT INTO cluster_workers (project, url, host, since) VALUES (\(bind: project), \(bind: url), \(bind: host), \(bind: clock.nowMillis()))
                ON CONFLICT (project) DO UPDATE SET url = excluded.url, host = excluded.host, since = excluded.since
                """
            ).run()
        }
    }

    /// Returns when the lease is lost: its connection stopped answering (the database went away,
    /// or the session was terminated). Checked every `interval`.
    public func watch(every interval: Duration = .seconds(1)) async {
        guard store.dialect == .postgres else {
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            return
        }
        var failures = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            guard !Task.isCancelled else { return }
            do {
                _ = try await store.read { db in try await db.raw("SELECT 1 AS one").first() }
                failures = 0
            } catch {
                failures += 1
                // A broken connection has already released the lock on the server's side.
                if failures >= 2 { return }
            }
        }
    }

    /// Gives the lease up (graceful shutdown): a standby takes over at once.
    public func release() async {
        await store.close()
    }

    /// The worker API replicas forward to: its URL and since when it holds the lease.
    public static func current(store: MetadataStore, project: String) async throws -> (url: String, since: Int64)? {
        try await store.read { db in
            guard let row = try await db.raw("SELECT url, since FROM cluster_workers WHERE project = \(bind: project)").first() else { return nil }
            return (try row.decode(column: "url", as: String.self), try row.decode(column: "since", as: Int64.self))
        }
    }
}
