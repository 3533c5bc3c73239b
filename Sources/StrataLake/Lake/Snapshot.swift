import Foundation
import StrataCore

/// An immutable dataset: the list of lake files (by content hash) and the contract version.
/// The SHA-256 of its canonical JSON is the *data version* that training runs record; the
/// manifest file holds exactly those bytes, so `sha256sum` of the file equals its name.
public struct SnapshotManifest: Sendable, Equatable {
    public var project: String
    public var contractVersion: String
    public var files: [LakeFile]

    public var rows: Int { files.reduce(0) { $0 + $1.rows } }

    public var json: JSONValue {
        [
            "format": 1, "project": .string(project), "contract_version": .string(contractVersion),
            "files": .array(files.sorted { $0.path < $1.path }.map(\.json)),
        ]
    }

    public var canonicalBytes: [UInt8] { json.serializedBytes }

    /// The data version.
    public var version: String { SHA256Hex.of(canonicalBytes) }

    public init(project: String, contractVersion: String, files: [LakeFile]) {
        self.project = project
        self.contractVersion = contractVersion
        self.files = files.sorted { $0.path < $1.path }
    }

    public init?(json: JSONValue) {
        guard let project = json["project"]?.stringValue, let contract = json["contract_version"]?.stringValue, let files = json["files"]?.arrayValue else {
            return nil
        }
        self.init(project: project, contractVersion: contract, files: files.compactMap(LakeFile.init(json:)))
    }
}

/// A snapshot as listed: its version, when it was first taken and its size.
public struct SnapshotSummary: Sendable, Equatable {
    public var version: String
    public var createdAt: Int64
    public var rows: Int
    public var files: Int
    public var contractVersion: String

    public var json: JSONValue {
        [
            "version": .string(version), "created_at": .string(EventTime.format(millis: createdAt)), "rows": .int(rows), "files": .int(files),
            "contract_version": .string(contractVersion),
        ]
    }
}

/// Reading and writing snapshot manifests. Manifests are never rewritten: taking a snapshot of
/// unchanged data returns the existing version.
public struct SnapshotStore: Sendable {
    let directory: DataDirectory

    public init(directory: DataDirectory) {
        self.directory = directory
    }

    private var indexPath: String { "\(directory.lakeState)/snapshots.ndjson" }

    func path(of version: String) -> String { "\(directory.snapshots)/\(version).json" }

    /// Writes the manifest (if new) and records it in the index; returns its summary.
    func save(_ manifest: SnapshotManifest, at millis: Int64) throws(StrataError) -> SnapshotSummary {
        let version = manifest.version
        if let existing = try list().first(where: { $0.version == version }) { return existing }
        try AtomicFile.write(manifest.canonicalBytes, to: path(of: version))
        let summary = SnapshotSummary(
            version: version, createdAt: millis, rows: manifest.rows, files: manifest.files.count, contractVersion: manifest.contractVersion)
        var index = AtomicFile.read(indexPath) ?? []
        index += summary.json.serializedBytes + [0x0A]
        try AtomicFile.write(index, to: indexPath)
        return summary
    }

    /// Every snapshot, oldest first.
    public func list() throws(StrataError) -> [SnapshotSummary] {
        guard let bytes = AtomicFile.read(indexPath) else { return [] }
        return bytes.split(separator: 0x0A).compactMap { line in
            guard let json = try? JSONValue.parse(bytes: line), let version = json["version"]?.stringValue,
                let created = json["created_at"]?.stringValue.flatMap(EventTime.parse)
            else { return nil }
            return SnapshotSummary(
                version: version, createdAt: created, rows: Int(json["rows"]?.intValue ?? 0), files: Int(json["files"]?.intValue ?? 0),
                contractVersion: json["contract_version"]?.stringValue ?? "")
        }
    }

    /// A snapshot by full version or unique prefix (at least 6 characters), verified against
    /// its hash.
    public func manifest(_ versionOrPrefix: String) throws(StrataError) -> SnapshotManifest {
        try load(try resolve(versionOrPrefix))
    }

    /// Every snapshot's manifest, oldest first (one read of the index).
    public func allManifests() throws(StrataError) -> [(version: String, manifest: SnapshotManifest)] {
        var manifests: [(version: String, manifest: SnapshotManifest)] = []
        for summary in try list() { manifests.append((summary.version, try load(summary.version))) }
        return manifests
    }

    /// The manifest of a full version, verified against its hash.
    private func load(_ version: String) throws(StrataError) -> SnapshotManifest {
        guard let bytes = AtomicFile.read(path(of: version)) else {
            throw StrataError.notFound("snapshot_not_found", "snapshot \(version) has no manifest file")
        }
        guard SHA256Hex.of(bytes) == version else {
            throw StrataError.internal("snapshot \(version) does not match its hash: the manifest was modified")
        }
        guard let json = try? JSONValue.parse(bytes: bytes), let manifest = SnapshotManifest(json: json) else {
            throw StrataError.internal("snapshot \(version) is unreadable")
        }
        return manifest
    }

    func resolve(_ versionOrPrefix: String) throws(StrataError) -> String {
        let snapshots = try list()
        let candidates = snapshots.map(\.version).filter { $0.hasPrefix(versionOrPrefix) }
        if versionOrPrefix == "latest", let latest = snapshots.last { return latest.version }
        guard versionOrPrefix.count >= 6 || versionOrPrefix.count == 64 else {
            throw StrataError.invalid("ambiguous_version", "give at least 6 characters of the snapshot version")
        }
        guard let version = candidates.first else {
            throw StrataError.notFound("snapshot_not_found", "no snapshot \(versionOrPrefix); `strata lake ls` lists them")
        }
        guard candidates.count == 1 else {
            throw StrataError.invalid("ambiguous_version", "\(versionOrPrefix) matches several snapshots; give more characters")
        }
        return version
    }
}
