import Foundation
import StrataCore
import StrataLake
import Synchronization

/// The batch job's durable record of the lists it computed for one model version, in the data
/// directory (`serving/precompute/NAME@VERSION.lists`): appended a chunk at a time while a run
/// goes, so a run killed half-way resumes without redoing the users it finished, and rewritten
/// to the published table when a run ends, so the next run keeps every list still fresh (and a
/// restarted server publishes it at once instead of recomputing it).
///
/// Records are framed like the log's (`[u32 length][u32 CRC-32C][payload]`); the first names
/// the version's artifact and catalogue size, so a file left by another registry is ignored. A
/// torn tail — the chunk being written when the process died — is dropped on load.
struct PrecomputeCheckpoint: Sendable {
    /// One write at a time to any checkpoint: a run's rewrite and a forget's (read, drop, rewrite)
    /// each replace the file through the same temporary name, and an append landing between a
    /// forget's read and its rename would be lost with the old file.
    private static let writes = Mutex(())

    let path: String
    let artifact: String
    let itemCount: Int

    init(directory: String, model: ServedModel) {
        path = "\(directory)/\(Self.fileName(model.key))"
        artifact = model.version.artifactHash
        itemCount = model.itemCount
    }

    private init(path: String, artifact: String, itemCount: Int) {
        self.path = path
        self.artifact = artifact
        self.itemCount = itemCount
    }

    /// The checkpoint of a version by its key, as its file's first record describes it.
    static func existing(directory: String, key: String) -> PrecomputeCheckpoint? {
        let path = "\(directory)/\(fileName(key))"
        var found: PrecomputeCheckpoint?
        FramedFile.forEachIntact(path) { payload in
            var reader = PayloadReader(payload)
            if let artifact = try? reader.string(), let items = try? reader.int64LE() {
                found = PrecomputeCheckpoint(path: path, artifact: artifact, itemCount: Int(items))
            }
            return false
        }
        return found
    }

    /// Drops a forgotten user's list from the checkpoints of `keys` (rewriting only the files
    /// that hold one): a restart must not bring it back, nor keep it on disk.
    static func forget(user: String, directory: String, keys: Set<String>) throws {
        try writes.withLock { _ in
            for key in keys {
                guard let checkpoint = existing(directory: directory, key: key) else { continue }
                var lists = checkpoint.load()
                guard lists.removeValue(forKey: user) != nil else { continue }
                try checkpoint.replace(with: lists)
            }
        }
    }

    static func fileName(_ key: String) -> String {
        String(key.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "@" ? $0 : "_" }) + ".lists"
    }

    /// The lists recorded for this version (empty when there is no usable file); a torn tail
    /// ends them.
    func load() -> [String: CachedList] {
        var lists: [String: CachedList] = [:]
        var first = true
        var usable = true
        FramedFile.forEachIntact(path) { payload in
            var reader = PayloadReader(payload)
            if first {
                first = false
                usable = (try? reader.string()) == artifact && (try? reader.int64LE()) == Int64(itemCount)
                return usable
            }
            while !reader.isAtEnd, let (user, list) = try? Self.decodeList(&reader, itemCount: itemCount) { lists[user] = list }
            return true
        }
        return usable ? lists : [:]
    }

    /// Appends lists computed by a run and makes them durable.
    func append(_ lists: [(user: String, list: CachedList)]) throws {
        var batch = FramedBatch()
        if !FileManager.default.fileExists(atPath: path) { batch.append(payload: header) }
        batch.append(payload: Self.encode(lists[...]))
        try Self.writes.withLock { _ in try Self.write(to: path, append: true) { try $0(batch.bytes) } }
    }

    /// Replaces the file with exactly `table` (written beside it, then renamed into place).
    func rewrite(_ table: [String: CachedList]) throws {
        try Self.writes.withLock { _ in try replace(with: table) }
    }

    private func replace(with table: [String: CachedList]) throws {
        let temporary = "\(path).tmp"
        let entries = table.map { (user: $0.key, list: $0.value) }
        try Self.write(to: temporary, append: false) { emit in
            var head = FramedBatch()
            head.append(payload: header)
            try emit(head.bytes)
            // A record per 1,024 lists: the file is written a piece at a time, never held whole.
            for start in stride(from: 0, to: entries.count, by: 1024) {
                var chunk = FramedBatch()
                chunk.append(payload: Self.encode(entries[start..<min(entries.count, start + 1024)]))
                try emit(chunk.bytes)
            }
        }
        guard rename(temporary, path) == 0 else { throw StrataError(.unavailable, code: "precompute_checkpoint", "cannot rename \(temporary): errno \(errno)") }
    }

    /// Removes the files of versions not in `keep` (their tables are gone from the cache too).
    static func retain(directory: String, keep: Set<String>) {
        let kept = Set(keep.map(fileName))
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where !kept.contains(name) {
            try? FileManager.default.removeItem(atPath: "\(directory)/\(name)")
        }
    }

    private var header: [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendLengthPrefixed(artifact)
        bytes.appendInt64LE(Int64(itemCount))
        return bytes
    }

    /// `[varint-prefixed user][i64 computed at][varint n][n × u32 item][n × f32 score]` per list.
    static func encode(_ lists: ArraySlice<(user: String, list: CachedList)>) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(lists.count * (32 + 8 * (lists.first?.list.items.count ?? 0)))
        for (user, list) in lists {
            bytes.appendLengthPrefixed(user)
            bytes.appendInt64LE(list.computedAt)
            bytes.appendVarint(UInt64(list.items.count))
            for item in list.items { bytes.appendUInt32LE(UInt32(bitPattern: item)) }
            for score in list.scores { bytes.appendUInt32LE(score.bitPattern) }
        }
        return bytes
    }

    static func decodeList(_ reader: inout PayloadReader, itemCount: Int) throws(LogDecodeError) -> (String, CachedList) {
        let user = try reader.string()
        let computedAt = try reader.int64LE()
        let n = Int(try reader.varint())
        guard n <= 1000 else { throw LogDecodeError(message: "a list of \(n) items") }
        var items: [Int32] = []
        var scores: [Float] = []
        items.reserveCapacity(n)
        scores.reserveCapacity(n)
        for _ in 0..<n {
            let item = Int32(bitPattern: try reader.uint32LE())
            guard item >= 0, Int(item) < itemCount else { throw LogDecodeError(message: "item \(item) beyond the catalogue") }
            items.append(item)
        }
        for _ in 0..<n { scores.append(Float(bitPattern: try reader.uint32LE())) }
        return (user, CachedList(items: items, scores: scores, computedAt: computedAt))
    }

    /// Writes and fsyncs (a checkpointed list is one a restarted run need not compute again).
    static func write(to path: String, append: Bool, _ produce: (_ emit: ([UInt8]) throws -> Void) throws -> Void) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0o644)
        guard fd >= 0 else { throw StrataError(.unavailable, code: "precompute_checkpoint", "cannot open \(path): errno \(errno)") }
        defer { close(fd) }
        try produce { bytes in
            var written = 0
            while written < bytes.count {
                let result = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + written, $0.count - written) }
                if result < 0 && errno == EINTR { continue }
                guard result > 0 else { throw StrataError(.unavailable, code: "precompute_checkpoint", "cannot write \(path): errno \(errno)") }
                written += result
            }
        }
        guard fsync(fd) == 0 else { throw StrataError(.unavailable, code: "precompute_checkpoint", "cannot sync \(path): errno \(errno)") }
    }
}
