import StrataCore

/// One lake snapshot read the ways its consumers need — training's interactions, the drift
/// baseline, point-in-time features, the re-ranker's training set — from its immutable files:
/// whole events of some types, or a few columns of each file; one file per thread.
public struct SnapshotReader: Sendable {
    public let manifest: SnapshotManifest
    /// The lake's root folder (the manifest's paths are relative to it).
    public let lakeRoot: String

    public init(manifest: SnapshotManifest, lakeRoot: String) {
        self.manifest = manifest
        self.lakeRoot = lakeRoot
    }

    /// The snapshot's files of the given event types, in the manifest's order.
    public func files(types: Set<String>) -> [LakeFile] { manifest.files.filter { types.contains($0.type) } }

    /// Where a file of the snapshot is on disk.
    public func path(of file: LakeFile) -> String { "\(lakeRoot)/\(file.path)" }

    /// Every event of `types` with its log offset, in the manifest's file order and log order
    /// within a file. With `users`, only their events are built; with `fields`, only those
    /// fields are decoded besides the envelope.
    public func events(types: Set<String>, users: Set<String>? = nil, fields: Set<String>? = nil, threads: Int = Parallel.coreCount) throws -> [(
        offset: Int64, event: Event
    )] {
        let files = files(types: types)
        return try Parallel.map(files.count, threads: threads) { index in
            try LakeFileReader.readWithOffsets(path: path(of: files[index]), type: files[index].type, users: users, fields: fields)
        }.flatMap { $0 }
    }

    /// `transform` of the named columns of each file of `types`, in the manifest's order, one
    /// file per thread: for readers that need a few columns of millions of rows, not events.
    public func columns<T: Sendable>(
        types: Set<String>, _ names: Set<String>, threads: Int = Parallel.coreCount, _ transform: @Sendable (LakeFile, LakeColumns) throws -> T
    ) throws -> [T] {
        let files = files(types: types)
        return try Parallel.map(files.count, threads: threads) { index in
            try transform(files[index], try LakeColumns(path: path(of: files[index]), columns: names))
        }
    }
}
