import Foundation
import StrataCore
import StrataTesting
import Testing

@testable import StrataLake

@Suite struct IngestionTests {
    @Test func acceptsAndRejectsExactlyTheRightEventsAndKeepsTheRejected() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let lake = try Fixtures.lake(directory)
        let events = Fixtures.events(100_000, seed: 1)
        let (lines, invalid) = InvalidEvents.ndjson(events, invalidFraction: 0.01, seed: 1)
        #expect(invalid.count > 800 && invalid.count < 1200)
        var rejectedIndices: [Int] = []
        var accepted = 0
        var codes = Set<String>()
        for start in stride(from: 0, to: lines.count, by: 1000) {
            let body = Array(lines[start..<min(start + 1000, lines.count)].joined(separator: "\n").utf8)
            let result = try await lake.ingestor.ingest(body: body, format: .ndjson, source: "test")
            accepted += result.accepted
            rejectedIndices += result.rejected.map { start + $0.index }
            codes.formUnion(result.rejected.map(\.code))
            #expect(result.rejected.allSatisfy { !$0.message.isEmpty })
        }
        #expect(rejectedIndices == invalid)
        #expect(accepted == 100_000 - invalid.count)
        #expect(codes == Set(InvalidEvents.kinds))
        #expect(lake.log.endOffset == Int64(accepted))
        let letters = try lake.deadLetters.list(limit: 10_000)
        #expect(letters.count == invalid.count)
        #expect(letters.allSatisfy { $0.source == "test" && !$0.raw.isEmpty })
        #expect(letters.contains { $0.rejection.code == "missing_field" && $0.rejection.field == "user_id" })
        await lake.close()
    }

    @Test func retriesWithTheSameEventIDAreAcknowledgedButStoredOnce() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var lake = try Fixtures.lake(directory)
        let events = Fixtures.events(50, seed: 2)
        let body = Array(events.map(\.json.serialized).joined(separator: "\n").utf8)
        let first = try await lake.ingestor.ingest(body: body, format: .ndjson, source: "test")
        let retry = try await lake.ingestor.ingest(body: body, format: .ndjson, source: "test")
        #expect(first.accepted == 50 && first.duplicates == 0)
        #expect(retry.accepted == 50 && retry.duplicates == 50)
        #expect(lake.log.endOffset == 50)
        // Duplicates inside one batch are stored once too.
        let twice = Array((events.prefix(3).map(\.json.serialized) + events.prefix(3).map(\.json.serialized)).joined(separator: "\n").utf8)
        #expect(try await lake.ingestor.ingest(body: twice, format: .ndjson, source: "test").duplicates == 6)
        await lake.close()
        // The window survives a restart: ids are re-read from the log.
        lake = try Fixtures.lake(directory)
        let afterRestart = try await lake.ingestor.ingest(body: body, format: .ndjson, source: "test")
        #expect(afterRestart.duplicates == 50)
        #expect(lake.log.endOffset == 50)
        await lake.close()
    }

    @Test func eventsWithoutIDsAreAlwaysStored() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let lake = try Fixtures.lake(directory)
        let now = EventTime.format(millis: SystemClock().nowMillis())
        let line = #"{"type":"view","user_id":"u1","item_id":"i1","timestamp":"\#(now)"}"#
        for _ in 0..<3 { _ = try await lake.ingestor.ingest(body: Array(line.utf8), format: .json, source: "test") }
        #expect(lake.log.endOffset == 3)
        await lake.close()
    }

    static let now: Int64 = 1_795_953_600_000

    @Test(
        arguments: [
            (#"{"user_id":"u","item_id":"i","timestamp":1795953600000}"#, "type", "missing_field"),
            (#"{"type":"fly","user_id":"u","timestamp":1795953600000}"#, "type", "unknown_event_type"),
            (#"{"type":"catalog_item","item_id":"i","timestamp":1795953600000}"#, "type", "reserved_event_type"),
            (#"{"type":"view","item_id":"i","timestamp":1795953600000}"#, "user_id", "missing_field"),
            (#"{"type":"view","user_id":"","item_id":"i","timestamp":1795953600000}"#, "user_id", "empty_string"),
            (#"{"type":"view","user_id":42,"item_id":"i","timestamp":1795953600000}"#, "user_id", "wrong_type"),
            (#"{"type":"view","user_id":"u","timestamp":1795953600000}"#, "item_id", "missing_field"),
            (#"{"type":"view","user_id":"u","item_id":"i"}"#, "timestamp", "missing_field"),
            (#"{"type":"view","user_id":"u","item_id":"i","timestamp":"noon"}"#, "timestamp", "invalid_timestamp"),
            (#"{"type":"view","user_id":"u","item_id":"i","timestamp":1795953600}"#, "timestamp", "too_late"),
            (#"{"type":"view","user_id":"u","item_id":"i","timestamp":"2026-11-30T12:00:00Z"}"#, "timestamp", "in_future"),
            (#"{"type":"view","user_id":"u","item_id":"i","timestamp":1795953600000,"colour":"red"}"#, "colour", "unknown_field"),
            (#"{"type":"view","user_id":"u","item_id":"i","item_id":"j","timestamp":1795953600000}"#, "item_id", "duplicate_field"),
            (#"{"type":"view","user_id":"u","item_id":"i","timestamp":1795953600000,"page":"basement"}"#, "page", "value_not_allowed"),
            (#"{"type":"click","user_id":"u","item_id":"i","timestamp":1795953600000,"position":"first"}"#, "position", "wrong_type"),
            (#"{"type":"click","user_id":"u","item_id":"i","timestamp":1795953600000,"position":-1}"#, "position", "below_minimum"),
            (#"{"type":"click","user_id":"u","item_id":"i","timestamp":1795953600000,"position":2.5}"#, "position", "wrong_type"),
            (#"{"type":"purchase","user_id":"u","item_id":"i","order_id":"o","timestamp":1795953600000}"#, "price", "missing_field"),
            (#"{"type":"rate","user_id":"u","item_id":"i","timestamp":1795953600000,"rating":7}"#, "rating", "above_maximum"),
            (#"{"type":"view","user_id":"u","item_id":"\#(String(repeating: "x", count: 129))","timestamp":1795953600000}"#, "item_id", "string_too_long"),
            (#"["not", "an", "object"]"#, nil, "not_an_object"),
            (#"{"type":"view", "user_id": "u""#, nil, "malformed_json"),
        ] as [(String, String?, String)])
    func rejectionsNameTheFieldAndTheRule(line: String, field: String?, code: String) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let lake = try Fixtures.lake(directory, clock: ManualClock(Self.now))
        let result = try await lake.ingestor.ingest(body: Array(line.utf8), format: .ndjson, source: "test")
        #expect(result.accepted == 0)
        #expect(result.rejected.first?.code == code, "\(result.rejected)")
        #expect(result.rejected.first?.field == field)
        #expect(lake.deadLetters.count == 1)
        await lake.close()
    }

    @Test func acceptsEveryFieldTypeAndLateEventsWithinTheWindow() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let lake = try Fixtures.lake(directory, clock: ManualClock(Self.now))
        let lines = [
            #"{"type":"purchase","event_id":"p1","user_id":"u","item_id":"i","order_id":"o","price":12,"quantity":2,"currency":"EUR","timestamp":"2026-11-20T10:00:00+02:00"}"#,
            #"{"type":"view","user_id":"u\u00e9","item_id":"i \"quoted\"","timestamp":1795953599000,"page":null}"#,
        ]
        let result = try await lake.ingestor.ingest(body: Array(lines.joined(separator: "\r\n\n").utf8), format: .ndjson, source: "test")
        #expect(result.accepted == 2, "\(result.rejected)")
        let records = try lake.log.read(from: 0, limit: 10).map { try $0.payload.withUnsafeBytes { try EventCodec.decode($0) } }
        #expect(records[0].eventID == "p1")
        #expect(records[0].timestamp == EventTime.parse("2026-11-20T08:00:00Z"))
        #expect(records[0][field: "price"] == .double(12))
        #expect(records[0][field: "quantity"] == .int(2))
        #expect(records[0].ingestedAt == Self.now)
        #expect(records[1].userID == "ué")
        #expect(records[1].itemID == "i \"quoted\"")
        #expect(records[1][field: "page"] == nil)
        await lake.close()
    }

    @Test func jsonArraysAndProtobufGoThroughTheSameValidation() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let lake = try Fixtures.lake(directory, clock: ManualClock(Self.now))
        let array = #"[{"type":"view","user_id":"u","item_id":"i","timestamp":1795953600000}, {"type":"view","user_id":"u","timestamp":1795953600000}]"#
        let arrayResult = try await lake.ingestor.ingest(body: Array(array.utf8), format: .json, source: "test")
        #expect(arrayResult.accepted == 1)
        #expect(arrayResult.rejected.map(\.index) == [1])
        await #expect(throws: StrataError.self) { try await lake.ingestor.ingest(body: Array("[{\"type\":".utf8), format: .json, source: "test") }

        var message = Strata_V1_EventBatch()
        message.formatVersion = 1
        var good = Strata_V1_Event()
        good.type = "add_to_cart"
        good.userID = "u9"
        good.eventID = "pb-1"
        good.timestampMs = Self.now - 1000
        var item = Strata_V1_Value()
        item.stringValue = "i3"
        var price = Strata_V1_Value()
        price.doubleValue = 9.5
        good.fields = ["item_id": item, "price": price]
        var bad = good
        bad.eventID = "pb-2"
        var wrong = Strata_V1_Value()
        wrong.boolValue = true
        bad.fields["price"] = wrong
        message.events = [good, bad]
        let result = try await lake.ingestor.ingest(body: try message.serializedBytes() as [UInt8], format: .protobuf, source: "test")
        #expect(result.accepted == 1)
        #expect(result.rejected.first?.code == "wrong_type")
        #expect(result.rejected.first?.field == "price")
        let stored = try lake.log.read(from: 1, limit: 1).first.map { try $0.payload.withUnsafeBytes { try EventCodec.decode($0) } }
        #expect(stored?.type == "add_to_cart")
        #expect(stored?[field: "price"] == .double(9.5))
        await #expect(throws: StrataError.self) { try await lake.ingestor.ingest(body: [0xFF, 0xFF, 0xFF], format: .protobuf, source: "test") }
        await lake.close()
    }

    @Test func tooManyEventsIsOneClearError() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var config = Fixtures.config
        config.ingest.maxBatchEvents = 10
        let lake = try Fixtures.lake(directory, config: config)
        let body = Array(Fixtures.events(11).map(\.json.serialized).joined(separator: "\n").utf8)
        do {
            _ = try await lake.ingestor.ingest(body: body, format: .ndjson, source: "test")
            Issue.record("expected batch_too_large")
        } catch let error as StrataError {
            #expect(error.code == "batch_too_large")
            #expect(error.kind == .tooLarge)
        }
        #expect(lake.log.endOffset == 0)
        await lake.close()
    }
}
