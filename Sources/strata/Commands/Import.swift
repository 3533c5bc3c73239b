import ArgumentParser
import Foundation
import StrataCore
import StrataLake

/// `strata import`: history from files, through the contract's validation.
struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import events from MovieLens (u.data, ratings.csv), CSV, NDJSON or Parquet files.",
        discussion: """
            Examples:
              strata import ratings.csv                       # MovieLens, as 'rate' events
              strata import orders.csv --type purchase --map user_id=customer --map item_id=sku --map timestamp=ordered_at
              strata import events.ndjson
            Imports are backfills: the contract's max_lateness does not apply, every other rule does.
            """)

    @OptionGroup var data: DataOptions

    @Argument(help: "The file to import.")
    var file: String

    @Option(help: "movielens, csv, ndjson or parquet (default: from the file name).")
    var format: String?

    @Option(name: .customLong("type"), help: "Event type of every row (CSV, Parquet; MovieLens defaults to 'rate').")
    var eventType: String?

    @Option(name: .customLong("map"), help: "FIELD=COLUMN: take FIELD (user_id, item_id, timestamp, event_id or a field of the type) from COLUMN. Repeatable.")
    var mappings: [String] = []

    @Option(help: "Epoch numbers in the time column: seconds, millis or auto.")
    var timeUnit: String = "auto"

    func run() async throws {
        let logger = data.bootstrapLogging()
        try await runReportingErrors {
            var mapping: [String: String] = [:]
            for entry in mappings {
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw StrataError.invalid("invalid_mapping", "--map takes FIELD=COLUMN, got '\(entry)'")
                }
                mapping[parts[0]] = parts[1]
            }
            guard let unit = ImportSpec.TimeUnit(rawValue: timeUnit) else {
                throw StrataError.invalid("invalid_option", "--time-unit must be seconds, millis or auto")
            }
            var spec = ImportSpec(path: file, eventType: eventType, mapping: mapping, timeUnit: unit)
            if let format {
                guard let parsed = ImportSpec.Format(rawValue: format) else {
                    throw StrataError.invalid(
                        "invalid_option", "--format must be one of: \(ImportSpec.Format.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                spec.format = parsed
            }
            let (_, lake) = try data.openLake(logger: logger)
            let report: ImportReport
            do {
                report = try await Importer(ingestor: lake.ingestor).run(spec) { progress in
                    if progress.rows % 100_000 < 5000 && progress.rows >= 100_000 {
                        logger.info("importing", metadata: ["rows": "\(progress.rows)", "accepted": "\(progress.accepted)"])
                    }
                }
                _ = try await lake.maintain(force: true)
            } catch {
                await lake.close()
                throw error
            }
            await lake.close()
            output(report.json.prettySerialized)
        }
    }
}
