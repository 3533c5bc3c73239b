import StrataCore
import Testing

@testable import StrataLake

/// The de-duplication index remembers an id for at least its window and at most a quarter
/// longer, whatever the ingestion times; a failed write's id can be forgotten by its offset.
@Suite struct DedupeIndexTests {
    static let hour: Int64 = 3_600_000

    @Test func anIdIsRememberedForTheWindowAndForgottenWithinAQuarterMore() {
        var rng = SplitMix64(seed: 5)
        let window = 4 * Self.hour
        var index = DedupeIndex(windowMillis: window)
        var stored: [(id: Fingerprint128, offset: Int64, at: Int64)] = []
        var time: Int64 = 1_795_000_000_000
        for offset in 0..<5_000 {
            time += Int64(rng.nextInt(below: 20_000))
            let id = Fingerprint128("e\(offset)")
            index.insert(id, offset: Int64(offset), ingestedAt: time)
            stored.append((id, Int64(offset), time))
        }
        #expect(index.count == stored.count)
        var now = time
        while now < time + 2 * window {
            now += Self.hour / 7
            index.evict(now: now)
            for entry in stored {
                let age = now - entry.at
                if age <= window {
                    #expect(index.offset(of: entry.id) == entry.offset, "age \(age) is within the window")
                } else if age > window + window / 4 {
                    #expect(index.offset(of: entry.id) == nil, "age \(age) is past the window and a quarter")
                }
            }
        }
        #expect(index.count == 0)
    }

    @Test func aFailedWritesIdIsForgottenOnlyAtItsOffset() {
        var index = DedupeIndex(windowMillis: Self.hour)
        let id = Fingerprint128("retried")
        index.insert(id, offset: 7, ingestedAt: 1_000)
        index.remove(id, ifAt: 8)
        #expect(index.offset(of: id) == 7)
        index.remove(id, ifAt: 7)
        #expect(index.offset(of: id) == nil)
        // A clock stepped back still finds and evicts the id.
        index.insert(Fingerprint128("late"), offset: 9, ingestedAt: 5 * Self.hour)
        index.insert(Fingerprint128("earlier"), offset: 10, ingestedAt: Self.hour)
        #expect(index.offset(of: Fingerprint128("earlier")) == 10)
        index.evict(now: 20 * Self.hour)
        #expect(index.count == 0)
    }
}
