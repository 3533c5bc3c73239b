import ArgumentParser
import Foundation
import Logging
import StrataCore
import StrataLake
import StrataS3

/// `strata bench s3`: a dataset snapshot written to and read back from an S3-compatible bucket
/// (the lake mirror's upload, then a pull into an empty lake with every file verified against
/// its hash), in MB/s and files/s.
struct BenchS3: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "s3", abstract: "S3 snapshot write/read throughput (needs AWS_* credentials; AWS_ENDPOINT_URL for S3-compatible servers).")

    @Option(help: "Where to write: s3://bucket[/prefix][?endpoint=URL].") var lake: String
    @Option(help: "Events in the snapshot.") var events = 500_000
    @Option(help: "Days the events span (one Parquet file per event type and day).") var days = 30
    @Option(help: "Repeats; the median is reported.") var repeats = 3
    @Flag(help: "Create the bucket first (local test servers).") var createBucket = false

    func run() async throws {
        LoggingSetup.bootstrap(format: "text")
        var logger = Logger(label: "strata-bench")
        logger.logLevel = .warning
        let config = StrataConfig.example()
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("strata-bench-s3-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let source = try Lake(config: config, dataDirectory: "\(root)/source", logger: logger)
        var generatorConfig = GeneratorConfig(endMillis: SystemClock().nowMillis())
        generatorConfig.days = days
        var generator = SyntheticGenerator(contract: config.contract, config: generatorConfig)
        _ = try await source.ingestor.ingest(events: generator.history(limit: events), source: "bench", allowLate: true)
        _ = try await source.maintain(force: true)
        let snapshot = try await source.compactor.snapshot()
        let files = try source.committedLakeFiles()
        let bytes = files.reduce(0) { $0 + $1.bytes }
        print(
            "strata bench s3: snapshot of \(events) events, \(files.count) Parquet files, \(String(format: "%.1f", Double(bytes) / 1e6)) MB, \(lake); machine: \(ProcessInfo.processInfo.activeProcessorCount) cores"
        )
        var writes: [Double] = []
        var reads: [Double] = []
        for round in 0..<repeats {
            var location = try S3Location(url: lake)
            location.prefix += "bench-\(getpid())-\(round)/"
            let client = S3Client(location: location)
            if createBucket, round == 0 { try await client.createBucket() }
            let mirror = LakeMirror(client: client, directory: source.directory, logger: logger)
            let writeStart = ContinuousClock.now
            let pushed = try await mirror.sync(source)
            writes.append(Double(pushed.bytes) / 1e6 / BenchFigures.seconds(since: writeStart))
            let target = DataDirectory(root: "\(root)/pull-\(round)", project: config.project)
            let readStart = ContinuousClock.now
            let (_, pulled) = try await LakeMirror(client: client, directory: target, logger: logger).pull(snapshot: snapshot.version)
            reads.append(Double(pulled.bytes) / 1e6 / BenchFigures.seconds(since: readStart))
            print(
                String(
                    format: "  repeat %d: wrote %d files (%.1f MB/s), read %d files back (%.1f MB/s)", round + 1, pushed.files, writes.last!, pulled.files,
                    reads.last!))
            for key in try await client.list(prefix: "") { try await client.delete(key) }
        }
        await source.close()
        print(
            String(
                format: "snapshot write (upload): median %.1f MB/s; read (download + verify): median %.1f MB/s", BenchFigures.median(writes),
                BenchFigures.median(reads)))
    }

}
