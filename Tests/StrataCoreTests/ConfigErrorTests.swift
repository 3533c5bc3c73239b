import Foundation
import StrataCore
import StrataTesting
import Testing

@Suite struct ConfigErrorTests {
    static let events = "events: {view: {fields: {item_id: string}}}\n"

    /// The error parsing `yaml` gives, or nil when it parses.
    static func failure(_ yaml: String, file: String = "c.yaml") -> StrataError? {
        do {
            _ = try StrataConfig.parse(yaml: yaml, file: file)
            return nil
        } catch {
            return error
        }
    }

    @Test func unknownTopLevelKeyNamesLineKeyAndCode() throws {
        let error = try #require(Self.failure(Self.events + "servr: {port: 80}\n"))
        #expect(error.code == "unknown_config_key")
        #expect(error.message.hasPrefix("c.yaml:2: "))
        #expect(error.message.contains("unknown key 'servr'"))
        #expect(error.message.contains("server"))
    }

    @Test func unknownNestedKeyNamesItsPath() throws {
        let error = try #require(Self.failure(Self.events + "ingest:\n  dedupe_windw: 1h\n"))
        #expect(error.code == "unknown_config_key")
        #expect(error.message.hasPrefix("c.yaml:3: ingest.dedupe_windw: unknown key 'dedupe_windw'"))
        #expect(error.field == "ingest.dedupe_windw")
    }

    @Test(arguments: ["1 hour", "5", "-1h", "1.5h", "forever"])
    func badDurationsNameTheFieldAndTheText(text: String) throws {
        let error = try #require(Self.failure(Self.events + "log:\n  retention: \"\(text)\"\n"))
        #expect(error.code == "invalid_config")
        #expect(error.field == "log.retention")
        #expect(error.message.hasPrefix("c.yaml:3: log.retention: expected a duration"))
        #expect(error.message.contains("'\(text)'"))
    }

    @Test func aSmallSegmentSizeIsRefused() throws {
        let error = try #require(Self.failure(Self.events + "log:\n  segment_size: 1KB\n"))
        #expect(error.field == "log.segment_size")
        #expect(error.message.contains("c.yaml:3"))
    }

    @Test func retentionShorterThanTheDedupeWindowIsRefused() throws {
        let error = try #require(Self.failure(Self.events + "log: {retention: 1h}\ningest: {dedupe_window: 2h}\n"))
        #expect(error.code == "invalid_config")
        #expect(error.message.contains("log.retention (1h) must be at least ingest.dedupe_window (2h)"))
        let fine = try StrataConfig.parse(yaml: Self.events + "log: {retention: 2h}\ningest: {dedupe_window: 2h}\n", file: "c.yaml")
        #expect(fine.log.retentionMillis == 7_200_000)
        #expect(fine.ingest.dedupeWindowMillis == 7_200_000)
    }

    @Test func anEmptyFileIsAnError() throws {
        let error = try #require(Self.failure("", file: "empty.yaml"))
        #expect(error.code == "invalid_config")
        #expect(error.message.contains("empty.yaml: the file is empty"))
    }

    @Test func aMissingFileIsNotFound() {
        do {
            _ = try StrataConfig.load(path: "/nonexistent/strata-helper/strata.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == "config_not_found")
            #expect(error.message.contains("/nonexistent/strata-helper/strata.yaml"))
        }
    }

    @Test func loadReadsTheFileItNames() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("strata.yaml")
        try (Self.events + "ingest: {dedupe_window: 90s}\n").write(toFile: path, atomically: true, encoding: .utf8)
        let config = try StrataConfig.load(path: path)
        #expect(config.ingest.dedupeWindowMillis == 90_000)
        try (Self.events + "ingest: {dedupe_window: soon}\n").write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try StrataConfig.load(path: path)
            Issue.record("expected an error")
        } catch {
            #expect(error.message.hasPrefix("\(path):2: ingest.dedupe_window"))
        }
    }

    @Test func aKafkaSectionNeedsAKafkaStream() throws {
        let error = try #require(Self.failure(Self.events + "kafka: {}\n"))
        #expect(error.message.contains("the kafka section needs backends.stream"))
    }

    @Test func trackingNeedsAnHTTPURL() throws {
        let error = try #require(Self.failure(Self.events + "tracking:\n  mlflow_uri: ftp://host\n"))
        #expect(error.field == "tracking.mlflow_uri")
        #expect(error.message.contains("must be an http(s) URL"))
        let fine = try StrataConfig.parse(yaml: Self.events + "tracking: {mlflow_uri: \"http://mlflow:5000\"}\n", file: "c.yaml")
        #expect(fine.mlflowURI == "http://mlflow:5000")
    }

    @Test func searchNamesOnlyDeclaredModels() throws {
        let error = try #require(Self.failure(Self.events + "search:\n  nope: {}\n"))
        #expect(error.message.contains("'nope' is not a model of this file"))
    }
}
