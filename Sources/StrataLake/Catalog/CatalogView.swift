import Foundation
import Logging
import ServiceLifecycle
import StrataCore
import Synchronization

/// The current state of one catalog entry (an item or a user).
public struct CatalogEntry: Sendable, Equatable {
    public var id: String
    public var properties: [String: FieldValue]
    public var hidden: Bool
    /// Event time of the change that produced this state.
    public var updatedAt: Int64
    /// Log offset of that change.
    public var offset: Int64

    /// Whether this entry may be recommended.
    public var isRecommendable: Bool { !hidden }

    public var json: JSONValue {
        var properties: [String: JSONValue] = [:]
        for (name, value) in self.properties { properties[name] = value.jsonValue }
        return [
            "id": .string(id), "properties": .object(properties), "hidden": .bool(hidden), "updated_at": .string(EventTime.format(millis: updatedAt)),
            "offset": .int(offset),
        ]
    }
}

public enum CatalogKind: String, Sendable {
    case item, user

    public var eventType: String { self == .item ? CatalogEventType.item : CatalogEventType.user }
}

/// The catalog materialised from catalog events in the log: tails the log, keeps the latest
/// state of every item and user in memory, and checkpoints to disk so that a restart replays
/// only the log's tail.
public final class CatalogView: Service, LogConsumer, Sendable {
    public let consumerName = "catalog"
    struct Stamp: Sendable {
        var updatedAt: Int64
        var offset: Int64
    }

    struct State {
        var items: [String: CatalogEntry] = [:]
        var users: [String: CatalogEntry] = [:]
        /// Deleted entries by "kind:id", with the (event time, offset) of the deletion: a late
        /// upsert older than the deletion does not bring the entry back, and a deleted item is
        /// never recommended (an item the catalog never heard of may be).
        var deleted: [String: Stamp] = [:]
        var appliedThrough: Int64 = 0
        /// Bumped whenever an entry changes (readers that mirror the catalog rebuild on it).
        var revision: Int64 = 0
        /// The offset the checkpoint on disk covers.
        var checkpointedThrough: Int64 = 0
        var waiters: [(offset: Int64, continuation: CheckedContinuation<Void, Never>)] = []
    }

    let events: EventStream
    let path: String
    let logger: Logger
    let forgets: ForgetList
    private let state: Mutex<State>
    /// Serialises catch-ups (the tailer's and read-your-writes callers'), so each applies a
    /// range once, in order.
    private let catchingUp = Mutex(())

    public init(events: EventStream, directory: DataDirectory, forgets: ForgetList, logger: Logger) throws {
        self.events = events
        self.path = "\(directory.catalog)/checkpoint.log"
        self.logger = logger
        self.forgets = forgets
        var restored = try Self.loadCheckpoint(path)
        // A checkpoint written before a forget completed may still hold the user.
        var forgotten = forgets.makeFilter()
        restored.users = restored.users.filter { !forgotten.excludes(userID: $0.key, offset: $0.value.offset) }
        restored.deleted = restored.deleted.filter { key, stamp in
            !key.hasPrefix("user:") || !forgotten.excludes(userID: String(key.dropFirst(5)), offset: stamp.offset)
        }
        self.state = Mutex(restored)
        try catchUp()
    }

    /// Drops a forgotten user's entry and writes a checkpoint without it.
    public func forget(userID: String) throws {
        try catchUp()
        var forgotten = forgets.makeFilter()
        let removed = state.withLock { s in
            if let deletion = s.deleted["user:" + userID], forgotten.excludes(userID: userID, offset: deletion.offset) {
                s.deleted["user:" + userID] = nil
                return true
            }
            guard let entry = s.users[userID], forgotten.excludes(userID: userID, offset: entry.offset) else { return false }
            s.users[userID] = nil
            s.revision += 1
            return true
        }
        if removed { try checkpoint() }
    }

    // MARK: - Reading

    public func item(_ id: String) -> CatalogEntry? { state.withLock { $0.items[id] } }
    public func user(_ id: String) -> CatalogEntry? { state.withLock { $0.users[id] } }
    public func entry(_ kind: CatalogKind, id: String) -> CatalogEntry? { kind == .item ? item(id) : user(id) }
    public var itemCount: Int { state.withLock { $0.items.count } }

    /// What serving needs to know of each of `ids`: its entry; a hidden entry without properties
    /// for a deleted item (never recommended); nil for an item the catalog never heard of
    /// (recommendable, but it passes no business filter). One lock for the whole list.
    public func itemsForServing(_ ids: [String]) -> [CatalogEntry?] {
        state.withLock { s in
            ids.map { id in
                if let entry = s.items[id] { return entry }
                guard let stamp = s.deleted["item:" + id] else { return nil }
                return CatalogEntry(id: id, properties: [:], hidden: true, updatedAt: stamp.updatedAt, offset: stamp.offset)
            }
        }
    }
    public var userCount: Int { state.withLock { $0.users.count } }
    public var appliedThrough: Int64 { state.withLock { $0.appliedThrough } }
    /// Changes whenever an entry changes (not merely when other events are applied).
    public var revision: Int64 { state.withLock { $0.revision } }
    /// The offset the checkpoint on disk covers: a restart replays the log from here.
    public var checkpointedThrough: Int64 { state.withLock { $0.checkpointedThrough } }

    /// Items that may be recommended (neither hidden nor deleted).
    public func recommendableItemIDs() -> [String] {
        state.withLock { $0.items.values.filter(\.isRecommendable).map(\.id) }
    }

    /// Applies the log up to at least `offset` now, on the caller's task (read-your-writes for
    /// the catalog API, whether or not the tailing service runs).
    public func applyThrough(_ offset: Int64) throws {
        if appliedThrough < offset { try catchUp() }
    }

    /// Returns once every log record below `offset` has been applied.
    public func waitUntilApplied(through offset: Int64) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { s -> Bool in
                if s.appliedThrough >= offset { return true }
                s.waiters.append((offset, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    // MARK: - Tailing

    /// Tails the log until graceful shutdown (the lake checkpoints it when it closes).
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try self.catchUp()
                } catch {
                    self.logger.error("catalog view could not read the log", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                }
                await self.events.waitForEvents(from: self.appliedThrough)
            }
        }
    }

    /// Applies every durable record not yet applied.
    public func catchUp() throws {
        try catchingUp.withLock { _ in try applyPending() }
    }

    private func applyPending() throws {
        var changes: [(CatalogKind, CatalogEntry?, String, Int64, Int64)] = []
        // Catalog events only (others are skipped undecoded); from the lake's files when the
        // checkpoint is older than the log's start.
        let end = try events.replay(from: appliedThrough, types: [CatalogEventType.item, CatalogEventType.user]) { offset, event in
            let kind: CatalogKind = event.type == CatalogEventType.item ? .item : .user
            guard let id = kind == .item ? event.itemID : event.userID else { return }
            if event[field: "deleted"]?.boolValue == true {
                changes.append((kind, nil, id, event.timestamp, offset))
            } else {
                var properties: [String: FieldValue] = [:]
                for (name, value) in event.fields where !["item_id", "hidden", "deleted"].contains(name) { properties[name] = value }
                let entry = CatalogEntry(
                    id: id, properties: properties, hidden: event[field: "hidden"]?.boolValue ?? false, updatedAt: event.timestamp, offset: offset)
                changes.append((kind, entry, id, event.timestamp, offset))
            }
        }
        let ready = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            for (kind, entry, id, time, changeOffset) in changes {
                let key = "\(kind.rawValue):\(id)"
                let current = (kind == .item ? s.items[id] : s.users[id]).map { Stamp(updatedAt: $0.updatedAt, offset: $0.offset) } ?? s.deleted[key]
                // Last writer wins by (event time, offset), so late catalog events do not undo
                // newer ones (deletions included).
                let offset = entry?.offset ?? changeOffset
                if let current, (current.updatedAt, current.offset) > (time, offset) { continue }
                if kind == .item { s.items[id] = entry } else { s.users[id] = entry }
                s.deleted[key] = entry == nil ? Stamp(updatedAt: time, offset: offset) : nil
            }
            if !changes.isEmpty { s.revision += 1 }
            s.appliedThrough = max(s.appliedThrough, end)
            var ready: [CheckedContinuation<Void, Never>] = []
            s.waiters.removeAll { waiter in
                if waiter.offset <= s.appliedThrough {
                    ready.append(waiter.continuation)
                    return true
                }
                return false
            }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }

    // MARK: - Checkpoints

    /// Writes the current state to disk; returns the log offset it covers (log retention
    /// keeps everything after it).
    @discardableResult
    public func checkpoint() throws -> Int64 {
        let (entries, deletions, through) = state.withLock { s in
            (s.items.values.map { (CatalogKind.item, $0) } + s.users.values.map { (CatalogKind.user, $0) }, s.deleted, s.appliedThrough)
        }
        var batch = FramedBatch()
        let header: JSONValue = ["format": 1, "applied_through": .int(through)]
        batch.append(payload: header.serializedBytes)
        for (kind, entry) in entries.sorted(by: { ($0.0.rawValue, $0.1.id) < ($1.0.rawValue, $1.1.id) }) {
            var fields: [(name: String, value: FieldValue)] = entry.properties.keys.sorted().map { ($0, entry.properties[$0]!) }
            if kind == .item { fields.insert(("item_id", .string(entry.id)), at: 0) }
            fields.append(("hidden", .bool(entry.hidden)))
            let event = Event(
                type: kind.eventType, userID: kind == .user ? entry.id : nil, timestamp: entry.updatedAt, ingestedAt: entry.offset, fields: fields)
            EventCodec.append(event, to: &batch)
        }
        for (key, stamp) in deletions.sorted(by: { $0.key < $1.key }) {
            guard let colon = key.firstIndex(of: ":"), let kind = CatalogKind(rawValue: String(key[..<colon])) else { continue }
            let id = String(key[key.index(after: colon)...])
            let event = Event(
                type: kind.eventType, userID: kind == .user ? id : nil, timestamp: stamp.updatedAt, ingestedAt: stamp.offset,
                fields: (kind == .item ? [("item_id", .string(id))] : []) + [("deleted", .bool(true))])
            EventCodec.append(event, to: &batch)
        }
        try AtomicFile.write(batch.bytes, to: path)
        state.withLock { $0.checkpointedThrough = max($0.checkpointedThrough, through) }
        return through
    }

    static func loadCheckpoint(_ path: String) throws -> State {
        var state = State()
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return state }
        defer { close(fd) }
        var info = stat()
        fstat(fd, &info)
        var reader = SegmentFileReader(fd: fd, fileSize: Int(info.st_size), position: 0)
        var header = true
        var status = SegmentFileReader.Status.record
        while status == .record {
            status = try reader.next { payload in
                if header {
                    header = false
                    state.appliedThrough = try JSONValue.parse(payload)["applied_through"]?.intValue ?? 0
                    state.checkpointedThrough = state.appliedThrough
                    return
                }
                let event = try EventCodec.decode(payload)
                let isItem = event.type == CatalogEventType.item
                if event[field: "deleted"]?.boolValue == true {
                    let id = (isItem ? event.itemID : event.userID) ?? ""
                    state.deleted["\(isItem ? CatalogKind.item.rawValue : CatalogKind.user.rawValue):\(id)"] = Stamp(
                        updatedAt: event.timestamp, offset: event.ingestedAt)
                    return
                }
                var properties: [String: FieldValue] = [:]
                for (name, value) in event.fields where name != "item_id" && name != "hidden" { properties[name] = value }
                let entry = CatalogEntry(
                    id: (isItem ? event.itemID : event.userID) ?? "", properties: properties, hidden: event[field: "hidden"]?.boolValue ?? false,
                    updatedAt: event.timestamp, offset: event.ingestedAt)
                if isItem { state.items[entry.id] = entry } else { state.users[entry.id] = entry }
            }
        }
        guard status == .end else { throw StrataError.internal("the catalog checkpoint \(path) is damaged; delete it to rebuild from the log") }
        return state
    }
}
