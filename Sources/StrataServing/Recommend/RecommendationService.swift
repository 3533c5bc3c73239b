import Foundation
import StrataCore
import StrataFeatures
import StrataLake
import StrataML
import Synchronization

/// A deployment ready to serve: its variants with their loaded models (nil where loading
/// failed: those requests count as errors and the control answers). Immutable; a change
/// builds a new one and swaps it in whole, so a request sees one consistent deployment.
public final class ServingState: Sendable {
    public struct Variant: Sendable {
        public var spec: VariantSpec
        public var model: ServedModel?
        public var error: String?
    }
    public let deployment: Deployment
    public let variants: [Variant]
    public let shadow: Variant?
    let weights: [Double]

    public init(deployment: Deployment, variants: [Variant], shadow: Variant?) {
        self.deployment = deployment
        self.variants = variants
        self.shadow = shadow
        self.weights = variants.map(\.spec.weight)
    }

    /// The variant a user is assigned (sticky: hash of the salt and the user id).
    public func assign(_ user: String) -> Int {
        VariantAssignment.variant(bucket: VariantAssignment.bucket(user: user, salt: deployment.salt), weights: weights)
    }

    /// Every model this deployment serves or shadows.
    public var models: [ServedModel] { (variants + (shadow.map { [$0] } ?? [])).compactMap(\.model) }
}

/// The request path: assignment to a variant, then the precomputed list when it is fresh,
/// else the live model over the user's most recent items, else trending items; exclusions
/// (explicit, hidden, recently impressed, and everything the user interacted with as
/// `serving.exclude_seen` says — the same for every source) and business filters apply before
/// the top-n is cut.
public final class RecommendationService: Sendable {
    public let sources: ServingSources
    let features: (any OnlineFeatureReader)?
    public let activity: ServingActivity
    public let cache: any RecommendationCacheStore
    public let metrics: ServingMetrics
    let config: ServingConfig
    let recentItemsFeature: String?
    private let states = Mutex<[String: ServingState]>([:])
    private let rerankerState = Mutex<LoadedReranker?>(nil)

    public init(
        sources: ServingSources, features: (any OnlineFeatureReader)?, activity: ServingActivity, cache: any RecommendationCacheStore, metrics: ServingMetrics
    ) {
        self.sources = sources
        self.features = features
        self.activity = activity
        self.cache = cache
        self.metrics = metrics
        self.config = activity.settings.serving
        self.recentItemsFeature = activity.settings.recentItemsFeature
    }

    // MARK: - Deployments in memory

    /// Swaps in a deployment's new state (atomically: a request holds the old or the new).
    public func install(_ state: ServingState) { states.withLock { $0[state.deployment.name] = state } }

    public func state(_ deployment: String) -> ServingState? { states.withLock { $0[deployment] } }

    /// The learning-to-rank stage applied to live answers (nil: none).
    public var reranker: LoadedReranker? { rerankerState.withLock { $0 } }
    public func install(reranker: LoadedReranker?) { rerankerState.withLock { $0 = reranker } }

    public var allStates: [ServingState] { states.withLock { Array($0.values) }.sorted { $0.deployment.name < $1.deployment.name } }

    // MARK: - Recommending

    public func recommend(_ request: RecommendationRequest) async throws(StrataError) -> Recommendation {
        guard (1...config.maxN).contains(request.n) else {
            throw StrataError.invalid("invalid_n", "n must be between 1 and \(config.maxN) (serving.max_n)", field: "n")
        }
        guard !request.user.isEmpty, request.user.utf8.count <= 256 else {
            throw StrataError.invalid("invalid_user", "the user id must be 1 to 256 bytes", field: "user_id")
        }
        let start = MonotonicClock.nanoseconds()
        let name = request.deployment ?? config.deployment
        let state = self.state(name)
        if request.deployment != nil, state == nil {
            throw StrataError.notFound("deployment_not_found", "no deployment \(name) (GET /v1/deployments lists them)")
        }
        // Read-your-writes: every event acknowledged before this request (durable in the log)
        // is applied to what serving knows of the user before it is read, on this task if the
        // log's followers have not got there yet. Where that cannot be done (the log could not
        // be read, or the features come from another process) the precomputed list is not
        // trusted and the live model answers from what is known.
        let acknowledged = sources.events.end
        var caughtUp = activity.applyThrough(acknowledged)
        if let features, !(await features.applyThrough(acknowledged)) { caughtUp = false }
        let now = sources.clock.nowMillis()
        let impressedSince = (request.excludeImpressed ?? (config.impressedExclusionMillis > 0)) ? now - max(config.impressedExclusionMillis, 1) : nil
        var exclusions = activity.exclusions(request.user, impressedSince: impressedSince)
        exclusions.ids.formUnion(request.exclude)
        let recent = await recentItems(request.user)
        // The feature store may have applied a click a moment before the activity did.
        if activity.excludesAllSeen { exclusions.ids.formUnion(recent) }
        let nonce = RecommendationID.nonce()

        guard let state, !state.variants.isEmpty else {
            // Nothing deployed yet: trending items, attributed to no variant.
            let trending = trending(excluding: exclusions, filter: request.filter, range: pageRange(request))
            return Recommendation(
                id: RecommendationID(deployment: name, variant: "none", model: "none", nonce: nonce), deployment: name, variant: "none", lineage: nil,
                source: .trending, items: trending.items, nextCursor: nil, contractVersion: sources.contractVersion, scoreBasis: trending.basis,
                context: request.context)
        }
        var index = state.assign(request.user)
        // A page after the first stays with the model that ranked the first.
        if let cursor = request.cursor, let pinned = state.variants.firstIndex(where: { $0.spec.name == cursor.variant }) { index = pinned }
        var variant = state.variants[index]
        if variant.model == nil {
            metrics.record(
                deployment: name, variant: variant.spec.name, source: nil, nanoseconds: MonotonicClock.nanoseconds() - start,
                error: variant.error ?? "the model is not loaded")
            index = 0
            variant = state.variants[0]
        }
        let range = pageRange(request)
        var answer: Ranked?
        // The user's precomputed list, read once (from Redis, one round trip).
        var cached: CachedList?
        if let model = variant.model {
            cached = caughtUp ? await cache.get(model: model.key, user: request.user) : nil
            answer = await rank(
                model: model, cached: cached, user: request.user, range: range, exclusions: exclusions, recent: recent, filter: request.filter, now: now)
            if answer == nil, index != 0, let control = state.variants[0].model {
                // The variant's model produced nothing usable: count it, answer with the control.
                metrics.record(
                    deployment: name, variant: variant.spec.name, source: nil, nanoseconds: MonotonicClock.nanoseconds() - start,
                    error: "the model returned no finite scores")
                index = 0
                variant = state.variants[0]
                cached = caughtUp ? await cache.get(model: control.key, user: request.user) : nil
                answer = await rank(
                    model: control, cached: cached, user: request.user, range: range, exclusions: exclusions, recent: recent, filter: request.filter, now: now)
            }
        }
        var miss = answer?.miss
        if !caughtUp, miss != nil { miss = .behindLog }
        if miss == .missing, let model = variant.model, await cache.tableInfo(model: model.key) == nil { miss = .notPrecomputed }
        // No history for this model to go on: trending items answer.
        if answer?.source == .trending { answer = nil }
        let trending = answer == nil ? trending(excluding: exclusions, filter: request.filter, range: range) : nil
        let final = answer ?? Ranked(items: trending!.items, source: .trending)
        let servedModel = answer == nil ? nil : variant.model
        let recommendation = Recommendation(
            id: RecommendationID(deployment: name, variant: variant.spec.name, model: servedModel?.key ?? "trending", nonce: nonce), deployment: name,
            variant: variant.spec.name, lineage: servedModel?.lineage, source: final.source, items: final.items,
            nextCursor: final.items.count == range.count
                ? PageCursor(offset: range.upperBound, model: servedModel?.key ?? "trending", variant: variant.spec.name) : nil,
            contractVersion: sources.contractVersion, reranker: final.reranker, scoreBasis: trending?.basis, context: request.context)
        metrics.record(
            deployment: name, variant: variant.spec.name, source: final.source, nanoseconds: MonotonicClock.nanoseconds() - start, miss: miss)
        // The baseline holds each training user's best score from the trained vectors: drift
        // compares the same number for the users served now (whether this answer came from the
        // cache or live), the top of the user's precomputed list, before this request's
        // exclusions (which would lower it as a user sees more).
        if request.cursor == nil, servedModel != nil, let best = cached?.scores.first {
            metrics.recordScore(deployment: name, variant: variant.spec.name, score: best, at: now)
        }
        if let shadow = state.shadow, let shadowModel = shadow.model, config.shadowFraction > 0,
            config.shadowFraction >= 1 || Double.random(in: 0..<1) < config.shadowFraction
        {
            scoreShadow(
                shadowModel, deployment: name, user: request.user, range: range, exclusions: exclusions, recent: recent, filter: request.filter,
                shown: final.items.map(\.id))
        }
        return recommendation
    }

    /// A ranked page, where it came from, and why the precomputed list did not answer.
    struct Ranked: Sendable {
        var items: [(id: String, score: Float)]
        var source: RecommendationSource
        var reranker: String? = nil
        var miss: CacheMissReason? = nil
    }

    /// Ranks `[offset, offset + n)` of the user's list (`cached`: their precomputed list for
    /// `model`, read by the caller); nil when the model produced nothing usable (no finite scores).
    /// Every source leaves out the same things: `exclusions` (hidden, impressed, seen as
    /// `serving.exclude_seen` says, the request's own list) and what the catalog or `filter`
    /// rule out.
    func rank(
        model: ServedModel, cached: CachedList?, user: String, range: Range<Int>, exclusions: UserExclusions, recent: [String], filter: ItemFilter, now: Int64
    ) async -> Ranked? {
        let recommender = model.recommender
        let catalog = model.catalog
        // Cache first, when the list is newer than the user's last interaction and not expired;
        // a catalog change only skips the items it affects.
        let miss: CacheMissReason
        if let list = cached {
            if list.computedAt < exclusions.lastInteraction {
                miss = .stale
            } else if now - list.computedAt > config.cacheTTLMillis {
                miss = .expired
            } else {
                var items: [(id: String, score: Float)] = []
                var rank = 0
                for (index, score) in zip(list.items, list.scores) where Int(index) < recommender.items.count {
                    guard catalog.allows(Int(index), filter) else { continue }
                    let id = recommender.items.id(at: index)
                    guard !exclusions.excludes(id) else { continue }
                    if rank >= range.lowerBound { items.append((id, score)) }
                    rank += 1
                    if rank == range.upperBound { return Ranked(items: items, source: .cache) }
                }
                miss = .exhausted
            }
        } else {
            miss = recommender.users.index(of: user) == nil ? .untrainedUser : .missing
        }
        var excludedIndices = Set<Int32>()
        for id in exclusions.allIDs { if let index = recommender.items.index(of: id) { excludedIndices.insert(index) } }
        let recentIndices = recent.compactMap { recommender.items.index(of: $0) }
        // A user forgotten after this model was trained is a new user to it.
        let userIndex = sources.forgets.forgot(userID: user, after: model.version.createdAt) ? nil : recommender.users.index(of: user)
        guard !recentIndices.isEmpty || userIndex != nil else { return Ranked(items: [], source: .trending, miss: miss) }
        // Live: the most recent items folded into a user vector (so a click changes the next
        // answer); a trained user without recent items keeps their trained vector (and their
        // history, for models that score from the items a user interacted with).
        let query: UserQuery
        if recentIndices.isEmpty {
            let history = exclusions.seen.ids(mask: activity.historyMask).compactMap { recommender.items.index(of: $0) }
            query = UserQuery(userIndex: Int(userIndex!), items: history, weights: [Float](repeating: 1, count: history.count))
        } else {
            query = UserQuery(items: recentIndices, weights: [Float](repeating: 1, count: recentIndices.count))
        }
        // With a re-ranker, the first stage hands it its best `candidates`.
        let reranker = features == nil ? nil : self.reranker
        let depth = max(range.upperBound, reranker?.candidates ?? 0)
        let ranked: [(index: Int, score: Float)]?
        if let factor = recommender as? any FactorRecommender, let retrieval = factor.retrieval {
            // A large catalogue: the index's best items that pass, never the whole catalogue.
            let vector = factor.userVector(query)
            ranked =
                vector.allSatisfy(\.isFinite)
                ? retrieval.recommend(vector, n: depth) { index in excludedIndices.contains(Int32(index)) || !catalog.allows(index, filter) } : nil
        } else {
            var scores = [Float](repeating: 0, count: recommender.items.count)
            ranked = scores.withUnsafeMutableBufferPointer { buffer -> [(index: Int, score: Float)]? in
                recommender.score(query, into: buffer)
                let top = TopK.select(UnsafeBufferPointer(buffer), n: depth) { index in
                    excludedIndices.contains(Int32(index)) || !catalog.allows(index, filter)
                }
                // Nothing left after exclusions is an answer; no finite score at all is a broken model.
                if top.isEmpty, !buffer.contains(where: \.isFinite) { return nil }
                return top
            }
        }
        guard var top = ranked else { return nil }
        var rerankedBy: String?
        if let reranker, let features, top.count > 1 {
            let ids = top.map { recommender.items.id(at: Int32($0.index)) }
            if let order = try? await reranker.order(user: user, items: ids, reader: features) {
                top = order.map { (top[$0.index].index, $0.score) }
                rerankedBy = reranker.reference
            }
        }
        let page = top.count > range.lowerBound ? Array(top[range.lowerBound..<min(top.count, range.upperBound)]) : []
        return Ranked(items: page.map { (recommender.items.id(at: Int32($0.index)), $0.score) }, source: .live, reranker: rerankedBy, miss: miss)
    }

    /// Trending items minus exclusions, through the catalog and the filter, with what their
    /// scores mean.
    func trending(excluding exclusions: UserExclusions, filter: ItemFilter, range: Range<Int>) -> (
        items: [(id: String, score: Float)], basis: ServingActivity.TrendingBasis
    ) {
        let ranking = activity.trending()
        let consultCatalog = sources.catalog.itemCount > 0 || !filter.isEmpty
        var items: [(id: String, score: Float)] = []
        var rank = 0
        for (id, score) in ranking.items where !exclusions.excludes(id) {
            if consultCatalog {
                let entry = sources.catalog.itemsForServing([id])[0]
                if entry?.isRecommendable == false { continue }
                if !filter.isEmpty, !filter.matches(entry) { continue }
            }
            if rank >= range.lowerBound { items.append((id, Float(score))) }
            rank += 1
            if rank == range.upperBound { break }
        }
        return (items, ranking.basis)
    }

    func pageRange(_ request: RecommendationRequest) -> Range<Int> {
        let offset = request.cursor?.offset ?? 0
        return offset..<(offset + request.n)
    }

    /// The user's most recent items, from the feature store's recent-items feature.
    func recentItems(_ user: String) async -> [String] {
        guard let features, let name = recentItemsFeature,
            let reading = try? await features.read(.user, ids: [user], features: [name]).first?.first,
            case .stringList(let items)? = reading.value
        else { return [] }
        return items
    }

    /// Scores the same request with the shadow model, off the request's path, and records how
    /// much its list overlaps the one shown.
    func scoreShadow(
        _ model: ServedModel, deployment: String, user: String, range: Range<Int>, exclusions: UserExclusions, recent: [String], filter: ItemFilter,
        shown: [String]
    ) {
        let now = sources.clock.nowMillis()
        Task.detached(priority: .background) {
            let start = MonotonicClock.nanoseconds()
            let cached = await self.cache.get(model: model.key, user: user)
            let result = await self.rank(
                model: model, cached: cached, user: user, range: range, exclusions: exclusions, recent: recent, filter: filter, now: now)
            let overlap = result.map { answer -> Double in
                let a = Set(answer.items.map(\.id))
                let b = Set(shown)
                let union = a.union(b).count
                return union == 0 ? 1 : Double(a.intersection(b).count) / Double(union)
            }
            self.metrics.recordShadow(deployment: deployment, reference: model.key, overlap: overlap, nanoseconds: MonotonicClock.nanoseconds() - start)
        }
    }

    // MARK: - Similar items

    /// Items most like `item` by the deployment's control model, recommendable and through
    /// the filter; with a `user`, without what they interacted with or hid (the same
    /// exclusions as their recommendations).
    public func similar(to item: String, n: Int, filter: ItemFilter = ItemFilter(), deployment: String? = nil, user: String? = nil) throws(StrataError)
        -> Recommendation
    {
        guard (1...config.maxN).contains(n) else { throw StrataError.invalid("invalid_n", "n must be between 1 and \(config.maxN)", field: "n") }
        let name = deployment ?? config.deployment
        guard let state = state(name) else {
            throw StrataError.notFound("deployment_not_found", "no deployment '\(name)' (GET /v1/deployments lists them)")
        }
        guard let model = state.variants.first?.model else {
            throw StrataError(.unavailable, code: "no_model_deployed", "deployment \(name) serves no model yet (promote one: strata models promote)")
        }
        guard let index = model.recommender.items.index(of: item) else {
            throw StrataError.notFound("item_not_in_model", "\(model.key) does not know item \(item)")
        }
        let catalog = model.catalog
        let exclusions = user.map { activity.exclusions($0, impressedSince: nil) }
        let items: [(id: String, score: Float)]
        if let retrieval = (model.recommender as? any FactorRecommender)?.retrieval {
            // The cosine index, filters applied as it searches (it widens until n pass).
            let recommender = model.recommender
            items = retrieval.similar(to: Int(index), n: n) { other in
                !catalog.allows(other, filter) || exclusions?.excludes(recommender.items.id(at: Int32(other))) == true
            }.map { (recommender.items.id(at: Int32($0.index)), $0.score) }
        } else {
            let depth = n * 4 + 20 + (exclusions.map { $0.seen.count } ?? 0)
            let candidates = model.recommender.similarItems(to: index, n: min(model.itemCount, depth))
            items = Array(
                candidates.lazy.filter { catalog.allows(Int($0.index), filter) }.map { (id: model.recommender.items.id(at: $0.index), score: $0.score) }
                    .filter { exclusions?.excludes($0.id) != true }.prefix(n))
        }
        return Recommendation(
            id: RecommendationID(deployment: name, variant: state.variants[0].spec.name, model: model.key, nonce: RecommendationID.nonce()),
            deployment: name, variant: state.variants[0].spec.name, lineage: model.lineage, source: .live, items: items, nextCursor: nil,
            contractVersion: sources.contractVersion)
    }
}
