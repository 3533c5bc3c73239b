import ArgumentParser
import Foundation
import StrataCore
import StrataFeatures
import StrataLake

/// `strata features ...`: definitions, reads, diffs, training sets and the skew check.
struct FeaturesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features", abstract: "The feature store: definitions, values, training sets, skew checks.",
        subcommands: [List.self, Get.self, Diff.self, TrainingSet.self, CheckSkew.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "The feature definitions of the contract.")
        @OptionGroup var data: DataOptions

        func run() async throws {
            try await runReportingErrors {
                let config = try data.loadConfig()
                if config.contract.features.isEmpty { output("no features in \(config.source); see examples/strata.yaml") }
                for feature in config.contract.features { output(feature.canonicalJSON.serialized) }
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Features of one entity as of now (opens the data directory; while a server runs, use GET /v1/features/ENTITY/ID).")
        @OptionGroup var data: DataOptions
        @Argument(help: "user or item") var entity: String
        @Argument var id: String
        @Option(help: "Comma-separated feature names (default: all of the entity's).") var features: String?

        func run() async throws {
            try await withLake(data) { lake, config in
                guard let kind = FeatureDefinition.Entity(rawValue: entity) else { throw StrataError.invalid("unknown_entity", "entity must be user or item") }
                let store = try FeatureStore(lake: lake, definitions: config.contract.features, logger: data.bootstrapLogging())
                let readings = try store.read(kind, id: id, features: features.map { $0.split(separator: ",").map(String.init) })
                var values: [String: JSONValue] = [:]
                for reading in readings { values[reading.name] = reading.json }
                output(
                    JSONValue.object([
                        "entity": .string(entity), "id": .string(id), "found": .bool(readings.contains { !$0.isDefault }), "values": .object(values),
                        "defaults": .array(readings.filter(\.isDefault).map { .string($0.name) }),
                    ]).prettySerialized)
            }
        }
    }

    struct Diff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What changed in the features between two contracts: each a strata.yaml path or a stored contract version (prefix).")
        @OptionGroup var data: DataOptions
        @Argument var old: String
        @Argument var new: String

        func run() async throws {
            try await runReportingErrors {
                let config = try data.loadConfig()
                let history = ContractHistory(directory: DataDirectory(root: data.dataDirectory(config), project: config.project))
                func canonical(_ reference: String) throws -> JSONValue {
                    if FileManager.default.fileExists(atPath: reference) { return try StrataConfig.load(path: reference).contract.canonicalJSON }
                    return try history.canonical(reference)
                }
                output(FeatureDiff.describe(FeatureDiff.compare(old: try canonical(old), new: try canonical(new))))
            }
        }
    }

    struct TrainingSet: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "training-set",
            abstract: "Materialise a training set as Parquet in the lake: spine events, a label, and point-in-time features.")
        @OptionGroup var data: DataOptions
        @Option(help: "Snapshot (default: latest).") var snapshot = "latest"
        @Option(help: "Event type whose events are the rows.") var spine = "impression"
        @Option(help: "Event type that makes a row positive when it follows for the same user and item (`none`: no label column).") var label = "click"
        @Option(help: "How long after the row the label event may come.") var labelWindow = "30m"
        @Option(help: "Comma-separated features (default: all).") var features: String?

        func run() async throws {
            try await runReportingErrors {
                let config = try data.loadConfig()
                let directory = DataDirectory(root: data.dataDirectory(config), project: config.project)
                guard let window = DurationText.parseMillis(labelWindow) else {
                    throw StrataError.invalid("invalid_option", "--label-window takes a duration such as 30m")
                }
                let manifest = try SnapshotStore(directory: directory).manifest(snapshot)
                let result = try TrainingSetBuilder.build(
                    TrainingSetSpec(
                        spine: spine, label: label == "none" ? nil : label, labelWindowMillis: window,
                        features: features.map { $0.split(separator: ",").map(String.init) }),
                    manifest: manifest, lakeRoot: directory.lake, definitions: config.contract.features, contract: config.contract)
                output(result.json.prettySerialized)
            }
        }
    }

    struct CheckSkew: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check-skew", abstract: "Replay a snapshot through the streaming path and compare with point-in-time batch values.")
        @OptionGroup var data: DataOptions
        @Option(help: "Snapshot (default: latest).") var snapshot = "latest"
        @Option(help: "Sampled (entity, time) pairs.") var samples = 1000

        func run() async throws {
            try await runReportingErrors {
                let config = try data.loadConfig()
                let directory = DataDirectory(root: data.dataDirectory(config), project: config.project)
                let manifest = try SnapshotStore(directory: directory).manifest(snapshot)
                let events = try PointInTime.events(of: manifest, lakeRoot: directory.lake, definitions: config.contract.features)
                let report = try SkewCheck.run(definitions: config.contract.features, events: events, samples: samples)
                output(report.json.prettySerialized)
                if !report.mismatches.isEmpty && report.lateEvents == 0 { throw ExitCode(2) }
            }
        }
    }
}
