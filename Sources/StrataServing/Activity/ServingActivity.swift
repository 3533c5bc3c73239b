import Foundation
import Logging
import ServiceLifecycle
import StrataCore
import StrataLake
import StrataML
import Synchronization

/// What serving learns from the event stream, within milliseconds of ingestion: each user's
/// hidden items (negative events exclude an item at once), every item they interacted with and
/// how (`SeenItems`: never recommended back, as `serving.exclude_seen` says), recent
/// impressions (not shown again for a while), when they last interacted (a precomputed list
/// older than that is stale), trending items (time-decayed interactions, and plain popularity
/// for when those carry no signal), and every impression, click and purchase attributed to a
/// variant through its recommendation id. Built at first start from the lake and the log; a
/// checkpoint plus a replay of the log after it survives restarts.
public final class ServingActivity: Service, LogConsumer, Sendable {
    public let consumerName = "serving"

    struct UserState: Sendable {
        var hidden: Set<String> = []
        var impressions: [(item: String, at: Int64)] = []
        var lastInteraction: Int64 = 0
    }

    struct State: Sendable {
        var users: [String: UserState] = [:]
        /// "deployment:variant" → counts.
        var arms: [String: ArmCounts] = [:]
        /// "deployment:variant" → per-user outcomes in recent event-time buckets (quality).
        var recent: [String: RecentOutcomes] = [:]
        /// Width of those buckets, in minutes: a sixth of the monitoring window.
        var recentBucketMinutes: Int64 = 10
        /// Windows opened by `startWindow`: key → its deployment and, per variant, the counts of
        /// events applied since (kept in memory only).
        var windows: [String: (deployment: String, arms: [String: ArmCounts])] = [:]
        /// "deployment:variant" → minute (event time) → [impressions, clicks, purchases]: what
        /// windows of quality monitoring add up (the last 30 days, pruned at checkpoints).
        var armMinutes: [String: [Int64: [Int]]] = [:]
        /// Σ weight · 2^((t − reference)/halfLife) per item, the reference following the newest
        /// interaction (so an old history's sums never underflow to zero).
        var trending: [String: Double] = [:]
        var trendingReference: Int64 = 0
        /// Σ weight per item over the whole history, undecayed.
        var popularity: [String: Double] = [:]
        var seen: SeenItems
        var appliedThrough: Int64 = 0
        var checkpointedThrough: Int64 = 0

        init(seen: SeenItems) {
            self.seen = seen
        }
    }

    /// Where trending items' scores come from.
    public enum TrendingBasis: String, Sendable {
        /// Interactions decayed by `serving.trending_half_life`, as of now.
        case decayed = "decayed_interactions"
        /// Interactions over the whole history, undecayed: recent traffic is too thin to rank by
        /// (less than `minimumTrendingWeight` of decayed interactions as of now, as after
        /// importing a history that ended long ago).
        case popularity = "interactions"
    }

    /// Decayed interaction weight, as of now, below which trending answers by popularity.
    static let minimumTrendingWeight = 1.0

    /// An item in the trending order: decayed weight first, then plain popularity, then id.
    struct TrendingCandidate {
        var id: String
        var decayed: Double
        var count: Double

        static func ranksBefore(_ a: TrendingCandidate, _ b: TrendingCandidate) -> Bool {
            if a.decayed != b.decayed { return a.decayed > b.decayed }
            if a.count != b.count { return a.count > b.count }
            return a.id < b.id
        }
    }

    /// Trending items, best first, with what their scores mean.
    public struct TrendingRanking: Sendable {
        public var items: [(id: String, score: Double)]
        public var basis: TrendingBasis
    }

    static let impressionsKept = 200
    /// The project's events, lake then log (the activity keeps its own position in them).
    let events: EventStream
    let clock: any WallClock
    /// What serving was configured with (the recommendation service and the batch job read it here).
    public let settings: ServingSettings
    let policy: InteractionPolicy
    let halfLife: Double
    let path: String
    let logger: Logger
    /// Type masks of `SeenItems`: what `serving.exclude_seen` excludes (hidden items always
    /// are), and the positive interaction types (a user's history, for models that score by it).
    let excludedMask: UInt32
    let historyMask: UInt32
    /// Whether every interaction type is excluded (`exclude_seen: all`).
    public let excludesAllSeen: Bool
    private let state: Mutex<State>
    private let applying = Mutex(())
    private let trendingTop = Mutex<(at: Int64, through: Int64, ranking: TrendingRanking)>((0, -1, TrendingRanking(items: [], basis: .decayed)))

    /// Over an open lake: its events and clock, its project folder for the checkpoint, and
    /// registered with it so that log retention keeps what a restart replays.
    public convenience init(lake: Lake, settings: ServingSettings, logger: Logger) throws {
        try self.init(
            events: lake.events, clock: lake.clock, checkpointPath: "\(lake.directory.projectRoot)/serving/activity.json", settings: settings,
            logger: logger)
        lake.register(self)
    }

    /// The activity over `events`, its checkpoint at `checkpointPath`: restored, then the
    /// events after it replayed.
    public init(events: EventStream, clock: any WallClock, checkpointPath: String, settings: ServingSettings, logger: Logger) throws {
        self.events = events
        self.clock = clock
        self.settings = settings
        self.policy = settings.interactions
        self.halfLife = Double(settings.serving.trendingHalfLifeMillis)
        self.path = checkpointPath
        self.logger = logger
        let policy = self.policy
        let interactionTypes = Array(policy.weights.keys)
        let seen = SeenItems(types: interactionTypes)
        let excluded = settings.serving.excludeSeen.excludedTypes(of: interactionTypes)
        self.excludedMask = seen.mask(excluded.union(policy.negativeTypes))
        self.historyMask = seen.mask(interactionTypes.filter { !policy.negativeTypes.contains($0) })
        self.excludesAllSeen = settings.serving.excludeSeen == .all
        var initial = State(seen: seen)
        initial.recentBucketMinutes = Self.bucketMinutes(window: settings.monitoringWindowMillis)
        self.state = Mutex(initial)
        if let restored = try Self.load(path, interactionTypes: interactionTypes, logger: logger) {
            state.withLock { $0 = restored }
            state.withLock { $0.recentBucketMinutes = Self.bucketMinutes(window: settings.monitoringWindowMillis) }
        }
        // From the checkpoint on; without one, from the lake's files and then the log.
        try catchUp()
    }

    // MARK: - Reading

    /// Items the user hid or disliked.
    public func hidden(_ user: String) -> Set<String> { state.withLock { $0.users[user]?.hidden ?? [] } }

    /// What to leave out for a user: hidden items and items impressed since `since`, what they
    /// interacted with (`seen`, tested through `excludes`), and when they last interacted.
    public func exclusions(_ user: String, impressedSince since: Int64?) -> UserExclusions {
        state.withLock { s in
            let seen = s.seen.view(user)
            guard let state = s.users[user] else { return UserExclusions(ids: [], seen: seen, mask: excludedMask, lastInteraction: 0) }
            var excluded = state.hidden
            if let since { for impression in state.impressions where impression.at >= since { excluded.insert(impression.item) } }
            return UserExclusions(ids: excluded, seen: seen, mask: excludedMask, lastInteraction: state.lastInteraction)
        }
    }

    /// For each of a model's users (by its index), the model's item indices of their history
    /// (positive interactions: what item-based models score from) and of what `exclude_seen`
    /// leaves out (hidden items included): what the batch job ranks by and excludes.
    public func seenIndices(users: IDMap, items: IDMap) -> (history: [[Int32]], excluded: [[Int32]]) {
        // A copy of the lists (copy-on-write: the next event pays for it once), so that requests
        // do not wait while the batch job walks every user's history.
        let (lists, interner) = state.withLock { ($0.seen.users, $0.seen.interner) }
        // Interned number → the model's index (-1: the model does not know the item).
        let known = interner.allIDs.map { items.index(of: $0) ?? -1 }
        var history = [[Int32]](repeating: [], count: users.count)
        var excluded = [[Int32]](repeating: [], count: users.count)
        for (index, user) in users.ids.enumerated() {
            guard let entries = lists[user] else { continue }
            for entry in entries {
                let number = Int(entry >> 32)
                let item = number < known.count ? known[number] : -1
                guard item >= 0 else { continue }
                let mask = UInt32(truncatingIfNeeded: entry)
                if mask & historyMask != 0 { history[index].append(item) }
                if mask & excludedMask != 0 { excluded[index].append(item) }
            }
        }
        return (history, excluded)
    }

    /// A forgotten user's activity: hidden, seen and impressed items.
    public func forget(user: String) {
        state.withLock { s in
            s.users[user] = nil
            s.seen.forget(user: user)
        }
    }

    /// Users who interacted since `since` (ingestion time).
    public func activeUsers(since: Int64) -> [String] {
        state.withLock { $0.users.filter { $0.value.lastInteraction >= since }.map(\.key) }.sorted()
    }

    /// When each of `users` last interacted (ingestion time; 0: never), under one lock.
    public func lastInteractions(_ users: [String]) -> [Int64] {
        state.withLock { s in users.map { s.users[$0]?.lastInteraction ?? 0 } }
    }

    /// When the user last interacted (ingestion time; 0: never).
    public func lastInteraction(_ user: String) -> Int64 { state.withLock { $0.users[user]?.lastInteraction ?? 0 } }

    /// The most interacted-with items lately, best first, and what their scores are: decayed
    /// interactions as of now; or, when those carry no signal (less than
    /// `minimumTrendingWeight` of them), interactions over the whole history. Ties go to the
    /// more popular item, then the smaller id. Recomputed at most once a second.
    public func trending(limit: Int = 500) -> TrendingRanking {
        let now = clock.nowMillis()
        let through = appliedThrough
        if let fresh = trendingTop.withLock({ top in now - top.at < 1000 && top.through == through ? top.ranking : nil }) {
            return TrendingRanking(items: Array(fresh.items.prefix(limit)), basis: fresh.basis)
        }
        let (decayed, reference, popularity) = state.withLock { ($0.trending, $0.trendingReference, $0.popularity) }
        let scale = pow(2, Double(reference - now) / halfLife)
        let weightNow = decayed.values.reduce(0, +) * scale
        let ranking: TrendingRanking
        if weightNow >= Self.minimumTrendingWeight {
            // Ordered by the stored sums (relative to the reference: exact where `scale` would
            // underflow for old items), scored as of now.
            let order = popularity.map { TrendingCandidate(id: $0.key, decayed: decayed[$0.key] ?? 0, count: $0.value) }.sorted(
                by: TrendingCandidate.ranksBefore)
            ranking = TrendingRanking(items: order.prefix(500).map { ($0.id, $0.decayed * scale) }, basis: .decayed)
        } else {
            let order = popularity.map { TrendingCandidate(id: $0.key, decayed: $0.value, count: $0.value) }.sorted(by: TrendingCandidate.ranksBefore)
            ranking = TrendingRanking(items: order.prefix(500).map { ($0.id, $0.count) }, basis: .popularity)
        }
        trendingTop.withLock { $0 = (now, through, ranking) }
        return TrendingRanking(items: Array(ranking.items.prefix(limit)), basis: ranking.basis)
    }

    /// Counts of one variant of a deployment.
    public func arm(deployment: String, variant: String) -> ArmSummary {
        state.withLock { $0.arms["\(deployment):\(variant)"]?.summary ?? ArmSummary(impressions: 0, clicks: 0) }
    }

    /// A variant's impressions, clicks and purchases with event times in `[from, to)` (minute
    /// resolution).
    public func arm(deployment: String, variant: String, from: Int64, to: Int64) -> (impressions: Int, clicks: Int, purchases: Int) {
        state.withLock { s in
            var total = (impressions: 0, clicks: 0, purchases: 0)
            for (minute, counts) in s.armMinutes["\(deployment):\(variant)"] ?? [:] where minute * 60_000 >= from && minute * 60_000 < to {
                total.impressions += counts[0]
                total.clicks += counts[1]
                total.purchases += counts[2]
            }
            return total
        }
    }

    /// A variant's impressions, clicks and purchases per minute of event time in `[from, to)`,
    /// oldest first (minutes without any are left out).
    public func armMinutes(deployment: String, variant: String, from: Int64, to: Int64) -> [(minute: Int64, impressions: Int, clicks: Int, purchases: Int)] {
        state.withLock { s in
            (s.armMinutes["\(deployment):\(variant)"] ?? [:]).filter { $0.key * 60_000 >= from && $0.key * 60_000 < to }.sorted { $0.key < $1.key }
                .map { (minute: $0.key, impressions: $0.value[0], clicks: $0.value[1], purchases: $0.value[2]) }
        }
    }

    /// Opens a window: from now on, events attributed to `deployment` are also counted in it,
    /// per variant and per user (a canary step's guardrails judge only its own window).
    public func startWindow(_ key: String, deployment: String) {
        try? catchUp()
        state.withLock { $0.windows[key] = (deployment, [:]) }
    }

    /// What a window counted, per variant.
    public func window(_ key: String) -> [String: ArmSummary] {
        state.withLock { $0.windows[key]?.arms.mapValues(\.summary) ?? [:] }
    }

    public func endWindow(_ key: String) { _ = state.withLock { $0.windows.removeValue(forKey: key) } }

    /// Every variant with counts, of one deployment.
    public func arms(deployment: String) -> [String: ArmSummary] {
        state.withLock { s in
            var result: [String: ArmSummary] = [:]
            for (key, counts) in s.arms where key.hasPrefix("\(deployment):") { result[String(key.dropFirst(deployment.count + 1))] = counts.summary }
            return result
        }
    }

    public var appliedThrough: Int64 { state.withLock { $0.appliedThrough } }
    public var checkpointedThrough: Int64 { state.withLock { $0.checkpointedThrough } }

    // MARK: - Applying

    /// Applies every durable record not yet applied.
    public func catchUp() throws {
        try applying.withLock { _ in
            let from = appliedThrough
            var pending: [Event] = []
            let end = try events.replay(from: from) { _, event in pending.append(event) }
            guard end > from else { return }
            let now = clock.nowMillis()
            state.withLock { s in
                for event in pending { Self.apply(event, to: &s, policy: policy, halfLife: halfLife, now: now) }
                s.appliedThrough = max(s.appliedThrough, end)
            }
        }
    }

    /// Applies the log below `offset` now, on the caller's task, if the tail has not yet
    /// (read-your-writes); false when the log could not be read.
    public func applyThrough(_ offset: Int64) -> Bool {
        if appliedThrough < offset { try? catchUp() }
        return appliedThrough >= offset
    }

    /// Returns once every record below `offset` is applied (tests, read-your-writes).
    public func waitUntilApplied(through offset: Int64) async {
        while appliedThrough < offset {
            try? catchUp()
            if appliedThrough < offset { try? await Task.sleep(for: .milliseconds(5)) }
        }
    }

    static func bucketMinutes(window: Int64) -> Int64 { max(1, window / 60_000 / 6) }

    /// A variant's users in the monitoring window (event time from `start`, rounded down to a
    /// bucket) and the same variant's users before it, per user: what the quality check and
    /// the `ctr_drop` alert compare.
    public func quality(deployment: String, variant: String, windowStart start: Int64) -> (recent: ArmSummary, before: ArmSummary) {
        let key = "\(deployment):\(variant)"
        let (recent, cumulative, width) = state.withLock { ($0.recent[key], $0.arms[key]?.outcomes ?? [:], $0.recentBucketMinutes) }
        let window = recent?.since(start / 60_000 / width * width) ?? [:]
        let before = cumulative.lazy.map { user, outcome in outcome - (window[user] ?? UserOutcome()) }
        return (ArmSummary(outcomes: window.values), ArmSummary(outcomes: before))
    }

    /// Counts an impression, click or purchase in a variant's arm.
    static func attribute(_ event: Event, user: String, to arm: inout ArmCounts) {
        switch event.type {
        case "impression": arm.impression(user)
        case "click": arm.click(user)
        case "purchase":
            let quantity = Double(event[field: "quantity"]?.intValue ?? 1)
            arm.purchase(user, revenue: (event[field: "price"]?.numericValue ?? 0) * quantity)
        default: break
        }
    }

    static func apply(_ event: Event, to s: inout State, policy: InteractionPolicy, halfLife: Double, now: Int64) {
        guard let user = event.userID else { return }
        let item = event.itemID
        if let recommendation = event[field: "recommendation_id"]?.stringValue, let id = RecommendationID(recommendation) {
            let key = "\(id.deployment):\(id.variant)"
            var arm = s.arms[key] ?? ArmCounts()
            for (window, open) in s.windows where open.deployment == id.deployment {
                var counts = open.arms[id.variant] ?? ArmCounts()
                Self.attribute(event, user: user, to: &counts)
                s.windows[window]?.arms[id.variant] = counts
            }
            let minute = event.timestamp / 60_000
            switch event.type {
            case "impression", "click", "purchase":
                var bucket = s.armMinutes[key, default: [:]][minute] ?? [0, 0, 0]
                bucket[event.type == "impression" ? 0 : event.type == "click" ? 1 : 2] += 1
                s.armMinutes[key, default: [:]][minute] = bucket
            default: break
            }
            Self.attribute(event, user: user, to: &arm)
            let bucket = minute / s.recentBucketMinutes * s.recentBucketMinutes
            switch event.type {
            case "impression": s.recent[key, default: RecentOutcomes()].record(user, bucket: bucket, UserOutcome(impressions: 1))
            case "click": s.recent[key, default: RecentOutcomes()].record(user, bucket: bucket, UserOutcome(clicks: 1))
            case "purchase":
                let revenue = (event[field: "price"]?.numericValue ?? 0) * Double(event[field: "quantity"]?.intValue ?? 1)
                s.recent[key, default: RecentOutcomes()].record(user, bucket: bucket, UserOutcome(purchases: 1, revenue: revenue))
            default: break
            }
            s.arms[key] = arm
        }
        guard let item else { return }
        if event.type == "impression" {
            var state = s.users[user] ?? UserState()
            state.impressions.append((item, event.timestamp))
            if state.impressions.count > impressionsKept { state.impressions.removeFirst(state.impressions.count - impressionsKept) }
            s.users[user] = state
            return
        }
        guard let weight = policy.weights[event.type] else { return }
        var state = s.users[user] ?? UserState()
        state.lastInteraction = max(state.lastInteraction, event.ingestedAt)
        s.seen.record(user: user, item: item, type: event.type)
        if policy.negativeTypes.contains(event.type) {
            state.hidden.insert(item)
        } else {
            // Decay is measured from the newest interaction, not the wall clock: an imported
            // history that ended long ago keeps its order. Events ahead of now count as now.
            let time = min(event.timestamp, now)
            if s.trending.isEmpty { s.trendingReference = time }
            // Keep the exponent bounded: rebase the decayed sums every 64 half-lives.
            if Double(time - s.trendingReference) > 64 * halfLife {
                let scale = pow(2, Double(s.trendingReference - time) / halfLife)
                s.trending = s.trending.mapValues { $0 * scale }.filter { $0.value > 1e-300 }
                s.trendingReference = time
            }
            s.trending[item, default: 0] += abs(weight) * pow(2, Double(time - s.trendingReference) / halfLife)
            s.popularity[item, default: 0] += abs(weight)
        }
        s.users[user] = state
    }

    // MARK: - Running

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var lastCheckpoint = ContinuousClock.now
            while !Task.isCancelled {
                do {
                    try self.catchUp()
                    if ContinuousClock.now - lastCheckpoint >= .seconds(60) {
                        _ = try self.checkpoint()
                        lastCheckpoint = ContinuousClock.now
                    }
                } catch {
                    self.logger.error("serving activity could not read the log", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                }
                await self.events.waitForEvents(from: self.appliedThrough)
            }
        }
        do {
            try catchUp()
            _ = try checkpoint()
        } catch {
            logger.error("could not checkpoint serving activity at shutdown", metadata: ["error": "\(error)"])
        }
    }

    // MARK: - Checkpoints

    /// Per-minute counts are kept this long (quality windows look back less far).
    static let minutesKept: Int64 = 30 * 24 * 60

    @discardableResult
    public func checkpoint() throws -> Int64 {
        let oldest = clock.nowMillis() / 60_000 - Self.minutesKept
        let (json, through) = state.withLock { s -> (JSONValue, Int64) in
            s.armMinutes = s.armMinutes.mapValues { $0.filter { $0.key >= oldest } }
            let recentOldest = clock.nowMillis() / 60_000 - settings.monitoringWindowMillis / 60_000 - 2 * s.recentBucketMinutes
            for key in s.recent.keys { s.recent[key]?.prune(before: recentOldest) }
            let users: [String: JSONValue] = s.users.mapValues { user in
                [
                    "hidden": .array(user.hidden.sorted().map(JSONValue.string)), "last": .int(user.lastInteraction),
                    "impressions": .array(user.impressions.map { [.string($0.item), .int($0.at)] }),
                ]
            }
            let body: JSONValue = [
                "format": 3, "applied_through": .int(s.appliedThrough), "users": .object(users), "arms": .object(s.arms.mapValues(\.json)),
                "trending": .object(s.trending.mapValues(JSONValue.double)), "trending_reference": .int(s.trendingReference),
                "popularity": .object(s.popularity.mapValues(JSONValue.double)), "seen": s.seen.json,
                "recent": .object(s.recent.mapValues(\.json)),
                "arm_minutes": .object(
                    s.armMinutes.mapValues { minutes in
                        .object(Dictionary(uniqueKeysWithValues: minutes.map { (String($0.key), .array($0.value.map { .int(Int64($0)) })) }))
                    }),
            ]
            return (body, s.appliedThrough)
        }
        try AtomicFile.write(json.serializedBytes, to: path)
        state.withLock { $0.checkpointedThrough = max($0.checkpointedThrough, through) }
        return through
    }

    /// The checkpoint at `path`; nil when there is none, or when it was written by an earlier
    /// format or for other interaction types (then the state is rebuilt from the lake and log).
    static func load(_ path: String, interactionTypes: [String], logger: Logger) throws -> State? {
        guard let bytes = AtomicFile.read(path) else { return nil }
        guard let json = try? JSONValue.parse(bytes: bytes), let format = json["format"]?.intValue else {
            throw StrataError.internal("the serving checkpoint \(path) is damaged; delete it to rebuild from the log")
        }
        guard format == 3, let seen = json["seen"].flatMap({ SeenItems(json: $0, types: interactionTypes) }) else {
            logger.info("serving activity is rebuilt from the lake and the log", metadata: ["checkpoint": "\(path)", "format": "\(format)"])
            return nil
        }
        var state = State(seen: seen)
        state.popularity = (json["popularity"]?.objectValue ?? [:]).compactMapValues(\.doubleValue)
        state.recent = (json["recent"]?.objectValue ?? [:]).mapValues(RecentOutcomes.init(json:))
        state.appliedThrough = json["applied_through"]?.intValue ?? 0
        state.checkpointedThrough = state.appliedThrough
        for (id, user) in json["users"]?.objectValue ?? [:] {
            var parsed = UserState()
            parsed.hidden = Set(user["hidden"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            parsed.lastInteraction = user["last"]?.intValue ?? 0
            parsed.impressions = (user["impressions"]?.arrayValue ?? []).compactMap { pair in
                guard let item = pair.arrayValue?.first?.stringValue, let at = pair.arrayValue?.last?.intValue else { return nil }
                return (item, at)
            }
            state.users[id] = parsed
        }
        state.arms = (json["arms"]?.objectValue ?? [:]).mapValues(ArmCounts.init(json:))
        state.trending = (json["trending"]?.objectValue ?? [:]).compactMapValues(\.doubleValue)
        state.trendingReference = json["trending_reference"]?.intValue ?? 0
        for (arm, minutes) in json["arm_minutes"]?.objectValue ?? [:] {
            for (minute, counts) in minutes.objectValue ?? [:] {
                guard let key = Int64(minute), let values = counts.arrayValue?.compactMap(\.intValue), values.count == 3 else { continue }
                state.armMinutes[arm, default: [:]][key] = values.map { Int($0) }
            }
        }
        return state
    }
}
