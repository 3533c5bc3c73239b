import ArgumentParser
import Foundation
import StrataCore
import StrataLake

/// `strata init`: write the documented example `strata.yaml` to start from.
struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write the documented example strata.yaml (an e-commerce contract) to edit.")

    @Option(help: "Where to write it.") var path = "strata.yaml"
    @Flag(help: "Overwrite an existing file.") var force = false

    func run() async throws {
        try await runReportingErrors {
            if FileManager.default.fileExists(atPath: path) && !force {
                throw StrataError(.conflict, code: "file_exists", "\(path) exists; pass --force to overwrite it")
            }
            try AtomicFile.write(ExampleConfig.yaml, to: path)
            output("wrote \(path); `strata contract validate --config \(path)` checks your edits")
        }
    }
}
