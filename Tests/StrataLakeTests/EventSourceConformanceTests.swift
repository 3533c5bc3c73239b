import Foundation
import StrataCore
import StrataLake
import StrataTesting
import Testing

/// The embedded ingestion path passes the conformance suite every event source runs.
@Suite struct EventSourceConformanceTests {
    /// Events handed to the lake in-process as `POST /v1/events` hands them (an NDJSON body,
    /// prepared then committed durably); a restart closes the lake and opens a new one on the
    /// same folder, as a new process would.
    final class EmbeddedSource {
        let directory: TemporaryDirectory
        private(set) var lake: Lake

        init(_ directory: TemporaryDirectory) throws {
            self.directory = directory
            lake = try Fixtures.lake(directory)
        }

        func deliver(_ payloads: [[UInt8]]) async throws {
            let body = Array(payloads.joined(separator: [UInt8(ascii: "\n")]))
            let prepared = try body.withUnsafeBytes { raw in try lake.ingestor.prepare(body: raw, format: .ndjson, source: "http") }
            _ = try await lake.ingestor.commit(prepared)
        }

        func restart() async throws {
            await lake.close()
            lake = try Fixtures.lake(directory)
        }
    }

    @Test func theEmbeddedPathConforms() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let source = try EmbeddedSource(directory)
        try await EventSourceConformance.check(deliver: source.deliver, restart: source.restart, lake: { source.lake })
        await source.lake.close()
    }
}
