import Foundation
import StrataCore
import StrataTesting
import Testing

@testable import StrataLake

/// The one replay every consumer reads events through: the lake's files for what log
/// retention deleted, then the log, in offset order, with forgotten users left out.
@Suite struct EventStreamTests {
    /// A lake whose first 400 events were compacted and then deleted from the log by retention,
    /// and whose next 400 are still in the log.
    func lakeWithRetainedTail(_ directory: TemporaryDirectory) async throws -> (lake: Lake, first: [IncomingEvent], second: [IncomingEvent]) {
        var config = Fixtures.config
        config.log.segmentBytes = 4_000
        config.ingest.dedupeWindowMillis = 1_000
        config.log.retentionMillis = 1_000
        let clock = ManualClock(SystemClock().nowMillis())
        let lake = try Fixtures.lake(directory, config: config, clock: clock)
        let first = Fixtures.events(400, seed: 11)
        _ = try await lake.ingestor.ingest(events: first, source: "test")
        _ = try await lake.maintain(force: true)
        clock.advance(60_000)
        await lake.compactor.applyRetention(floor: .max)
        let second = Fixtures.events(400, seed: 12)
        _ = try await lake.ingestor.ingest(events: second, source: "test")
        return (lake, first, second)
    }

    @Test func replayReadsTheLakeBeforeTheLogStartThenTheLogInOffsetOrder() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (lake, first, second) = try await lakeWithRetainedTail(directory)
        let logStart = lake.events.logStart
        #expect(logStart > 100 && logStart <= 400, "retention deleted the first batch's segments")

        var offsets: [Int64] = []
        var ids: [String] = []
        let end = try lake.events.replay(from: 0) { offset, event in
            offsets.append(offset)
            ids.append(event.eventID ?? "")
        }
        #expect(end == lake.events.end)
        #expect(offsets == Array(0..<800), "every offset once, in order, across the lake and the log")
        #expect(Set(ids) == Set((first + second).compactMap(\.eventID)))

        // From inside the lake's part, and up to the log's start only.
        var fromMiddle: [Int64] = []
        try lake.events.replay(from: 100) { offset, _ in fromMiddle.append(offset) }
        #expect(fromMiddle == Array(100..<800))
        var lakeOnly: [Int64] = []
        let stopped = try lake.events.replay(from: 0, to: logStart) { offset, _ in lakeOnly.append(offset) }
        #expect(lakeOnly == Array(0..<logStart) && stopped == logStart)

        // A type filter passes only those types, from both parts.
        var types = Set<String>()
        var viewed = 0
        try lake.events.replay(from: 0, types: ["view"]) { _, event in
            types.insert(event.type)
            viewed += 1
        }
        #expect(types == ["view"])
        #expect(viewed == (first + second).filter { $0.type == "view" }.count)
        await lake.close()
    }

    @Test func aForgottenUsersEarlierEventsAreLeftOutOfTheLakeAndTheLogAlike() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (lake, first, second) = try await lakeWithRetainedTail(directory)
        // A user with events in the deleted part (now only in the lake) and in the log.
        let inLake = Set(first.compactMap(\.userID))
        guard let user = second.compactMap(\.userID).first(where: inLake.contains) else {
            Issue.record("no user in both parts")
            return
        }
        _ = try await lake.forget(userID: user, requestedBy: "test")
        var later = second.first { $0.userID == user }!
        later.eventID = "after-forget"
        later.time = .millis(SystemClock().nowMillis())
        _ = try await lake.ingestor.ingest(events: [later], source: "test")

        var users: [String?] = []
        var ids = Set<String>()
        try lake.events.replay(from: 0) { _, event in
            users.append(event.userID)
            ids.insert(event.eventID ?? "")
        }
        let theirs = (first + second).filter { $0.userID == user }
        #expect(!theirs.isEmpty)
        #expect(users.filter { $0 == user }.count == 1, "only the event sent after the forget")
        #expect(ids.contains("after-forget"))
        #expect(ids.count == 800 - theirs.count + 1)
        #expect(lake.events.usersForgotten(after: 0) == [ForgetRecord.hash(of: user)])
        await lake.close()
    }
}
