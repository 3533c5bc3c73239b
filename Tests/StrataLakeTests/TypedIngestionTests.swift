import Foundation
import StrataCore
import StrataTesting
import Testing

@testable import StrataLake

/// Typed events (`IncomingEvent`) against the example contract: every rejection names its rule
/// and field, the accepted events of the same batch are stored, and event ids de-duplicate.
@Suite struct TypedIngestionTests {
    static let now: Int64 = 1_795_953_600_000

    static func event(
        _ type: String, id: String? = nil, user: String? = "u1", time: IncomingEvent.Time? = .millis(now - 1_000),
        _ fields: [(name: String, value: FieldValue?)]
    ) -> IncomingEvent {
        IncomingEvent(type: type, eventID: id, userID: user, time: time, fields: fields)
    }

    static func stored(_ lake: Lake) throws -> [Event] {
        try lake.log.read(from: 0, limit: 100).map { try $0.payload.withUnsafeBytes { try EventCodec.decode($0) } }
    }

    @Test func aMixedBatchKeepsTheValidEventsAndRejectsEachOtherWithItsCodeAndField() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let lake = try Fixtures.lake(directory, clock: ManualClock(Self.now))
        let batch = [
            Self.event("view", id: "ok-1", [("item_id", .string("i1"))]),
            Self.event("view", user: nil, [("item_id", .string("i1"))]),
            Self.event("click", [("item_id", .string("i1")), ("position", .string("first"))]),
            Self.event("view", [("item_id", .string("i1")), ("page", .string("basement"))]),
            Self.event("rate", [("item_id", .string("i1")), ("rating", .int(7))]),
            Self.event("fly", [("item_id", .string("i1"))]),
            Self.event("click", id: "ok-2", [("item_id", .string("i2")), ("position", .int(3))]),
            Self.event("view", []),
            Self.event("click", [("item_id", .string("i1")), ("position", .int(-1))]),
        ]
        let result = try await lake.ingestor.ingest(events: batch, source: "typed")
        #expect(result.accepted == 2)
        #expect(result.duplicates == 0)
        #expect(result.offsets == 0..<2)
        #expect(result.rejected.map(\.index) == [1, 2, 3, 4, 5, 7, 8])
        #expect(
            result.rejected.map(\.code) == [
                "missing_field", "wrong_type", "value_not_allowed", "above_maximum", "unknown_event_type", "missing_field", "below_minimum",
            ])
        #expect(result.rejected.map(\.field) == ["user_id", "position", "page", "rating", "type", "item_id", "position"])
        #expect(result.rejected.allSatisfy { !$0.message.isEmpty })

        let records = try Self.stored(lake)
        #expect(records.map(\.type) == ["view", "click"])
        #expect(records.map(\.eventID) == ["ok-1", "ok-2"])
        #expect(records.map(\.itemID) == ["i1", "i2"])
        #expect(records[1][field: "position"] == .int(3))
        #expect(records.allSatisfy { $0.timestamp == Self.now - 1_000 && $0.ingestedAt == Self.now })
        #expect(lake.log.endOffset == 2)
        #expect(lake.deadLetters.count == 7)

        let counts = lake.ingestor.counts
        #expect(counts.acceptedByType == ["view": 1, "click": 1])
        #expect(
            counts.rejectedByCode == [
                "missing_field": 2, "wrong_type": 1, "value_not_allowed": 1, "above_maximum": 1, "unknown_event_type": 1, "below_minimum": 1,
            ])
        #expect(counts.accepted == 2 && counts.rejected == 7)
        await lake.close()
    }

    @Test(
        arguments: [
            (IncomingEvent(type: "view", userID: "u", time: nil, fields: [("item_id", .string("i"))]), "timestamp", "missing_field"),
            (IncomingEvent(type: "view", userID: "u", time: .text("noon"), fields: [("item_id", .string("i"))]), "timestamp", "invalid_timestamp"),
            (IncomingEvent(type: "view", userID: "", time: .millis(now), fields: [("item_id", .string("i"))]), "user_id", "empty_string"),
            (IncomingEvent(type: "view", userID: "u", time: .millis(now), fields: [("item_id", .int(5))]), "item_id", "wrong_type"),
            (
                IncomingEvent(type: "view", userID: "u", time: .millis(now), fields: [("item_id", .string(String(repeating: "x", count: 129)))]),
                "item_id", "string_too_long"
            ),
            (IncomingEvent(type: "catalog_item", userID: nil, time: .millis(now), fields: [("item_id", .string("i"))]), "type", "reserved_event_type"),
            (
                IncomingEvent(type: "purchase", userID: "u", time: .millis(now), fields: [("item_id", .string("i")), ("order_id", .string("o"))]),
                "price", "missing_field"
            ),
            (
                IncomingEvent(type: "click", userID: "u", time: .millis(now), fields: [("item_id", .string("i")), ("position", .double(2.5))]),
                "position", "wrong_type"
            ),
            (IncomingEvent(type: "view", userID: "u", time: .millis(now + 86_400_000), fields: [("item_id", .string("i"))]), "timestamp", "in_future"),
        ] as [(IncomingEvent, String, String)])
    func aTypedEventBreakingOneRuleIsRejectedWithThatRule(event: IncomingEvent, field: String, code: String) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let lake = try Fixtures.lake(directory, clock: ManualClock(Self.now))
        let good = Self.event("view", [("item_id", .string("kept"))])
        let result = try await lake.ingestor.ingest(events: [good, event], source: "typed")
        #expect(result.accepted == 1)
        #expect(result.rejected.count == 1)
        #expect(result.rejected.first?.index == 1)
        #expect(result.rejected.first?.code == code, "\(result.rejected)")
        #expect(result.rejected.first?.field == field)
        #expect(try Self.stored(lake).map(\.itemID) == ["kept"])
        await lake.close()
    }

    @Test func theSameEventIDWithinTheWindowIsStoredOnceAndCountedAsADuplicate() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualClock(Self.now)
        let lake = try Fixtures.lake(directory, clock: clock)
        let first = Self.event("view", id: "e-1", [("item_id", .string("i1"))])
        let other = Self.event("view", id: "e-2", [("item_id", .string("i2"))])

        let initial = try await lake.ingestor.ingest(events: [first, other, first], source: "typed")
        #expect(initial.accepted == 3)
        #expect(initial.duplicates == 1)
        #expect(initial.offsets == 0..<2)
        #expect(lake.log.endOffset == 2)
        #expect(lake.ingestor.dedupeSize == 2)

        // A retry an hour later is acknowledged but not stored again.
        clock.advance(3_600_000)
        let retry = try await lake.ingestor.ingest(events: [other, first], source: "typed", allowLate: true)
        #expect(retry.accepted == 2)
        #expect(retry.duplicates == 2)
        #expect(retry.rejected.isEmpty)
        #expect(retry.offsets == nil)
        #expect(lake.log.endOffset == 2)
        #expect(lake.ingestor.counts.duplicates == 3)
        // Acknowledged retries count as accepted, as in `IngestResult.accepted`.
        #expect(lake.ingestor.counts.acceptedByType == ["view": 5])
        #expect(try Self.stored(lake).map(\.eventID) == ["e-1", "e-2"])

        // Events without an id are never de-duplicated.
        let anonymous = Self.event("view", [("item_id", .string("i3"))])
        let twice = try await lake.ingestor.ingest(events: [anonymous, anonymous], source: "typed", allowLate: true)
        #expect(twice.duplicates == 0)
        #expect(lake.log.endOffset == 4)
        await lake.close()
    }

    /// An id is remembered for at least the window and at most a quarter longer (the index
    /// evicts in generations of a quarter window).
    @Test func anEventIDOlderThanTheWindowAndAQuarterIsStoredAgain() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualClock(Self.now)
        let lake = try Fixtures.lake(directory, clock: clock)
        let window = Fixtures.config.ingest.dedupeWindowMillis
        _ = try await lake.ingestor.ingest(events: [Self.event("view", id: "e-1", [("item_id", .string("i1"))])], source: "typed")
        clock.advance(window)
        let retry = Self.event("view", id: "e-1", time: .millis(clock.nowMillis()), [("item_id", .string("i1"))])
        #expect(try await lake.ingestor.ingest(events: [retry], source: "typed").duplicates == 1, "a retry at the window's end is acknowledged")
        clock.advance(window / 4 + 1)
        let again = Self.event("view", id: "e-1", time: .millis(clock.nowMillis()), [("item_id", .string("i1"))])
        let result = try await lake.ingestor.ingest(events: [again], source: "typed")
        #expect(result.accepted == 1)
        #expect(result.duplicates == 0)
        #expect(result.offsets == 1..<2)
        #expect(lake.ingestor.dedupeSize == 1)
        await lake.close()
    }

    @Test func rejectedEventsLandInTheDeadLetterStoreWithTheirReasonInOrder() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let lake = try Fixtures.lake(directory, clock: ManualClock(Self.now))
        let first = try await lake.ingestor.ingest(
            events: [
                Self.event("view", user: nil, [("item_id", .string("i1"))]),
                Self.event("view", [("item_id", .string("i1"))]),
                Self.event("fly", [("item_id", .string("i1"))]),
            ], source: "import:a.csv")
        #expect(first.accepted == 1)
        let second = try await lake.ingestor.ingest(
            events: [Self.event("rate", [("item_id", .string("i9")), ("rating", .int(7))])], source: "http")
        #expect(second.accepted == 0)

        #expect(lake.deadLetters.count == 3)
        let letters = try lake.deadLetters.list()
        #expect(letters.map(\.offset) == [0, 1, 2])
        #expect(letters.map(\.source) == ["import:a.csv", "import:a.csv", "http"])
        #expect(letters.map(\.receivedAt) == [Self.now, Self.now, Self.now])
        #expect(letters.map(\.rejection.index) == [0, 2, 0])
        #expect(letters.map(\.rejection.code) == ["missing_field", "unknown_event_type", "above_maximum"])
        #expect(letters.map(\.rejection.field) == ["user_id", "type", "rating"])
        #expect(letters.map(\.rejection) == first.rejected + second.rejected)
        // The raw text is the event as sent.
        let raw = try JSONValue.parse(letters[2].raw)
        #expect(raw["type"] == .string("rate"))
        #expect(raw["item_id"] == .string("i9"))
        #expect(raw["rating"] == .int(7))
        #expect(letters[2].json["code"] == .string("above_maximum"))
        #expect(letters[2].json["source"] == .string("http"))

        // Paging reads on from an offset, oldest first.
        #expect(try lake.deadLetters.list(from: 1, limit: 1).map(\.offset) == [1])
        #expect(try lake.deadLetters.list(from: 2).map(\.rejection.code) == ["above_maximum"])
        #expect(try lake.deadLetters.list(from: 3).isEmpty)
        await lake.close()
    }

    @Test func deadLettersStoredDirectlyAreReadBackAndSurviveARestart() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var lake = try Fixtures.lake(directory, clock: ManualClock(Self.now))
        let letters = [
            (rejection: Rejection(index: 0, field: nil, code: "malformed_json", message: "not JSON"), raw: "{oops"),
            (rejection: Rejection(index: 1, field: "type", code: "missing_field", message: "no type"), raw: "{}"),
        ]
        try await lake.deadLetters.store(letters, source: "kafka:events", receivedAt: 42)
        try await lake.deadLetters.store([], source: "kafka:events", receivedAt: 43)
        #expect(lake.deadLetters.count == 2)
        await lake.close()

        lake = try Fixtures.lake(directory, clock: ManualClock(Self.now))
        let read = try lake.deadLetters.list()
        #expect(read.map(\.rejection) == letters.map(\.rejection))
        #expect(read.map(\.raw) == ["{oops", "{}"])
        #expect(read.allSatisfy { $0.source == "kafka:events" && $0.receivedAt == 42 })
        #expect(read.first?.rejection.field == nil)
        await lake.close()
    }
}
