import ArgumentParser
import Foundation
import Logging
import StrataCore
import StrataFeatures
import StrataLake

/// Options every data command shares, each with a `STRATA_*` environment equivalent.
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: "Folder of the embedded backends (env STRATA_DATA_DIR; default ./strata-data).")
    var dataDir: String?

    @Option(name: .long, help: "Path of strata.yaml (env STRATA_CONFIG; default ./strata.yaml if present, else the built-in e-commerce example).")
    var config: String?

    @Option(name: .long, help: "Log format: text or json (env STRATA_LOG_FORMAT; default text on a terminal, json otherwise).")
    var logFormat: String?

    /// The configuration: the file named by flag or environment, ./strata.yaml, or the example.
    /// strata.yaml (flag, env STRATA_CONFIG, ./strata.yaml, or the built-in example) with the
    /// `STRATA_*` overrides applied: the only place the environment changes the configuration.
    func loadConfig() throws -> StrataConfig {
        let environment = ProcessInfo.processInfo.environment
        let file: StrataConfig
        if let path = config ?? environment["STRATA_CONFIG"] {
            file = try StrataConfig.load(path: path)
        } else if FileManager.default.fileExists(atPath: "strata.yaml") {
            file = try StrataConfig.load(path: "strata.yaml")
        } else {
            file = StrataConfig.example()
        }
        return try file.applyingEnvironment(environment)
    }

    /// The data directory: flag, then `data_dir` (env STRATA_DATA_DIR over the file's), then ./strata-data.
    func dataDirectory(_ config: StrataConfig) -> String {
        dataDir ?? config.dataDirectory ?? "./strata-data"
    }

    func bootstrapLogging() -> Logger {
        LoggingSetup.bootstrap(format: logFormat ?? ProcessInfo.processInfo.environment["STRATA_LOG_FORMAT"])
        return Logger(label: "strata")
    }

    /// The online feature store over an open lake (snapshot plus log replay).
    func openFeatureStore(_ lake: Lake, config: StrataConfig, logger: Logger) throws -> FeatureStore {
        let settings = config.featureStore
        return try FeatureStore(
            lake: lake, definitions: config.contract.features, snapshotInterval: .milliseconds(settings.snapshotIntervalMillis),
            skewCheck: settings.skewCheckIntervalMillis > 0 ? (.milliseconds(settings.skewCheckIntervalMillis), settings.skewSampleEntities) : nil,
            logger: logger.with("component", "features"))
    }

    /// Opens the project's lake (taking the data directory's lock).
    func openLake(logger: Logger) throws -> (StrataConfig, Lake) {
        let config = try loadConfig()
        let lake = try Lake(config: config, dataDirectory: dataDirectory(config), logger: logger)
        return (config, lake)
    }
}

/// Runs a command body, printing user errors as one clear line and exiting non-zero.
func runReportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as StrataError {
        FileHandle.standardError.write(Data("error: \(error.code): \(error.message)\n".utf8))
        throw ExitCode(error.kind == .internal ? 70 : 1)
    }
}

/// Writes text to standard output.
func output(_ text: String) {
    FileHandle.standardOutput.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
}
