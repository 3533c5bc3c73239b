import Foundation
import StrataCore
import StrataTesting
import Synchronization
import Testing

@testable import StrataLake

/// Real processes, real signals: acknowledged means durable.
@Suite(.serialized) struct CrashTests {
    /// Event ids in the log, with how often each occurs.
    func storedIDs(_ directory: TemporaryDirectory) async throws -> [String: Int] {
        try await Fixtures.storedEventIDs(dataDirectory: directory.path)
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func sigkillDuringIngestionLosesAndDuplicatesNothingAcknowledged(seed: UInt64) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let events = Fixtures.events(12_000, seed: seed)
        let batches = stride(from: 0, to: events.count, by: 200).map { Array(events[$0..<min($0 + 200, events.count)]) }
        var acknowledged = Set<Int>()
        var rng = SplitMix64(seed: seed)
        // Two crashes at random points, then a clean run that retries whatever was not acknowledged.
        for round in 0..<3 {
            let server = try ServerProcess(dataDirectory: directory.path)
            let pending = (0..<batches.count).filter { !acknowledged.contains($0) }
            let killAfter = round < 2 ? 5 + rng.nextInt(below: 15) : Int.max
            let acks = AcknowledgedBatches()
            await withTaskGroup(of: Void.self) { group in
                for worker in 0..<4 {
                    group.addTask {
                        for index in stride(from: worker, to: pending.count, by: 4) {
                            let batch = pending[index]
                            let body = batches[batch].map(\.json.serialized).joined(separator: "\n")
                            guard let status = await server.post(ndjson: body) else { return }
                            // The writer that records the kill-th acknowledgement kills the server
                            // itself: the other writers' batches are in flight, whatever the timing.
                            if status == 200, acks.insert(batch) == killAfter {
                                server.stop(signal: SIGKILL)
                                return
                            }
                        }
                    }
                }
            }
            if killAfter != .max, server.process.isRunning {
                Issue.record("the writers stopped after \(acks.count) acknowledgements, before the kill after \(killAfter)")
                server.stop(signal: SIGKILL)
            }
            acknowledged.formUnion(acks.all)
            if round < 2 { #expect(acknowledged.count < batches.count, "the kill happened mid-stream") }
            if killAfter == .max { #expect(server.stop(signal: SIGTERM) == 0) }
            let stored = try await storedIDs(directory)
            for batch in acknowledged {
                for event in batches[batch] {
                    #expect(stored[event.eventID!] == 1, "acknowledged \(event.eventID!) is stored \(stored[event.eventID!] ?? 0) times after round \(round)")
                }
            }
            #expect(stored.values.allSatisfy { $0 == 1 }, "no event is stored twice")
        }
        #expect(acknowledged.count == batches.count)
        #expect(try await storedIDs(directory).count == events.count)
    }

    @Test func sigtermStopsCleanlyAndKeepsEverything() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let server = try ServerProcess(dataDirectory: directory.path)
        let events = Fixtures.events(1000, seed: 40)
        #expect(await server.post(ndjson: events.map(\.json.serialized).joined(separator: "\n")) == 200)
        #expect(server.stop(signal: SIGTERM) == 0)
        let log = server.remainingLog()
        #expect(log.contains("stopped cleanly"))
        #expect(!log.contains("\"level\":\"error\""))
        #expect(try await storedIDs(directory).count == 1000)
    }
}

/// Batches the server answered 200 for, shared by the writers.
final class AcknowledgedBatches: Sendable {
    private let batches = Mutex(Set<Int>())
    /// Records an acknowledgement; answers how many there are now.
    @discardableResult
    func insert(_ batch: Int) -> Int {
        batches.withLock {
            $0.insert(batch)
            return $0.count
        }
    }
    var count: Int { batches.withLock { $0.count } }
    var all: Set<Int> { batches.withLock { $0 } }
}
