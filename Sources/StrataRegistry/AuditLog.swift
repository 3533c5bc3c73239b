import Foundation
import SQLKit
import StrataCore
import StrataMetadata
import Synchronization

/// One audited access or change.
public struct AuditEntry: Sendable, Equatable {
    public var seq: Int64
    public var at: Int64
    public var principal: String
    public var action: String
    public var target: String
    /// `ok`, `denied`, `rejected` or `failed`.
    public var outcome: String
    public var detail: String
    public var previousHash: String
    public var hash: String

    /// What the hash covers: every field but the hash itself, in a fixed order.
    var chainedBytes: [UInt8] {
        let fields: [JSONValue] = [
            .int(seq), .int(at), .string(principal), .string(action), .string(target), .string(outcome), .string(detail), .string(previousHash),
        ]
        return JSONValue.array(fields).serializedBytes
    }

    public var json: JSONValue {
        [
            "seq": .int(seq), "at": .string(EventTime.format(millis: at)), "principal": .string(principal), "action": .string(action),
            "target": .string(target), "outcome": .string(outcome), "detail": .string(detail), "hash": .string(hash),
        ]
    }
}

/// The audit log: append-only and hash-chained (each entry's hash covers the previous hash), so
/// an edited, removed or reordered entry breaks the chain where it happened; the chain's head
/// is also recorded outside the database (`AuditAnchor`), so removing the newest entries shows.
/// Changes are written with `append`, which returns once the entry is durable (callers
/// acknowledge a change only after it); accesses from hot paths (ingest, feature reads) and
/// refusals are queued with `record` and written in batches; `flush()` writes them, and the
/// server flushes once more at shutdown, after its last request.
public final class AuditLog: Sendable {
    static let genesis = String(repeating: "0", count: 64)
    let store: MetadataStore
    let clock: any WallClock
    let anchor: AuditAnchor?
    private let pending = Mutex<[(principal: String, action: String, target: String, outcome: String, detail: String, at: Int64)]>([])

    public init(store: MetadataStore, clock: any WallClock = SystemClock(), anchor: AuditAnchor? = nil) {
        self.store = store
        self.clock = clock
        self.anchor = anchor
    }

    /// Queues an entry (written by the next `flush()`).
    public func record(principal: String, action: String, target: String, outcome: String = "ok", detail: String = "") {
        let at = clock.nowMillis()
        pending.withLock { $0.append((principal, action, target, outcome, detail, at)) }
    }

    /// Appends an entry now.
    public func append(principal: String, action: String, target: String, outcome: String = "ok", detail: String = "") async throws {
        record(principal: principal, action: action, target: target, outcome: outcome, detail: detail)
        try await flush()
    }

    /// Writes every queued entry, chained, in one transaction.
    public func flush() async throws {
        let batch = pending.withLock { queue in
            defer { queue.removeAll() }
            return queue
        }
        guard !batch.isEmpty else { return }
        let head: (seq: Int64, hash: String)
        do {
            head = try await store.transaction { db -> (seq: Int64, hash: String) in
                let last = try await db.raw("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").first()
                var seq = try last?.decode(column: "seq", as: Int64.self) ?? 0
                var previous = try last?.decode(column: "hash", as: String.self) ?? Self.genesis
                for item in batch {
                    seq += 1
                    var entry = AuditEntry(
                        seq: seq, at: item.at, principal: item.principal, action: item.action, target: item.target, outcome: item.outcome, detail: item.detail,
                        previousHash: previous, hash: "")
                    entry.hash = SHA256Hex.of(entry.chainedBytes)
                    try await db.raw(
                        """
                        INSERT INTO audit_log (seq, at, principal, action, target, outcome, detail, previous_hash, hash) VALUES
                        (\(bind: entry.seq), \(bind: entry.at), \(bind: entry.principal), \(bind: entry.action), \(bind: entry.target),
                         \(bind: entry.outcome), \(bind: entry.detail), \(bind: entry.previousHash), \(bind: entry.hash))
                        """
                    ).run()
                    previous = entry.hash
                }
                return (seq, previous)
            }
        } catch {
            // Keep the entries for the next attempt rather than lose them.
            pending.withLock { $0.insert(contentsOf: batch, at: 0) }
            throw error
        }
        // The entries are durable; the head outside the database follows them.
        try anchor?.record(seq: head.seq, hash: head.hash)
    }

    /// Entries matching the filters, oldest first.
    public func list(
        principal: String? = nil, action: String? = nil, from: Int64? = nil, to: Int64? = nil, limit: Int = 1000, newestFirst: Bool = false
    ) async throws -> [AuditEntry] {
        try await flush()
        return try await store.read { db in
            var query = SQLQueryString("SELECT * FROM audit_log WHERE 1 = 1")
            if let principal {
                query.appendInterpolation(unsafeRaw: " AND principal = ")
                query.appendInterpolation(bind: principal)
            }
            if let action {
                query.appendInterpolation(unsafeRaw: " AND action = ")
                query.appendInterpolation(bind: action)
            }
            if let from {
                query.appendInterpolation(unsafeRaw: " AND at >= ")
                query.appendInterpolation(bind: from)
            }
            if let to {
                query.appendInterpolation(unsafeRaw: " AND at < ")
                query.appendInterpolation(bind: to)
            }
            query.appendInterpolation(unsafeRaw: " ORDER BY seq\(newestFirst ? " DESC" : "") LIMIT \(max(1, limit))")
            return try await db.raw(query).all().map(Self.entry)
        }
    }

    /// What `verify` found.
    public struct Verification: Sendable {
        public var entries = 0
        /// The first break: the entry's seq and what is wrong.
        public var problem: (seq: Int64, message: String)?
        public var isIntact: Bool { problem == nil }
    }

    /// Walks the whole chain: each entry's hash must be the hash of its content, link to the
    /// previous entry's hash, and follow it in sequence; and the chain must still hold the head
    /// recorded outside the database (`AuditAnchor`): otherwise newest entries were removed, or
    /// the chain was rewritten.
    public func verify() async throws -> Verification {
        try await flush()
        let entries = try await store.read { db in try await db.raw("SELECT * FROM audit_log ORDER BY seq").all().map(Self.entry) }
        var result = Verification()
        var previous = Self.genesis
        var expectedSeq: Int64 = 1
        for entry in entries {
            result.entries += 1
            if entry.seq != expectedSeq {
                result.problem = (
                    entry.seq, entry.seq > expectedSeq ? "entries \(expectedSeq)–\(entry.seq - 1) are missing" : "entry \(entry.seq) is out of order"
                )
                return result
            }
            if SHA256Hex.of(entry.chainedBytes) != entry.hash {
                result.problem = (entry.seq, "entry \(entry.seq) was edited: its content no longer matches its hash")
                return result
            }
            if entry.previousHash != previous {
                result.problem = (entry.seq, "entry \(entry.seq) does not follow entry \(entry.seq - 1): an entry before it was removed, replaced or reordered")
                return result
            }
            previous = entry.hash
            expectedSeq += 1
        }
        if let head = try anchor?.highest() {
            if let entry = entries.first(where: { $0.seq == head.seq }) {
                if entry.hash != head.hash {
                    result.problem = (
                        head.seq,
                        "entry \(head.seq) is not the one written: its hash differs from the head recorded in \(anchor!.path) (the chain was rewritten)"
                    )
                }
            } else {
                result.problem = (
                    head.seq,
                    "entries \(expectedSeq)–\(head.seq) are missing: the log ends at \(expectedSeq - 1), but \(anchor!.path) records entry \(head.seq) as written (the newest entries were removed)"
                )
            }
        }
        return result
    }

    static func entry(_ row: any SQLRow) throws -> AuditEntry {
        AuditEntry(
            seq: try row.decode(column: "seq", as: Int64.self), at: try row.decode(column: "at", as: Int64.self),
            principal: try row.decode(column: "principal", as: String.self), action: try row.decode(column: "action", as: String.self),
            target: try row.decode(column: "target", as: String.self), outcome: try row.decode(column: "outcome", as: String.self),
            detail: try row.decode(column: "detail", as: String.self), previousHash: try row.decode(column: "previous_hash", as: String.self),
            hash: try row.decode(column: "hash", as: String.self))
    }
}
