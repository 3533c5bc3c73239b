import Foundation
import StrataCore
import StrataTesting
import Synchronization
import Testing

@testable import StrataServing

/// Stopping the batch job: no chunk starts once the stop is set (the chunks in hand finish),
/// a stopped job publishes nothing and never runs again, and a controller's graceful stop
/// returns with no job left running.
@Suite struct BatchJobStopTests {
    @Test func noChunkStartsAfterTheStop() {
        let stop = StopFlag()
        let started = Mutex<[Int]>([])
        // 100 chunks of 10 over 2 threads; the first chunk to run sets the stop.
        Precomputer.onOwnThreads(1000, chunkSize: 10, threads: 2, until: stop) { range in
            started.withLock { $0.append(range.lowerBound / 10) }
            stop.set()
        }
        let chunks = started.withLock { $0 }
        #expect(!chunks.isEmpty && chunks.count <= 2, "each thread finishes at most the chunk in hand: \(chunks)")
        #expect(Set(chunks).count == chunks.count, "no chunk twice")
    }

    @Test func withoutAStopEveryChunkRunsOnce() {
        let seen = Mutex<[Int]>([])
        Precomputer.onOwnThreads(1005, chunkSize: 10, threads: 3) { range in
            seen.withLock { $0.append(contentsOf: range) }
        }
        #expect(seen.withLock { $0.sorted() } == Array(0..<1005))
    }

    @Test func aStoppedControllerPublishesNothingMore() async throws {
        let fixture = try await ServingFixture()
        let model = try #require(fixture.service.state("default")?.variants[0].model)
        _ = try await fixture.controller.precompute()
        #expect(await fixture.service.cache.tableInfo(model: model.key) != nil)
        await fixture.service.cache.retain(models: [])
        #expect(await fixture.service.cache.tableInfo(model: model.key) == nil)

        await fixture.controller.stopBatchJobs()
        await #expect(throws: CancellationError.self, "a stopped batch job does not run again") {
            _ = try await fixture.controller.precompute()
        }
        #expect(await fixture.service.cache.tableInfo(model: model.key) == nil, "nothing was published after the stop")
        // Stopping twice is harmless, and the server keeps answering live.
        await fixture.controller.stopBatchJobs()
        let answer = try await fixture.service.recommend(RecommendationRequest(user: fixture.knownUsers[0]))
        #expect(answer.source == .live && answer.items.count == 10)
        await fixture.close()
    }
}
