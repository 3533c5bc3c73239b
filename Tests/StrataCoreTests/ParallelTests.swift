import Foundation
import StrataCore
import Testing

private struct IndexedFailure: Error, Equatable {
    var index: Int
}

@Suite struct ParallelTests {
    @Test(arguments: [1, 2, 3, 8, 64])
    func mapPreservesOrder(threads: Int) throws {
        let result = try Parallel.map(100, threads: threads) { $0 * $0 }
        #expect(result == (0..<100).map { $0 * $0 })
    }

    @Test func mapOfNothingIsEmpty() throws {
        let result = try Parallel.map(0, threads: 4) { $0 }
        #expect(result.isEmpty)
    }

    @Test func mapResultIsIndependentOfThreadCount() throws {
        let reference = try Parallel.map(257, threads: 1) { index -> UInt64 in
            var rng = SplitMix64(seed: UInt64(index))
            return rng.next()
        }
        for threads in [2, 3, 5, 16] {
            let other = try Parallel.map(257, threads: threads) { index -> UInt64 in
                var rng = SplitMix64(seed: UInt64(index))
                return rng.next()
            }
            #expect(other == reference)
        }
    }

    @Test(arguments: [1, 2, 4])
    func mapRethrowsTheLowestIndexedError(threads: Int) {
        do {
            _ = try Parallel.map(20, threads: threads) { index -> Int in
                if index == 7 || index == 13 { throw IndexedFailure(index: index) }
                return index
            }
            Issue.record("expected an error")
        } catch let failure as IndexedFailure {
            #expect(failure.index == 7)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func mapRunsEveryTransformEvenWhenOneThrows() {
        let counter = ChunkResults<Bool>(count: 30)
        #expect(throws: IndexedFailure.self) {
            _ = try Parallel.map(30, threads: 3) { index -> Int in
                counter.set(index, true)
                if index == 0 { throw IndexedFailure(index: 0) }
                return index
            }
        }
        #expect(counter.values.allSatisfy { $0 == true })
    }

    /// Each case is [count, chunkSize, threads].
    @Test(arguments: [[10, 3, 1], [10, 3, 2], [10, 3, 8], [1, 5, 4], [100, 1, 3], [99, 10, 2], [7, 7, 2]])
    func forEachChunkCoversEachIndexOnceInFixedChunks(shape: [Int]) {
        let (count, chunkSize, threads) = (shape[0], shape[1], shape[2])
        let chunks = (count + chunkSize - 1) / chunkSize
        let seen = ChunkResults<Range<Int>>(count: chunks)
        Parallel.forEachChunk(count, chunkSize: chunkSize, threads: threads) { range in
            seen.set(range.lowerBound / chunkSize, range)
        }
        let ranges = seen.values.compactMap { $0 }
        #expect(ranges.count == chunks)
        for (chunk, range) in ranges.enumerated() {
            #expect(range.lowerBound == chunk * chunkSize)
            #expect(range.upperBound == min(count, (chunk + 1) * chunkSize))
        }
        #expect(ranges.reduce(0) { $0 + $1.count } == count)
    }

    @Test func forEachChunkOfNothingNeverCallsTheBody() {
        let calls = ChunkResults<Int>(count: 1)
        Parallel.forEachChunk(0, chunkSize: 4, threads: 4) { _ in calls.set(0, 1) }
        #expect(calls.values == [nil])
    }

    @Test func coreCountIsPositive() {
        #expect(Parallel.coreCount >= 1)
    }
}

@Suite struct DurationTextTests {
    @Test(arguments: [
        ("0ms", Int64(0)), ("1ms", 1), ("500ms", 500), ("30s", 30_000), ("5m", 300_000), ("1h", 3_600_000), ("7d", 604_800_000),
        ("2w", 1_209_600_000), (" 15s ", 15_000), ("0s", 0), ("0012m", 720_000),
    ])
    func parsesEachUnit(text: String, millis: Int64) {
        #expect(DurationText.parseMillis(text) == millis)
    }

    @Test(arguments: ["", "ms", "5", "5 m", "5M", "-5s", "+5s", "1.5h", "5y", "5mss", "5sm", "h5", "١٢s", "99999999999999999999s"])
    func rejectsWhatIsNotADuration(text: String) {
        #expect(DurationText.parseMillis(text) == nil)
    }

    @Test func overflowIsRejectedNotWrapped() {
        #expect(DurationText.parseMillis("\(Int64.max)ms") == Int64.max)
        #expect(DurationText.parseMillis("\(Int64.max / 1000 + 1)s") == nil)
        #expect(DurationText.parseMillis("\(Int64.max / 604_800_000)w") == (Int64.max / 604_800_000) * 604_800_000)
        #expect(DurationText.parseMillis("\(Int64.max / 604_800_000 + 1)w") == nil)
    }

    @Test(arguments: [
        (Int64(0), "0ms"), (1, "1ms"), (999, "999ms"), (1000, "1s"), (1500, "1500ms"), (90_000, "90s"), (60_000, "1m"), (3_600_000, "1h"),
        (5_400_000, "90m"), (86_400_000, "1d"), (172_800_000, "2d"), (604_800_000, "1w"), (1_209_600_000, "2w"), (691_200_000, "8d"),
    ])
    func formatsTheShortestExactText(millis: Int64, text: String) {
        #expect(DurationText.format(millis: millis) == text)
    }

    @Test func formatThenParseRoundTrips() {
        var rng = SplitMix64(seed: 11)
        let scales: [Int64] = [1, 1000, 60_000, 3_600_000, 86_400_000, 604_800_000]
        for _ in 0..<500 {
            let scale = scales[rng.nextInt(below: scales.count)]
            let millis = Int64(rng.nextInt(below: 10_000)) * scale
            #expect(DurationText.parseMillis(DurationText.format(millis: millis)) == millis)
        }
    }
}
