import ArgumentParser
import Foundation
import StrataCore
import StrataLake

/// `strata lake ...`: the Parquet lake, its snapshots and the dead-letter store.
struct LakeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lake", abstract: "Inspect and maintain the lake.",
        subcommands: [Status.self, Compact.self, Snapshot.self, List.self, Show.self, DeadLetters.self, Forget.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Log, lake, snapshot and catalog figures.")
        @OptionGroup var data: DataOptions

        func run() async throws {
            try await withLake(data) { lake, _ in output(await lake.status().prettySerialized) }
        }
    }

    struct Compact: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Compact everything in the log into Parquet now.")
        @OptionGroup var data: DataOptions

        func run() async throws {
            try await withLake(data) { lake, _ in
                let report = try await lake.maintain(force: true)
                output(
                    "compacted \(report.segments) segment(s) into \(report.files.count) file(s), \(report.rows) rows; lake complete through offset \(report.compactedThrough)"
                )
            }
        }
    }

    struct Snapshot: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Compact, then record an immutable snapshot; prints its data version.")
        @OptionGroup var data: DataOptions

        func run() async throws {
            try await withLake(data) { lake, _ in output(try await lake.compactor.snapshot().json.prettySerialized) }
        }
    }

    struct Forget: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Forget a user: their events leave the lake's current files (and so every later snapshot), the catalog, the online features and the cached recommendations. Prints the immutable snapshots and model versions that still hold them.",
            discussion: "Runs on the server (admin key in STRATA_API_KEY), which audits it; the audit entry names the user by hash only.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "The user id.") var user: String

        func run() async throws {
            try await runReportingErrors {
                let outcome = try await server.call("POST", "/v1/lake/forget", body: ["user_id": .string(user)])
                output(outcome.prettySerialized)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List snapshots, oldest first.")
        @OptionGroup var data: DataOptions

        func run() async throws {
            try await runReportingErrors {
                let config = try data.loadConfig()
                let store = SnapshotStore(directory: DataDirectory(root: data.dataDirectory(config), project: config.project))
                let snapshots = try store.list()
                if snapshots.isEmpty { output("no snapshots yet; `strata lake snapshot` takes one") }
                for snapshot in snapshots {
                    output(
                        "\(snapshot.version)  \(EventTime.format(millis: snapshot.createdAt))  \(snapshot.rows) rows  \(snapshot.files) files  contract \(snapshot.contractVersion.prefix(12))"
                    )
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a snapshot's manifest (VERSION, a unique prefix, or 'latest').")
        @OptionGroup var data: DataOptions
        @Argument var version: String

        func run() async throws {
            try await runReportingErrors {
                let config = try data.loadConfig()
                let store = SnapshotStore(directory: DataDirectory(root: data.dataDirectory(config), project: config.project))
                let manifest = try store.manifest(version)
                var object = manifest.json.objectValue!
                object["version"] = .string(manifest.version)
                object["rows"] = .int(manifest.rows)
                output(JSONValue.object(object).prettySerialized)
            }
        }
    }

    struct DeadLetters: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "dead-letters", abstract: "List rejected events with their reasons.")
        @OptionGroup var data: DataOptions
        @Option(help: "First dead letter to show (offset).") var from: Int64 = 0
        @Option(help: "How many to show.") var limit = 100
        @Flag(help: "One JSON object per line.") var json = false

        func run() async throws {
            try await runReportingErrors {
                let config = try data.loadConfig()
                let directory = DataDirectory(root: data.dataDirectory(config), project: config.project)
                let logger = data.bootstrapLogging()
                // Reading needs no lock: the dead-letter log is append-only.
                let store = try DeadLetterStore(directory: directory.deadLetters, clock: SystemClock(), logger: logger)
                let letters = try store.list(from: from, limit: limit)
                await store.close()
                if !json { output("\(store.count) dead letter(s)") }
                for letter in letters {
                    if json {
                        output(letter.json.serialized)
                    } else {
                        let field = letter.rejection.field.map { " \($0)" } ?? ""
                        output(
                            "#\(letter.offset) \(EventTime.format(millis: letter.receivedAt)) \(letter.source) [\(letter.rejection.code)\(field)] \(letter.rejection.message)\n    \(letter.raw.prefix(200))"
                        )
                    }
                }
            }
        }
    }
}

/// Opens the lake for a maintenance command and closes it afterwards.
func withLake(_ data: DataOptions, _ body: (Lake, StrataConfig) async throws -> Void) async throws {
    let logger = data.bootstrapLogging()
    try await runReportingErrors {
        let (config, lake) = try data.openLake(logger: logger)
        do {
            try await body(lake, config)
        } catch {
            await lake.close()
            throw error
        }
        await lake.close()
    }
}
