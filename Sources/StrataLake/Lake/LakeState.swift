import Foundation
import StrataCore

/// What compaction has committed: the log offset it has covered and every lake file it wrote.
/// Rewritten atomically after each compacted segment, so a crash leaves the old state or the
/// new, and a file written before a crash but not yet committed is simply written again (same
/// content, same name).
public struct LakeState: Sendable, Equatable {
    /// Every record below this offset is in a committed lake file.
    public var compactedThrough: Int64 = 0
    public var files: [LakeFile] = []

    public var json: JSONValue {
        ["format": 1, "compacted_through": .int(compactedThrough), "files": .array(files.map(\.json))]
    }

    static func load(path: String) throws(StrataError) -> LakeState {
        guard let bytes = AtomicFile.read(path) else { return LakeState() }
        guard let json = try? JSONValue.parse(bytes: bytes), let through = json["compacted_through"]?.intValue, let files = json["files"]?.arrayValue else {
            throw StrataError.internal("the lake state \(path) is unreadable")
        }
        return LakeState(compactedThrough: through, files: files.compactMap(LakeFile.init(json:)))
    }

    func save(path: String) throws(StrataError) {
        try AtomicFile.write(json.serialized, to: path)
    }
}
