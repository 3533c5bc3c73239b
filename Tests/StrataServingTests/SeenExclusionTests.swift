import Foundation
import StrataCore
import StrataLake
import StrataServing
import StrataTesting
import Testing

/// What a shop sees after importing its history and training on it: no answer from any source
/// (cache, live, trending, similar items) recommends an item of the user's history; a catalog
/// kept up to date all day leaves the precomputed lists in use; a newcomer gets the history's
/// most popular items even when it ended months ago; `serving.exclude_seen` decides what
/// "seen" means.
@Suite(.serialized) struct SeenExclusionTests {
    static let day: Int64 = 86_400_000

    /// Generated histories that ended three months ago (`days` long: 15 gives hundreds of
    /// interactions per user), imported without a catalog, with an ALS model trained, promoted
    /// and precomputed.
    static func importedShop(days: Int = 15, configure: (inout StrataConfig) -> Void = { _ in }) async throws -> ServingFixture {
        let fixture = try await ServingFixture(historyLimit: nil, catalog: false, trainedVersions: 1, configure: configure) { generator in
            generator.users = 40
            generator.items = 300
            generator.days = days
            generator.sessionsPerUserPerDay = 3
            generator.endMillis = SystemClock().nowMillis() - 90 * day
        }
        _ = try await fixture.controller.precompute()
        return fixture
    }

    /// Each user's items by the types given (nil: every interaction type), read from the
    /// generated history itself, independently of how serving keeps it.
    static func histories(_ fixture: ServingFixture, types: Set<String>? = nil) -> [String: Set<String>] {
        let counted = types ?? Set(fixture.config.training.interactions.weights.keys)
        var seen: [String: Set<String>] = [:]
        for event in fixture.history where counted.contains(event.type) {
            guard let user = event.userID, let item = event.item else { continue }
            seen[user, default: []].insert(item)
        }
        return seen
    }

    @Test("no source recommends an item of the user's long history, with or without filters, after catalog upserts and a restart")
    func noAnswerContainsASeenItem() async throws {
        let fixture = try await Self.importedShop()
        defer { Task { await fixture.close() } }
        var seen = Self.histories(fixture)
        let users = fixture.knownUsers
        #expect(users.count >= 30)
        let interactionTypes = Set(fixture.config.training.interactions.weights.keys)
        var interactions: [String: Int] = [:]
        for event in fixture.history where interactionTypes.contains(event.type) { interactions[event.userID ?? "", default: 0] += 1 }
        let lengths = users.map { interactions[$0] ?? 0 }.sorted()
        let distinct = users.map { seen[$0]?.count ?? 0 }.sorted()
        #expect(lengths[lengths.count / 2] >= 200, "hundreds of interactions per user: median \(lengths[lengths.count / 2])")
        print("imported history: median \(lengths[lengths.count / 2]) interactions, \(distinct[distinct.count / 2]) distinct items per user")
        func check(_ answer: Recommendation, _ user: String, _ context: String) {
            let repeated = answer.items.map(\.id).filter { seen[user]?.contains($0) == true }
            #expect(repeated.isEmpty, "\(context): \(user)'s \(answer.source) answer holds seen items \(repeated)")
        }
        var sources: [RecommendationSource: Int] = [:]
        for user in users {
            let answer = try await fixture.service.recommend(RecommendationRequest(user: user))
            sources[answer.source, default: 0] += 1
            #expect(answer.items.count == 10)
            check(answer, user, "imported")
        }
        #expect(sources[.cache] == users.count, "every trained user is answered from the cache: \(sources)")

        // The shop keeps its catalog current: hundreds of upserts (price, stock, category), some
        // items hidden or deleted. The lists stay in use; what changed is skipped as it is read.
        let items = try #require(fixture.service.state("default")?.variants[0].model).recommender.items.ids
        var upserts: [CatalogUpsert] = []
        for round in 0..<2 {
            for (index, item) in items.enumerated() {
                let category = index % 3 == 0 ? "rare" : "c\(index % 7)"
                upserts.append(
                    CatalogUpsert(
                        id: item,
                        properties: [
                            "category": .string(category), "price": .double(Double(10 + (index * 7 + round) % 90)), "in_stock": .bool((index + round) % 4 != 0),
                            "hidden": .bool(index % 50 == 1),
                        ]))
            }
        }
        _ = try await fixture.lake.ingestor.upsertCatalog(.item, upserts, source: "test")
        let deleted = Set(items.enumerated().filter { $0.offset % 50 == 2 }.map(\.element))
        _ = try await fixture.lake.ingestor.upsertCatalog(.item, deleted.map { CatalogUpsert(id: $0, properties: ["deleted": true]) }, source: "test")
        try fixture.lake.catalog.catchUp()
        await fixture.controller.watchOnce()
        let hidden = Set(items.enumerated().filter { $0.offset % 50 == 1 }.map(\.element)).union(deleted)
        func checkShare(_ context: String) async throws {
            var cached = 0
            for user in users {
                let answer = try await fixture.service.recommend(RecommendationRequest(user: user))
                if answer.source == .cache { cached += 1 }
                check(answer, user, context)
                #expect(hidden.isDisjoint(with: answer.items.map(\.id)), "\(context): hidden or deleted items recommended")
                let rare = try await fixture.service.recommend(RecommendationRequest(user: user, filter: ItemFilter(categories: ["rare"], inStock: true)))
                check(rare, user, "\(context), filtered")
                for item in rare.items {
                    let entry = fixture.lake.catalog.item(item.id)
                    #expect(entry?.properties["category"]?.stringValue == "rare" && entry?.properties["in_stock"]?.boolValue == true)
                }
            }
            #expect(Double(cached) / Double(users.count) >= 0.95, "\(context): \(cached) of \(users.count) answered from the cache")
        }
        try await checkShare("after \(upserts.count) catalog upserts")
        let stats = fixture.service.metrics.variant(deployment: "default", variant: "A")
        #expect(stats.misses[.stale, default: 0] == 0 && stats.misses[.expired, default: 0] == 0, "\(stats.misses)")

        // A restart: the activity comes back from its checkpoint, the batch job refills the cache.
        try fixture.service.activity.checkpoint()
        fixture.controller = fixture.makeController()
        try await fixture.controller.start()
        try await waitUntil("the restarted server's cache table", timeout: .seconds(300)) { [controller = fixture.controller!] in
            guard let model = controller.service.state("default")?.variants[0].model else { return false }
            return await controller.service.cache.tableInfo(model: model.key) != nil
        }
        try await checkShare("after a restart")

        // Live: a click makes the list stale; the live answer leaves out the whole history and
        // the click, with and without a filter.
        let clicker = users[0]
        let clicked = try #require(items.first { seen[clicker]?.contains($0) != true && !hidden.contains($0) })
        try await fixture.ingest([fixture.event("click", user: clicker, item: clicked)])
        seen[clicker, default: []].insert(clicked)
        let live = try await fixture.service.recommend(RecommendationRequest(user: clicker, n: 20))
        #expect(live.source == .live)
        check(live, clicker, "live")
        check(try await fixture.service.recommend(RecommendationRequest(user: clicker, filter: ItemFilter(categories: ["rare"]))), clicker, "live, filtered")
        let misses = fixture.service.metrics.variant(deployment: "default", variant: "A").misses
        #expect(misses[.stale] == 2, "why the lists were not used is counted: \(misses)")

        // Similar items for a user leave out what they interacted with.
        let similar = try fixture.service.similar(to: clicked, n: 10, user: clicker)
        check(similar, clicker, "similar items")
        #expect(!similar.items.isEmpty)
    }

    @Test("after importing history that ended months ago, a newcomer gets that history's most popular items in order")
    func trendingAfterAnOldImportIsPopularity() async throws {
        let fixture = try await Self.importedShop(days: 8)
        defer { Task { await fixture.close() } }
        let weights = fixture.config.training.interactions
        var popularity: [String: Double] = [:]
        for event in fixture.history {
            guard let item = event.item, let weight = weights.weights[event.type], !weights.negativeTypes.contains(event.type) else { continue }
            popularity[item, default: 0] += abs(weight)
        }
        let expected = popularity.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(10).map(\.key)
        let answer = try await fixture.service.recommend(RecommendationRequest(user: "brand-new-user", n: 10))
        #expect(answer.source == .trending)
        #expect(answer.scoreBasis == .popularity)
        #expect(answer.items.map(\.id) == expected)
        #expect(answer.items.map(\.score) == expected.map { Float(popularity[$0]!) })
        #expect(answer.json["score_basis"] == "interactions")
        #expect(fixture.service.metrics.variant(deployment: "default", variant: "A").misses[.untrainedUser] == 1)

        // Recent traffic is trending again: decayed from now, the newest interactions first.
        // A newcomer who interacted with an item the model does not know is answered by
        // trending, without that item.
        let hot = "hot-new-item"
        try await fixture.ingest((0..<5).map { fixture.event("view", user: "visitor-\($0)", item: hot) })
        try await fixture.ingest([fixture.event("view", user: "fresh", item: hot)])
        let fresh = try await fixture.service.recommend(RecommendationRequest(user: "fresh", n: 10))
        #expect(fresh.source == .trending)
        #expect(fresh.scoreBasis == .decayed)
        #expect(!fresh.items.contains { $0.id == hot }, "the newcomer's own item is not recommended back")
        let other = try await fixture.service.recommend(RecommendationRequest(user: "another-newcomer", n: 10))
        #expect(other.items.first?.id == hot)
        #expect((other.items.first?.score ?? 0) > 4.9)
    }

    @Test("exclude_seen: none lets seen items come back; a list of types excludes those types only")
    func excludeSeenPolicies() async throws {
        // Shorter histories than the long-history test's: the policies show on any history.
        let repeats = try await Self.importedShop(days: 8) { $0.serving.excludeSeen = .none }
        defer { Task { await repeats.close() } }
        let everything = Self.histories(repeats)
        var answersWithSeen = 0
        for user in repeats.knownUsers {
            let answer = try await repeats.service.recommend(RecommendationRequest(user: user))
            #expect(answer.source == .cache)
            if answer.items.contains(where: { everything[user]?.contains($0.id) == true }) { answersWithSeen += 1 }
        }
        #expect(answersWithSeen > repeats.knownUsers.count / 2, "with exclude_seen: none, seen items come back (\(answersWithSeen) answers)")
        // Items the user hid stay out whatever the policy.
        let hides = Self.histories(repeats, types: ["hide"])
        for (user, items) in hides where repeats.knownUsers.contains(user) {
            let answer = try await repeats.service.recommend(RecommendationRequest(user: user, n: 50))
            #expect(items.isDisjoint(with: answer.items.map(\.id)), "hidden items never come back")
        }

        let purchasesOnly = try await Self.importedShop(days: 8) { $0.serving.excludeSeen = .types(["purchase"]) }
        defer { Task { await purchasesOnly.close() } }
        let purchased = Self.histories(purchasesOnly, types: ["purchase"])
        let viewed = Self.histories(purchasesOnly, types: ["view"])
        var answersWithViewed = 0
        for user in purchasesOnly.knownUsers {
            for answer in [
                try await purchasesOnly.service.recommend(RecommendationRequest(user: user, n: 20)),
                try await purchasesOnly.service.recommend(RecommendationRequest(user: user, n: 20, cursor: PageCursor(offset: 20, model: "", variant: "A"))),
            ] {
                #expect(purchased[user, default: []].isDisjoint(with: answer.items.map(\.id)), "\(user) is recommended an item they bought")
                if answer.items.contains(where: { viewed[user]?.contains($0.id) == true && purchased[user]?.contains($0.id) != true }) {
                    answersWithViewed += 1
                }
            }
        }
        #expect(answersWithViewed > 0, "viewed items may come back under exclude_seen: [purchase]")
        // Live answers follow the same policy.
        let user = purchasesOnly.knownUsers[0]
        let bought = try #require(
            purchasesOnly.service.state("default")?.variants[0].model?.recommender.items.ids.first { purchased[user]?.contains($0) != true })
        try await purchasesOnly.ingest([
            purchasesOnly.event("purchase", user: user, item: bought, [("order_id", .string("o-1")), ("price", .double(10)), ("quantity", .int(1))])
        ])
        let live = try await purchasesOnly.service.recommend(RecommendationRequest(user: user, n: 50))
        #expect(live.source == .live)
        #expect(purchased[user, default: []].union([bought]).isDisjoint(with: live.items.map(\.id)))
    }

    @Test("exclude_seen is checked when strata.yaml loads")
    func excludeSeenIsValidated() throws {
        let contract = "events:\n  view:\n    fields:\n      item_id: string\n  purchase:\n    fields:\n      item_id: string\n"
        let parsed = try StrataConfig.parse(yaml: contract + "serving:\n  exclude_seen: [purchase]\n", file: "x.yaml")
        #expect(parsed.serving.excludeSeen == .types(["purchase"]))
        #expect(try StrataConfig.parse(yaml: contract + "serving:\n  exclude_seen: none\n", file: "x.yaml").serving.excludeSeen == SeenExclusion.none)
        #expect(try StrataConfig.parse(yaml: contract, file: "x.yaml").serving.excludeSeen == .all)
        for (yaml, message) in [
            ("serving:\n  exclude_seen: [buy]\n", "'buy' is not an interaction type (interactions.weights: purchase, view)"),
            ("serving:\n  exclude_seen: maybe\n", "serving.exclude_seen: exclude_seen is all, none, or a list of interaction types"),
        ] {
            #expect {
                _ = try StrataConfig.parse(yaml: contract + yaml, file: "x.yaml")
            } throws: { error in
                "\(error)".contains(message) && "\(error)".contains("x.yaml:")
            }
        }
    }

    @Test("seen items survive a checkpoint round trip and are forgotten with the user")
    func seenItemsCheckpointAndForget() async throws {
        let fixture = try await ServingFixture()
        defer { Task { await fixture.close() } }
        let seen = Self.histories(fixture)
        let user = try #require(seen.keys.sorted().first { (seen[$0]?.count ?? 0) > 3 })
        let exclusions = fixture.service.activity.exclusions(user, impressedSince: nil)
        #expect(exclusions.seen.count == seen[user]!.count)
        #expect(seen[user]!.allSatisfy(exclusions.excludes))
        try fixture.service.activity.checkpoint()
        let restored = try ServingActivity(lake: fixture.lake, settings: ServingSettings(fixture.config), logger: quietLogger)
        #expect(restored.exclusions(user, impressedSince: nil).allIDs == exclusions.allIDs)
        #expect(restored.trending(limit: 20).items.map(\.id) == fixture.service.activity.trending(limit: 20).items.map(\.id))
        try await fixture.controller.forget(user: user)
        #expect(fixture.service.activity.exclusions(user, impressedSince: nil).seen.isEmpty)
    }
}

extension IncomingEvent {
    /// The event's item, if it names one.
    fileprivate var item: String? {
        guard case .string(let id)? = fields.first(where: { $0.name == "item_id" })?.value else { return nil }
        return id
    }
}
