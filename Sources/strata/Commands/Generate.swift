import ArgumentParser
import Foundation
import StrataCore
import StrataLake

/// `strata generate`: deterministic synthetic events as NDJSON.
struct Generate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print generated events (NDJSON), deterministic for a seed and end time; optionally with deliberately invalid ones.")

    @Option(help: "Path of strata.yaml (env STRATA_CONFIG); the events follow its contract.")
    var config: String?

    @Option(help: "Number of events (default: whatever the users, days and session rate give).")
    var events: Int?

    @Option(help: "Seed.")
    var seed: UInt64 = 42

    @Option(help: "Users.")
    var users = 1000

    @Option(help: "Items.")
    var items = 2000

    @Option(help: "Days of history before --end.")
    var days = 14

    @Option(help: "End of the history, RFC 3339 (default: the start of the current UTC day).")
    var end: String?

    @Option(help: "Fraction of events to break on purpose (0.01 = 1%); their line numbers go to stderr.")
    var invalidFraction: Double = 0

    @Option(help: "Write to this file instead of standard output.")
    var out: String?

    @Option(help: "Also write the catalog (items and users) as JSON arrays to PREFIX-items.json and PREFIX-users.json.")
    var catalogOut: String?

    func run() async throws {
        try await runReportingErrors {
            let options = DataOptions(config: config)
            let contract = try options.loadConfig().contract
            var generatorConfig = GeneratorConfig()
            if let end {
                guard let millis = EventTime.parse(end) else {
                    throw StrataError.invalid("invalid_option", "--end must be RFC 3339, e.g. 2026-11-29T00:00:00Z")
                }
                generatorConfig.endMillis = millis
            }
            generatorConfig.seed = seed
            generatorConfig.users = users
            generatorConfig.items = items
            generatorConfig.days = days
            var generator = SyntheticGenerator(contract: contract, config: generatorConfig)
            // Streamed: one event at a time into a buffered file (renamed into place when
            // whole), so memory stays flat however many events are asked for.
            let target = out.map { "\($0).tmp-\(getpid())" }
            let handle: FileHandle
            if let target {
                guard FileManager.default.createFile(atPath: target, contents: nil), let file = FileHandle(forWritingAtPath: target) else {
                    throw StrataError.invalid("cannot_write", "cannot write \(out!)", field: "out")
                }
                handle = file
            } else {
                handle = FileHandle.standardOutput
            }
            var writer = InvalidEvents.Writer(invalidFraction: invalidFraction, seed: seed)
            var buffer: [UInt8] = []
            buffer.reserveCapacity(1 << 20)
            var count = 0
            var invalid: [Int] = []
            generator.stream(limit: events) { event in
                let (line, broken) = writer.line(event)
                if broken { invalid.append(count) }
                count += 1
                buffer += line.utf8
                buffer.append(UInt8(ascii: "\n"))
                if buffer.count >= 1 << 20 {
                    handle.write(Data(buffer))
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            handle.write(Data(buffer))
            if let target, let out {
                try handle.synchronize()
                try handle.close()
                guard rename(target, out) == 0 else { throw StrataError.invalid("cannot_write", "cannot move \(target) to \(out)", field: "out") }
            }
            if let catalogOut {
                let catalog = generator.catalog()
                func render(_ entries: [CatalogUpsert]) -> String {
                    JSONValue.array(
                        entries.map { entry in
                            var object = entry.properties.objectValue ?? [:]
                            object["id"] = .string(entry.id)
                            return .object(object)
                        }
                    ).serialized
                }
                try AtomicFile.write(render(catalog.items), to: "\(catalogOut)-items.json")
                try AtomicFile.write(render(catalog.users), to: "\(catalogOut)-users.json")
            }
            FileHandle.standardError.write(
                Data(
                    "generated \(count) events, \(invalid.count) deliberately invalid\(invalid.isEmpty ? "" : " (0-based lines: \(invalid.map(String.init).joined(separator: ",")))")\n"
                        .utf8))
        }
    }
}

extension DataOptions {
    init(config: String?) {
        self.init()
        self.config = config
    }
}
