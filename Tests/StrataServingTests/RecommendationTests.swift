import Foundation
import StrataCore
import StrataLake
import StrataServing
import StrataTesting
import Testing

/// The request path: cache, live fallback, trending, exclusions, filters and pages.
@Suite(.serialized) struct RecommendationTests {
    @Test("a click changes the user's next live recommendation; a user without history gets trending items")
    func clicksChangeLiveRecommendations() async throws {
        let fixture = try await ServingFixture()
        defer { Task { await fixture.close() } }
        let newcomer = "newcomer-1"
        let first = try await fixture.service.recommend(RecommendationRequest(user: newcomer))
        #expect(first.source == .trending)
        #expect(!first.items.isEmpty)
        let model = try #require(fixture.service.state("default")?.variants[0].model)
        let item = model.recommender.items.ids[3]
        try await fixture.ingest([fixture.event("click", user: newcomer, item: item)])
        let second = try await fixture.service.recommend(RecommendationRequest(user: newcomer))
        #expect(second.source == .live)
        #expect(!second.items.contains { $0.id == item }, "a seen item is not recommended back")
        #expect(second.items.map(\.id) != first.items.map(\.id))
        let other = model.recommender.items.ids[40]
        try await fixture.ingest([fixture.event("click", user: newcomer, item: other)])
        let third = try await fixture.service.recommend(RecommendationRequest(user: newcomer))
        #expect(third.items.map(\.id) != second.items.map(\.id))
    }

    @Test("a known user's fresh cache answers; their next interaction makes it stale")
    func cacheThenStale() async throws {
        let fixture = try await ServingFixture()
        defer { Task { await fixture.close() } }
        _ = try await fixture.controller.precompute()
        let user = fixture.knownUsers[7]
        #expect(try await fixture.service.recommend(RecommendationRequest(user: user)).source == .cache)
        let model = try #require(fixture.service.state("default")?.variants[0].model)
        try await fixture.ingest([fixture.event("view", user: user, item: model.recommender.items.ids[0])])
        #expect(try await fixture.service.recommend(RecommendationRequest(user: user)).source == .live)
    }

    @Test("exclude lists, hide events, impressed items, filters and pages")
    func exclusionsFiltersAndPages() async throws {
        let fixture = try await ServingFixture { $0.serving.impressedExclusionMillis = 600_000 }
        defer { Task { await fixture.close() } }
        _ = try await fixture.controller.precompute()
        let user = fixture.knownUsers[3]
        let base = try await fixture.service.recommend(RecommendationRequest(user: user, excludeImpressed: false))
        let explicit = Set(base.items.prefix(2).map(\.id))
        let withoutExplicit = try await fixture.service.recommend(RecommendationRequest(user: user, exclude: explicit, excludeImpressed: false))
        #expect(explicit.isDisjoint(with: withoutExplicit.items.map(\.id)))
        #expect(withoutExplicit.items.count == 10)

        // A hide event excludes the item at once.
        let hidden = base.items[2].id
        try await fixture.ingest([fixture.event("hide", user: user, item: hidden)])
        #expect(try await !fixture.service.recommend(RecommendationRequest(user: user, excludeImpressed: false)).items.contains { $0.id == hidden })

        // Pages never repeat an item.
        var seen: [String] = []
        var cursor: PageCursor?
        for _ in 0..<4 {
            let page = try await fixture.service.recommend(RecommendationRequest(user: user, n: 5, cursor: cursor, excludeImpressed: false))
            seen += page.items.map(\.id)
            cursor = try #require(page.nextCursor)
            cursor = try PageCursor(token: cursor!.token)
        }
        #expect(Set(seen).count == seen.count)
        #expect(seen.count == 20)

        // Business filters apply before the cut: n items, all passing.
        let filtered = try await fixture.service.recommend(
            RecommendationRequest(user: user, filter: ItemFilter(inStock: true, maxPrice: 100), excludeImpressed: false))
        #expect(filtered.items.count == 10)
        for item in filtered.items {
            let entry = try #require(fixture.lake.catalog.item(item.id))
            #expect(entry.properties["in_stock"]?.boolValue == true)
            #expect((entry.properties["price"]?.numericValue ?? 1e9) <= 100)
        }

        // Items impressed to the user lately are left out.
        let shown = try await fixture.service.recommend(RecommendationRequest(user: user, n: 3))
        try await fixture.ingest(
            shown.items.map { fixture.event("impression", user: user, item: $0.id, [("recommendation_id", .string(shown.id.text))]) })
        let next = try await fixture.service.recommend(RecommendationRequest(user: user, n: 3))
        #expect(Set(next.items.map(\.id)).isDisjoint(with: shown.items.map(\.id)))
    }

    @Test("bad requests get clear errors")
    func badRequests() async throws {
        let fixture = try await ServingFixture()
        defer { Task { await fixture.close() } }
        await #expect(throws: StrataError.self) { try await fixture.service.recommend(RecommendationRequest(user: "u1", n: 0)) }
        #expect(throws: StrataError.self) { try PageCursor(token: "not a cursor") }
        await #expect(throws: StrataError.self) { try await fixture.service.recommend(RecommendationRequest(user: "u1", deployment: "nope")) }
    }
}
