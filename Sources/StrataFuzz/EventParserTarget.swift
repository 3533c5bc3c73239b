import Foundation
import Logging
import StrataCore
import StrataLake

extension FuzzTarget {
    /// The ingestion front door's parser and validator (`EventIngestor.prepare`) for JSON, NDJSON
    /// and Protobuf bodies, against the documented example contract. The first byte picks the
    /// format; the rest is the request body.
    static let eventParser = FuzzTarget(name: "events", summary: "event bodies (JSON, NDJSON, Protobuf) through EventIngestor.prepare") { input in
        guard let selector = input.first else { return }
        let format = BatchFormat.allCases[Int(selector) % BatchFormat.allCases.count]
        let body = UnsafeRawBufferPointer(rebasing: input.dropFirst())
        let prepared: PreparedBatch
        do throws(StrataError) {
            prepared = try FuzzIngestor.shared.prepare(body: body, format: format, source: "fuzz")
        } catch {
            require(!error.code.isEmpty, "a refused body has no error code")
            return
        }
        if format == .ndjson {
            // Every non-blank line is one event, accepted or rejected: none is silently lost.
            let lines = body.split(separator: 0x0A).filter { line in !line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D } }
            require(prepared.eventCount == lines.count, "\(lines.count) lines gave \(prepared.eventCount) events")
        }
        // Whatever the JSON scanner accepts as a document it must also be able to walk.
        _ = try? JSONValue.parse(bytes: body)
    }
}

/// An ingestor on the example contract whose log lives in a folder removed right after opening:
/// `prepare` only parses and validates, so nothing is written there.
enum FuzzIngestor {
    static let shared: EventIngestor = {
        do {
            let config = try StrataConfig.parse(yaml: ExampleConfig.yaml, file: "examples/strata.yaml")
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("strata-fuzz-\(getpid())").path
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let logger = Logger(label: "strata-fuzz") { _ in SwiftLogNoOpLogHandler() }
            let clock = SystemClock()
            let log = try SegmentedLog(directory: "\(directory)/log", clock: clock, logger: logger)
            let deadLetters = try DeadLetterStore(directory: "\(directory)/dead-letters", clock: clock, logger: logger)
            return try EventIngestor(
                contract: CompiledContract(config.contract), config: config.ingest, log: log, deadLetters: deadLetters, clock: clock, logger: logger)
        } catch {
            fatalError("cannot set up the ingestor for fuzzing: \(error)")
        }
    }()
}
