import ArgumentParser
import Foundation
import StrataCore

/// `strata contract ...`: validate, version and export the contract.
struct ContractCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contract", abstract: "Validate the contract, print its version, export schemas for producers.",
        subcommands: [Validate.self, Export.self])

    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check strata.yaml; print the contract version.")
        @OptionGroup var data: DataOptions

        func run() async throws {
            try await runReportingErrors {
                let config = try data.loadConfig()
                output("\(config.source): valid; \(config.contract.eventTypes.count) event types; contract version \(config.contract.version)")
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the contract as an Avro, Protobuf or JSON Schema document.")
        @OptionGroup var data: DataOptions
        @Option(help: "avro, proto or json-schema.") var format: String = "json-schema"

        func run() async throws {
            try await runReportingErrors {
                guard let format = ContractExportFormat(rawValue: format) else {
                    throw StrataError.invalid(
                        "invalid_option", "--format must be one of: \(ContractExportFormat.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                let config = try data.loadConfig()
                FileHandle.standardOutput.write(Data(config.contract.export(format, project: config.project).utf8))
            }
        }
    }
}
