import Foundation
import StrataCore
import Synchronization

/// One `strata lake forget`: the user (by the SHA-256 of their id, so the list itself holds no
/// ids), the log offset below which their events are gone, who asked and when, and whether the
/// lake files have been rewritten without them yet.
public struct ForgetRecord: Sendable, Equatable {
    public var userHash: String
    /// Events of the user at offsets below this are excluded; later events are new data.
    public var throughOffset: Int64
    public var requestedAt: Int64
    public var requestedBy: String
    public var completed: Bool

    public var json: JSONValue {
        [
            "user_sha256": .string(userHash), "through_offset": .int(throughOffset), "requested_at": .string(EventTime.format(millis: requestedAt)),
            "requested_by": .string(requestedBy), "completed": .bool(completed),
        ]
    }

    init?(json: JSONValue) {
        guard let hash = json["user_sha256"]?.stringValue, let through = json["through_offset"]?.intValue,
            let at = json["requested_at"]?.stringValue.flatMap(EventTime.parse)
        else { return nil }
        self.init(
            userHash: hash, throughOffset: through, requestedAt: at, requestedBy: json["requested_by"]?.stringValue ?? "",
            completed: json["completed"]?.boolValue ?? false)
    }

    init(userHash: String, throughOffset: Int64, requestedAt: Int64, requestedBy: String, completed: Bool) {
        self.userHash = userHash
        self.throughOffset = throughOffset
        self.requestedAt = requestedAt
        self.requestedBy = requestedBy
        self.completed = completed
    }

    public static func hash(of userID: String) -> String { SHA256Hex.of("strata-user:\(userID)") }
}

/// The users whose events were forgotten: every reader of the log (compaction, the feature
/// store, the catalog) skips their events below the recorded offset, and compaction rewrites
/// the lake's current files without them. Kept in one file, rewritten atomically.
public final class ForgetList: Sendable {
    let path: String
    private let records: Mutex<[String: ForgetRecord]>

    public init(directory: DataDirectory) throws(StrataError) {
        path = "\(directory.lakeState)/forgotten.json"
        var loaded: [String: ForgetRecord] = [:]
        if let bytes = AtomicFile.read(path) {
            guard let json = try? JSONValue.parse(bytes: bytes), let entries = json["forgotten"]?.arrayValue else {
                throw StrataError.internal("the forget list \(path) is unreadable")
            }
            for record in entries.compactMap(ForgetRecord.init(json:)) { loaded[record.userHash] = record }
        }
        records = Mutex(loaded)
    }

    public var isEmpty: Bool { records.withLock { $0.isEmpty } }
    public var all: [ForgetRecord] { records.withLock { Array($0.values) }.sorted { $0.requestedAt < $1.requestedAt } }
    public var pending: [ForgetRecord] { all.filter { !$0.completed } }

    /// Whether `userID` was forgotten after `time` (a model trained before still knows them).
    public func forgot(userID: String, after time: Int64) -> Bool {
        guard !isEmpty else { return false }
        let hash = ForgetRecord.hash(of: userID)
        return records.withLock { $0[hash].map { $0.requestedAt > time } ?? false }
    }

    /// Whether an event is forgotten, for one pass over many events (hashes each user once).
    public func makeFilter() -> ForgetFilter { ForgetFilter(records: records.withLock { $0 }) }

    /// Durably records a forget (replacing an earlier one of the same user: the newer offset wins).
    public func record(_ record: ForgetRecord) throws(StrataError) {
        let updated = records.withLock { records in
            records[record.userHash] = record
            return records
        }
        try save(updated)
    }

    /// Marks every record up to `throughOffset` as applied to the lake files.
    public func markCompleted(hashes: Set<String>) throws(StrataError) {
        let updated = records.withLock { records in
            for hash in hashes { records[hash]?.completed = true }
            return records
        }
        try save(updated)
    }

    private func save(_ records: [String: ForgetRecord]) throws(StrataError) {
        let entries = records.values.sorted { ($0.requestedAt, $0.userHash) < ($1.requestedAt, $1.userHash) }.map(\.json)
        try AtomicFile.write(JSONValue.object(["format": 1, "forgotten": .array(entries)]).serializedBytes, to: path)
    }
}

/// Whether events are forgotten, for one scan over many: each user is hashed and looked up once.
public struct ForgetFilter {
    let records: [String: ForgetRecord]
    private var throughByUser: [String: Int64] = [:]

    init(records: [String: ForgetRecord]) { self.records = records }

    public mutating func excludes(userID: String?, offset: Int64) -> Bool {
        guard let userID, !records.isEmpty else { return false }
        if let through = throughByUser[userID] { return offset < through }
        let through = records[ForgetRecord.hash(of: userID)]?.throughOffset ?? Int64.min
        throughByUser[userID] = through
        return offset < through
    }
}
