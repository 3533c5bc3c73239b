import Foundation
import Logging
import ServiceLifecycle
import StrataCore
import StrataLake
import Synchronization

/// What serving learns from the event stream, within milliseconds of ingestion: each user's
/// hidden items (negative events exclude an item at once), recent impressions (not shown
/// again for a while), when they last interacted (a precomputed list older than that is
/// stale), trending items (time-decayed interactions), and every impression, click and
/// purchase attributed to a variant through its recommendation id. A checkpoint plus a replay
/// of the log after it survives restarts.
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
        /// "deployment:variant" → minute (event time) → [impressions, clicks, purchases]: what
        /// windows of quality monitoring add up (the last 30 days, pruned at checkpoints).
        var armMinutes: [String: [Int64: [Int]]] = [:]
        /// Σ weight · 2^((t − reference)/halfLife) per item.
        var trending: [String: Double] = [:]
        var trendingReference: Int64 = 0
        var appliedThrough: Int64 = 0
        var checkpointedThrough: Int64 = 0
    }

    static let impressionsKept = 200
    let lake: Lake
    let policy: InteractionPolicy
    let halfLife: Double
    let path: String
    let logger: Logger
    private let state = Mutex(State())
    private let applying = Mutex(())
    private let trendingTop = Mutex<(at: Int64, through: Int64, items: [(id: String, score: Double)])>((0, -1, []))

    public init(lake: Lake, logger: Logger) throws {
        self.lake = lake
        self.policy = lake.config.training.interactions
        self.halfLife = Double(lake.config.serving.trendingHalfLifeMillis)
        self.path = "\(lake.directory.projectRoot)/serving/activity.json"
        self.logger = logger
        if let restored = try Self.load(path) {
            state.withLock { $0 = restored }
        } else if lake.log.startOffset > 0 {
            let now = lake.clock.nowMillis()
            let events = try lake.lakeEvents(before: lake.log.startOffset)
            state.withLock { s in
                for (_, event) in events { Self.apply(event, to: &s, policy: policy, halfLife: halfLife, now: now) }
                s.appliedThrough = lake.log.startOffset
            }
        }
        try catchUp()
        lake.register(self)
    }

    // MARK: - Reading

    /// Items the user hid or disliked.
    public func hidden(_ user: String) -> Set<String> { state.withLock { $0.users[user]?.hidden ?? [] } }

    /// What to leave out for a user: hidden items, and items impressed since `since`.
    public func exclusions(_ user: String, impressedSince since: Int64?) -> (excluded: Set<String>, lastInteraction: Int64) {
        state.withLock { s in
            guard let user = s.users[user] else { return ([], 0) }
            var excluded = user.hidden
            if let since { for impression in user.impressions where impression.at >= since { excluded.insert(impression.item) } }
            return (excluded, user.lastInteraction)
        }
    }

    /// Users who interacted since `since` (ingestion time).
    public func activeUsers(since: Int64) -> [String] {
        state.withLock { $0.users.filter { $0.value.lastInteraction >= since }.map(\.key) }.sorted()
    }

    /// When the user last interacted (ingestion time; 0: never).
    public func lastInteraction(_ user: String) -> Int64 { state.withLock { $0.users[user]?.lastInteraction ?? 0 } }

    /// The most interacted-with items lately, best first (recomputed at most once a second).
    public func trending(limit: Int = 500) -> [(id: String, score: Double)] {
        let now = lake.clock.nowMillis()
        let through = appliedThrough
        if let fresh = trendingTop.withLock({ top in now - top.at < 1000 && top.through == through ? top.items : nil }) {
            return Array(fresh.prefix(limit))
        }
        let (scores, reference) = state.withLock { ($0.trending, $0.trendingReference) }
        let scale = pow(2, Double(reference - now) / halfLife)
        let items = scores.map { (id: $0.key, score: $0.value * scale) }.sorted { $0.score > $1.score || ($0.score == $1.score && $0.id < $1.id) }
        let kept = Array(items.prefix(500))
        trendingTop.withLock { $0 = (now, through, kept) }
        return Array(kept.prefix(limit))
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
            let from = max(appliedThrough, lake.log.startOffset)
            var events: [Event] = []
            let end = try lake.log.scan(from: from) { _, payload in
                events.append(try EventCodec.decode(payload))
                return true
            }
            guard end > from else { return }
            let now = lake.clock.nowMillis()
            state.withLock { s in
                for event in events { Self.apply(event, to: &s, policy: policy, halfLife: halfLife, now: now) }
                s.appliedThrough = max(s.appliedThrough, end)
            }
        }
    }

    /// Returns once every record below `offset` is applied (tests, read-your-writes).
    public func waitUntilApplied(through offset: Int64) async {
        while appliedThrough < offset {
            try? catchUp()
            if appliedThrough < offset { try? await Task.sleep(for: .milliseconds(5)) }
        }
    }

    static func apply(_ event: Event, to s: inout State, policy: InteractionPolicy, halfLife: Double, now: Int64) {
        guard let user = event.userID else { return }
        let item = event.itemID
        if let recommendation = event[field: "recommendation_id"]?.stringValue, let id = RecommendationID(recommendation) {
            let key = "\(id.deployment):\(id.variant)"
            var arm = s.arms[key] ?? ArmCounts()
            let minute = event.timestamp / 60_000
            switch event.type {
            case "impression", "click", "purchase":
                var bucket = s.armMinutes[key, default: [:]][minute] ?? [0, 0, 0]
                bucket[event.type == "impression" ? 0 : event.type == "click" ? 1 : 2] += 1
                s.armMinutes[key, default: [:]][minute] = bucket
            default: break
            }
            switch event.type {
            case "impression":
                arm.impressions += 1
                arm.users.insert(user)
            case "click":
                arm.clicks += 1
            case "purchase":
                arm.purchases += 1
                arm.purchasers.insert(user)
                let quantity = Double(event[field: "quantity"]?.intValue ?? 1)
                arm.revenue += (event[field: "price"]?.numericValue ?? 0) * quantity
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
        if policy.negativeTypes.contains(event.type) {
            state.hidden.insert(item)
        } else {
            if s.trending.isEmpty { s.trendingReference = now }
            // Keep the exponent bounded: rebase the decayed sums every 64 half-lives.
            if Double(now - s.trendingReference) > 64 * halfLife {
                let scale = pow(2, Double(s.trendingReference - now) / halfLife)
                s.trending = s.trending.mapValues { $0 * scale }.filter { $0.value > 1e-9 }
                s.trendingReference = now
            }
            let age = Double(min(event.timestamp, now) - s.trendingReference)
            s.trending[item, default: 0] += abs(weight) * pow(2, age / halfLife)
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
                await self.lake.log.waitForRecords(from: self.appliedThrough)
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
        let oldest = lake.clock.nowMillis() / 60_000 - Self.minutesKept
        let (json, through) = state.withLock { s -> (JSONValue, Int64) in
            s.armMinutes = s.armMinutes.mapValues { $0.filter { $0.key >= oldest } }
            let users: [String: JSONValue] = s.users.mapValues { user in
                [
                    "hidden": .array(user.hidden.sorted().map(JSONValue.string)), "last": .int(user.lastInteraction),
                    "impressions": .array(user.impressions.map { [.string($0.item), .int($0.at)] }),
                ]
            }
            let body: JSONValue = [
                "format": 1, "applied_through": .int(s.appliedThrough), "users": .object(users), "arms": .object(s.arms.mapValues(\.json)),
                "trending": .object(s.trending.mapValues(JSONValue.double)), "trending_reference": .int(s.trendingReference),
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

    static func load(_ path: String) throws -> State? {
        guard let bytes = AtomicFile.read(path) else { return nil }
        guard let json = try? JSONValue.parse(bytes: bytes), json["format"]?.intValue == 1 else {
            throw StrataError.internal("the serving checkpoint \(path) is damaged; delete it to rebuild from the log")
        }
        var state = State()
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
