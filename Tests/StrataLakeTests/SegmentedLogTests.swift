import Foundation
import StrataCore
import StrataTesting
import Testing

@testable import StrataLake

@Suite struct SegmentedLogTests {
    func batch(_ payloads: [String]) -> FramedBatch {
        var batch = FramedBatch()
        for payload in payloads { batch.append(payload: Array(payload.utf8)) }
        return batch
    }

    func all(_ log: SegmentedLog) throws -> [String] {
        try log.read(from: log.startOffset, limit: .max).map { String(decoding: $0.payload, as: UTF8.self) }
    }

    @Test func appendsAreReadBackInOrderAndSurviveReopening() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var log = try SegmentedLog(directory: directory.path, options: LogOptions(segmentBytes: 200), logger: quietLogger)
        let first = try await log.append(batch(["a", "b", "c"]))
        #expect(first == 0..<3)
        for round in 0..<4 {
            let range = try await log.append(batch((0..<10).map { "record-\(round * 10 + $0)" }))
            #expect(range == Int64(3 + round * 10)..<Int64(13 + round * 10))
        }
        #expect(log.segments.count > 2, "small segments roll")
        try await log.roll()
        #expect(try all(log) == ["a", "b", "c"] + (0..<40).map { "record-\($0)" })
        #expect(try log.read(from: 10, limit: 2).map(\.offset) == [10, 11])
        await log.close()
        log = try SegmentedLog(directory: directory.path, options: LogOptions(segmentBytes: 200), logger: quietLogger)
        #expect(log.endOffset == 43)
        #expect(try all(log).count == 43)
        #expect(try await log.append(batch(["after"])) == 43..<44)
        await log.close()
    }

    @Test func aTornOrCorruptTailIsTruncatedAndEverythingBeforeItKept() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let log = try SegmentedLog(directory: directory.path, logger: quietLogger)
        try await log.append(batch((0..<10).map { "kept-\($0)" }))
        await log.close()
        let segment = LogRecovery.segmentFiles(directory: directory.path).last!.path
        // A crash mid-write: half a frame of the next record.
        let handle = FileHandle(forWritingAtPath: segment)!
        handle.seekToEndOfFile()
        var partial = batch(["this record never finished"]).bytes
        partial.removeLast(7)
        handle.write(Data(partial))
        try handle.close()
        var reopened = try SegmentedLog(directory: directory.path, logger: quietLogger)
        #expect(reopened.endOffset == 10)
        #expect(try all(reopened) == (0..<10).map { "kept-\($0)" })
        try await reopened.append(batch(["next"]))
        await reopened.close()
        // Flip a byte inside the last record: its checksum fails, so it is dropped.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: segment))
        bytes[bytes.count - 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: segment))
        reopened = try SegmentedLog(directory: directory.path, logger: quietLogger)
        #expect(reopened.endOffset == 10)
        await reopened.close()
    }

    @Test func concurrentAppendersShareFlushesAndGetDisjointOffsets() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let log = try SegmentedLog(directory: directory.path, logger: quietLogger)
        let ranges = try await withThrowingTaskGroup(of: Range<Int64>.self) { group in
            for writer in 0..<16 {
                group.addTask { try await log.append(self.batch((0..<50).map { "w\(writer)-\($0)" })) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let sorted = ranges.sorted { $0.lowerBound < $1.lowerBound }
        #expect(sorted.first?.lowerBound == 0)
        #expect(zip(sorted, sorted.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
        let records = try all(log)
        #expect(records.count == 800)
        for range in ranges {
            let writer = records[Int(range.lowerBound)].split(separator: "-").first!
            #expect(records[Int(range.lowerBound)..<Int(range.upperBound)].allSatisfy { $0.hasPrefix(writer + "-") }, "a batch stays contiguous")
        }
        await log.close()
    }

    @Test func tailingReadersWakeUpOnNewRecords() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let log = try SegmentedLog(directory: directory.path, logger: quietLogger)
        let waiter = Task {
            await log.waitForRecords(from: 0)
            return log.endOffset
        }
        try await Task.sleep(for: .milliseconds(50))
        try await log.append(batch(["wake"]))
        #expect(await waiter.value == 1)
        await log.close()
    }

    @Test func retentionDeletesOnlyClosedSegmentsBelowTheFloor() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let log = try SegmentedLog(directory: directory.path, options: LogOptions(segmentBytes: 100), logger: quietLogger)
        for round in 0..<5 { try await log.append(batch((0..<5).map { "r\(round)-\($0)-padding-padding" })) }
        let before = log.segments
        let deleted = log.deleteSegments(endingAtOrBefore: 12)
        #expect(deleted > 0)
        #expect(log.startOffset <= 12)
        #expect(log.segments.count == before.count - deleted)
        #expect(throws: StrataError.self) { try log.read(from: 0, limit: 1) }
        #expect(try log.read(from: log.startOffset, limit: .max).count == Int(log.endOffset - log.startOffset))
        await log.close()
    }
}
