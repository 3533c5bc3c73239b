import Foundation
import StrataCore

/// Every contract a project has run with, by version (`contracts/<version>.json`, the canonical
/// JSON), so that datasets and models can name the contract they were made under and two
/// versions can be compared (`strata features diff`).
public struct ContractHistory: Sendable {
    let directory: DataDirectory

    public init(directory: DataDirectory) {
        self.directory = directory
    }

    private var folder: String { "\(directory.projectRoot)/contracts" }

    /// Stores the contract's canonical form if this version is new.
    public func record(_ contract: Contract) throws(StrataError) {
        let path = "\(folder)/\(contract.version).json"
        guard !FileManager.default.fileExists(atPath: path) else { return }
        try AtomicFile.write(contract.canonicalJSON.prettySerialized + "\n", to: path)
    }

    /// The canonical JSON of a stored version (full or a unique prefix of at least 6).
    public func canonical(_ versionOrPrefix: String) throws(StrataError) -> JSONValue {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".json") && $0.hasPrefix(versionOrPrefix) }
        guard versionOrPrefix.count >= 6 else { throw StrataError.invalid("ambiguous_version", "give at least 6 characters of the contract version") }
        guard names.count == 1, let bytes = AtomicFile.read("\(folder)/\(names[0])"), let json = try? JSONValue.parse(bytes: bytes) else {
            throw StrataError.notFound(
                "contract_not_found", names.isEmpty ? "no stored contract \(versionOrPrefix)" : "\(versionOrPrefix) matches several contracts")
        }
        return json
    }

    /// Stored versions.
    public func versions() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }
}
