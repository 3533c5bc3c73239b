import Foundation
import StrataCore
import StrataLake
import StrataServing
import StrataTesting
import Testing

/// The batch job: which users it precomputes, what a later run keeps, and what a restart finds.
@Suite(.serialized) struct PrecomputeTests {
    static let day: Int64 = 86_400_000

    func progress(_ fixture: ServingFixture) throws -> PrecomputeProgress {
        try #require(fixture.controller.precomputeProgress.first { $0.model == fixture.versions[0].reference })
    }

    @Test("a run computes only stale or missing lists, for users active within the window; a restart publishes the checkpoint")
    func incrementalActiveAndResumable() async throws {
        let clock = ManualClock(SystemClock().nowMillis())
        let fixture = try await ServingFixture(clock: clock) { $0.serving.precompute.activeWindowMillis = 7 * Self.day }
        defer { Task { await fixture.close() } }
        let users = fixture.knownUsers
        let model = try #require(fixture.service.state("default")?.variants[0].model)

        // Everyone was active just now: every trained user gets a list.
        let all = try await fixture.controller.precompute()[model.key]
        #expect(all == users.count)
        #expect(try progress(fixture).activeUsers == users.count)

        // Nothing happened since: the next run keeps every list and computes none.
        _ = try await fixture.controller.precompute()
        #expect(try progress(fixture).reused == users.count)
        #expect(try progress(fixture).computed == 0)

        // One user interacts: only their list is computed again, and it excludes the new item.
        let clicker = users[5]
        let item = model.recommender.items.ids.first { id in !(fixture.service.activity.exclusions(clicker, impressedSince: nil).excludes(id)) }!
        clock.advance(1000)
        try await fixture.ingest([fixture.event("click", user: clicker, item: item)])
        #expect(try await fixture.service.recommend(RecommendationRequest(user: clicker)).source == .live, "the interaction made the list stale")
        _ = try await fixture.controller.precompute()
        #expect(try progress(fixture).computed == 1)
        #expect(try progress(fixture).reused == users.count - 1)
        let fresh = try await fixture.service.recommend(RecommendationRequest(user: clicker, n: 50))
        #expect(fresh.source == .cache)
        #expect(!fresh.items.contains { $0.id == item })

        // A restarted server (a fresh, empty cache) publishes the checkpoint and computes nothing.
        let restarted = fixture.makeController()
        try await restarted.start()
        _ = try await restarted.precompute()
        let afterRestart = try #require(restarted.precomputeProgress.first { $0.model == model.key })
        #expect(afterRestart.reused == users.count)
        #expect(afterRestart.computed == 0)
        #expect(try await restarted.service.recommend(RecommendationRequest(user: users[9])).source == .cache)

        // A week later only the users active within the window are precomputed.
        clock.advance(8 * Self.day)
        let returning = users[11]
        try await fixture.ingest([fixture.event("view", user: returning, item: model.recommender.items.ids[0])])
        #expect(try await fixture.controller.precompute()[model.key] == 1)
        #expect(try progress(fixture).activeUsers == 1)
        #expect(try await fixture.service.recommend(RecommendationRequest(user: returning)).source == .cache)
        #expect(try await fixture.service.recommend(RecommendationRequest(user: users[9])).source == .live, "an inactive user is answered live")
    }

    @Test("a torn checkpoint tail (a crash mid-write) is ignored, and what precedes it is kept")
    func tornCheckpointTail() async throws {
        let fixture = try await ServingFixture()
        defer { Task { await fixture.close() } }
        let model = try #require(fixture.service.state("default")?.variants[0].model)
        _ = try await fixture.controller.precompute()
        let path = "\(fixture.lake.directory.precompute)/\(model.key).lists"
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([0x40, 0, 0, 0, 1, 2, 3, 4, 5, 6]))
        try handle.close()
        let restarted = fixture.makeController()
        try await restarted.start()
        _ = try await restarted.precompute()
        let progress = try #require(restarted.precomputeProgress.first { $0.model == model.key })
        #expect(progress.reused == fixture.knownUsers.count)
        #expect(progress.computed == 0)
    }
}
