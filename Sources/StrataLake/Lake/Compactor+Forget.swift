import Foundation
import StrataCore

/// What forgetting a user did to the lake.
public struct ForgetOutcome: Sendable {
    public var record: ForgetRecord
    /// Current lake files rewritten without the user's events (nil: nothing else was in it).
    public var replaced: [(old: LakeFile, new: LakeFile?)]
    public var removedEvents: Int
    /// Snapshots that still hold the user's events: immutable, so listed rather than changed.
    public var affectedSnapshots: [String]

    public var json: JSONValue {
        [
            "user_sha256": .string(record.userHash), "through_offset": .int(record.throughOffset), "removed_events": .int(removedEvents),
            "rewritten_files": .array(
                replaced.map { ["old": .string($0.old.path), "new": $0.new.map { .string($0.path) } ?? .null, "rows": .int($0.new?.rows ?? 0)] }),
            "affected_snapshots": .array(affectedSnapshots.map(JSONValue.string)),
        ]
    }
}

extension Compactor {
    /// Removes every event of `userID` acknowledged so far from the lake's current files, so
    /// that no later snapshot holds them, and records the forget so that every reader of the
    /// log skips them from now on. Older snapshots are immutable: they are listed, and keep
    /// their files.
    public func forget(userID: String, requestedBy: String) async throws -> ForgetOutcome {
        // Everything acknowledged so far goes into files first, so the rewrite below sees it.
        try await compact(force: true)
        let record = ForgetRecord(
            userHash: ForgetRecord.hash(of: userID), throughOffset: state.compactedThrough, requestedAt: clock.nowMillis(), requestedBy: requestedBy,
            completed: false)
        try forgets.record(record)
        let purge = try purgeForgotten()
        let replacedPaths = Set(purge.replaced.map(\.old.path))
        let affected = purge.manifests.filter { $0.manifest.files.contains { replacedPaths.contains($0.path) } }.map(\.version)
        logger.info(
            "forgot a user's events", metadata: ["user_sha256": "\(record.userHash)", "removed": "\(purge.removed)", "affected_snapshots": "\(affected.count)"])
        var completed = record
        completed.completed = true
        return ForgetOutcome(record: completed, replaced: purge.replaced, removedEvents: purge.removed, affectedSnapshots: affected)
    }

    /// Rewrites each current file that holds forgotten events without them, commits the new
    /// file list, then deletes the replaced files no snapshot names. A crash before the commit
    /// leaves the old list (the record stays pending and this runs again); after it, the
    /// replaced files are uncommitted and removed at the next start unless a snapshot names them.
    func purgeForgotten() throws -> (
        replaced: [(old: LakeFile, new: LakeFile?)], removed: Int, manifests: [(version: String, manifest: SnapshotManifest)]
    ) {
        let pending = forgets.pending
        var filter = forgets.makeFilter()
        var replaced: [(old: LakeFile, new: LakeFile?)] = []
        var removed = 0
        var files: [LakeFile] = []
        for file in state.files {
            let events = try LakeFileReader.readWithOffsets(path: "\(directory.lake)/\(file.path)", type: file.type)
            let kept = events.filter { !filter.excludes(userID: $0.event.userID, offset: $0.offset) }
            guard kept.count < events.count else {
                files.append(file)
                continue
            }
            removed += events.count - kept.count
            let schema = contract.storedSchema(for: file.type) ?? EventTypeSchema(name: file.type, fields: [])
            let rewritten = kept.isEmpty ? nil : try write(kept, schema: schema, date: file.date)
            if let rewritten { files.append(rewritten) }
            replaced.append((file, rewritten))
        }
        if !replaced.isEmpty {
            state.files = files
            try state.save(path: statePath)
        }
        let manifests = try snapshots.allManifests()
        let named = Set(manifests.flatMap { $0.manifest.files.map(\.path) })
        for (old, _) in replaced where !named.contains(old.path) { unlink("\(directory.lake)/\(old.path)") }
        try forgets.markCompleted(hashes: Set(pending.map(\.userHash)))
        return (replaced, removed, manifests)
    }
}
