import Foundation
import StrataCore
import StrataLake
import StrataML
import StrataTesting
import Testing

@testable import StrataServing

/// Serving through the approximate retrieval index (a catalogue above `serving.ann.exact_below`,
/// here set low): the version carries its index and its measured recall; the batch job, the live
/// path and similar items search it; where the search is broad enough to be exact, their answers
/// are exact search's; a filter that lets 1% of the catalogue through still fills the page.
@Suite(.serialized) struct RetrievalServingTests {
    @Test func servingSearchesTheIndexAndKeepsItsPromises() async throws {
        let fixture = try await ServingFixture {
            $0.serving.ann.exactBelow = 10
            $0.serving.ann.efSearch = 500
        }
        defer { Task { await fixture.close() } }
        let model = try #require(fixture.service.state("default")?.variants[0].model)
        let factor = try #require(model.recommender as? any FactorRecommender)
        #expect(factor.retrieval != nil, "trained above exact_below: the artifact carries the index")
        let run = try await fixture.runs.get(model.version.runID)
        #expect((run.metrics["ann_recall@10"] ?? 0) >= 0.95, "\(run.metrics)")
        #expect(model.version.gate?.annRecall == run.metrics["ann_recall@10"])

        // The batch job: each cached list is exact search's, less what the user interacted with.
        _ = try await fixture.controller.precompute()
        for user in fixture.knownUsers.prefix(20) {
            let cached = try #require(await fixture.service.cache.get(model: model.key, user: user))
            let seen = Set(fixture.service.activity.exclusions(user, impressedSince: nil).seen.ids(mask: .max).compactMap { factor.items.index(of: $0) })
            var scores = [Float](repeating: 0, count: factor.items.count)
            let exact = scores.withUnsafeMutableBufferPointer { buffer in
                factor.score(UserQuery(userIndex: Int(factor.users.index(of: user)!), items: [], weights: []), into: buffer)
                return TopK.select(UnsafeBufferPointer(buffer), n: 50) { seen.contains(Int32($0)) }
            }
            #expect(cached.items.map { Int($0) } == exact.map { $0.index }, "\(user)")
        }

        // A filter that lets five of 500 items through: a newcomer's live page still has them all.
        let needles = Array(factor.items.ids.prefix(5))
        _ = try await fixture.lake.ingestor.upsertCatalog(
            .item, needles.map { CatalogUpsert(id: $0, properties: ["category": "needle", "price": 1.0, "in_stock": true]) }, source: "test")
        try fixture.lake.catalog.catchUp()
        await fixture.controller.watchOnce()
        try await fixture.ingest([fixture.event("click", user: "newcomer", item: factor.items.ids[100])])
        let filtered = try await fixture.service.recommend(RecommendationRequest(user: "newcomer", n: 5, filter: ItemFilter(categories: ["needle"])))
        #expect(filtered.source == .live)
        #expect(Set(filtered.items.map(\.id)) == Set(needles), "\(filtered.items.map(\.id))")

        // Similar items: the cosine index's answer is exact cosine similarity's.
        let item = Int32(7)
        let viaIndex = factor.similarItems(to: item, n: 10).map(\.index)
        var exact = factor
        exact.retrieval = nil
        #expect(viaIndex == exact.similarItems(to: item, n: 10).map(\.index))
        let answer = try fixture.service.similar(to: factor.items.id(at: item), n: 10)
        #expect(answer.items.count == 10)
    }
}
