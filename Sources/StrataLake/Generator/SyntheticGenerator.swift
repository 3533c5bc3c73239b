import Foundation
import StrataCore

/// Shape of the synthetic data.
public struct GeneratorConfig: Sendable {
    public var seed: UInt64 = 42
    public var users = 1000
    public var items = 2000
    public var categories = 20
    /// History spans this many days up to `endMillis`.
    public var days = 14
    /// End of the history (epoch ms); defaults to the start of the current UTC day, so that
    /// one seed gives the same data all day.
    public var endMillis: Int64
    /// Average sessions per user per day.
    public var sessionsPerUserPerDay = 0.4

    public init(endMillis: Int64? = nil) {
        let now = SystemClock().nowMillis()
        self.endMillis = endMillis ?? (now - now % 86_400_000)
    }
}

/// A deterministic generator of realistic e-commerce behaviour: a power-law (Zipf–Mandelbrot)
/// item popularity, users with latent tastes over categories, sessions in which impressions
/// of recommendations (with recommendation ids) lead to clicks, views lead to add-to-carts and
/// purchases, and the occasional hide. It emits only the event types and fields the contract
/// declares, so tests and the demo need no downloaded data.
public struct SyntheticGenerator: Sendable {
    public let config: GeneratorConfig
    let contract: Contract
    let itemCategory: [Int]
    let itemPrice: [Double]
    /// Cumulative popularity over all items, and per category.
    let popularity: [Double]
    let categoryItems: [[Int]]
    let categoryPopularity: [[Double]]
    /// Each user's three favourite categories.
    var userTastes: [[Int]]
    /// Users whose tastes shifted (`shiftTastes`): they browse more, in their new categories.
    var explorers: Set<Int> = []
    var rng: SplitMix64
    var sequence = 0

    public init(contract: Contract, config: GeneratorConfig) {
        self.contract = contract
        self.config = config
        var rng = SplitMix64(seed: config.seed)
        var categories: [Int] = []
        var prices: [Double] = []
        var weights: [Double] = []
        var byCategory = Array(repeating: [Int](), count: config.categories)
        for item in 0..<config.items {
            let category = rng.nextInt(below: config.categories)
            categories.append(category)
            byCategory[category].append(item)
            // Log-normal-ish prices between about 2 and 500.
            prices.append((exp(1.5 + 2.5 * rng.nextDouble() + rng.nextDouble()) * 100).rounded() / 100)
            weights.append(1 / pow(Double(item) + 2.7, 1.1))
        }
        self.itemCategory = categories
        self.itemPrice = prices
        self.popularity = Self.cumulative(weights)
        self.categoryItems = byCategory
        self.categoryPopularity = byCategory.map { items in Self.cumulative(items.map { weights[$0] }) }
        self.userTastes = (0..<config.users).map { _ in (0..<3).map { _ in rng.nextInt(below: config.categories) } }
        self.rng = rng
    }

    static func cumulative(_ weights: [Double]) -> [Double] {
        var total = 0.0
        return weights.map {
            total += $0
            return total
        }
    }

    public static func itemID(_ index: Int) -> String { "i\(index)" }

    /// The planted truth behind the data: whether an item is in one of the user's favourite
    /// categories (the demo's simulated users click those more).
    public func likes(user: String, item: String) -> Bool {
        guard let u = Int(user.dropFirst()), let i = Int(item.dropFirst()), userTastes.indices.contains(u), itemCategory.indices.contains(i) else {
            return false
        }
        return userTastes[u].contains(itemCategory[i])
    }

    /// The generated price of an item.
    public func price(item: String) -> Double? {
        Int(item.dropFirst()).flatMap { itemPrice.indices.contains($0) ? itemPrice[$0] : nil }
    }
    public static func userID(_ index: Int) -> String { "u\(index)" }

    // MARK: - Catalog

    /// Catalog upserts for every item and user, with the properties the contract declares.
    public func catalog() -> (items: [CatalogUpsert], users: [CatalogUpsert]) {
        var rng = SplitMix64(seed: config.seed ^ 0xCA7A_106)
        let start = config.endMillis - Int64(config.days) * 86_400_000
        let itemProperties = Set(contract.item.properties.map(\.name))
        let userProperties = Set(contract.user.properties.map(\.name))
        let items = (0..<config.items).map { index -> CatalogUpsert in
            var properties: [String: JSONValue] = [:]
            let category = "c\(itemCategory[index])"
            if itemProperties.contains("title") { properties["title"] = .string("Product \(index) of \(category)") }
            if itemProperties.contains("category") { properties["category"] = .string(category) }
            if itemProperties.contains("price") { properties["price"] = .double(itemPrice[index]) }
            if itemProperties.contains("in_stock") { properties["in_stock"] = .bool(!rng.chance(0.05)) }
            if itemProperties.contains("tags") { properties["tags"] = .array([.string(category), .string(rng.chance(0.5) ? "sale" : "new")]) }
            if itemProperties.contains("created_at") {
                properties["created_at"] = .string(EventTime.format(millis: start - Int64(rng.nextInt(below: 365)) * 86_400_000))
            }
            properties["timestamp"] = .int(start - 86_400_000)
            return CatalogUpsert(id: Self.itemID(index), properties: .object(properties))
        }
        let segments = contract.user.properties.first { $0.name == "segment" }?.allowedValues ?? ["new", "casual", "loyal", "vip"]
        let countries = ["DE", "FR", "GB", "US", "NL", "ES"]
        let users = (0..<config.users).map { index -> CatalogUpsert in
            var properties: [String: JSONValue] = [:]
            if userProperties.contains("segment") { properties["segment"] = .string(segments[rng.nextInt(below: segments.count)]) }
            if userProperties.contains("country") { properties["country"] = .string(countries[rng.nextInt(below: countries.count)]) }
            properties["timestamp"] = .int(start - 86_400_000)
            return CatalogUpsert(id: Self.userID(index), properties: .object(properties))
        }
        return (items, users)
    }

    // MARK: - Behaviour

    /// About `config.days` of history, sorted by time; with `limit`, exactly that many events.
    public mutating func history(limit: Int? = nil) -> [IncomingEvent] {
        let start = config.endMillis - Int64(config.days) * 86_400_000
        let span = config.endMillis - start
        let sessions = max(1, Int(Double(config.users * config.days) * config.sessionsPerUserPerDay))
        var events: [IncomingEvent] = []
        var made = 0
        while made < sessions || (limit.map { events.count < $0 } ?? false) {
            let user = rng.nextInt(below: config.users)
            let at = start + Int64(rng.nextDouble() * Double(span - 3_600_000))
            events += session(user: user, at: at)
            made += 1
        }
        events.sort { lhs, rhs in
            guard case .millis(let a) = lhs.time, case .millis(let b) = rhs.time else { return false }
            return a < b
        }
        if let limit { events.removeSubrange(min(limit, events.count)...) }
        return events
    }

    /// About `config.days` of history (with `limit`, exactly that many events, the earliest),
    /// in time order, handed to `emit` one event at a time: memory stays bounded by the
    /// sessions in flight (about an hour of them) whatever the size, where `history` holds and
    /// sorts everything. Session starts are drawn in ascending order (the order statistics of
    /// uniform times, one after another: the largest of k uniforms is U^(1/k)), and a session's
    /// events wait in a heap until no later session can start before them.
    public mutating func stream(limit: Int? = nil, _ emit: (IncomingEvent) throws -> Void) rethrows {
        let start = config.endMillis - Int64(config.days) * 86_400_000
        let span = Double(config.endMillis - start - 3_600_000)
        var sessions = max(1, Int(Double(config.users * config.days) * config.sessionsPerUserPerDay))
        if let limit {
            // Enough sessions for `limit` events, by the mean length of a sample of sessions.
            var pilot = self
            let sample = 2000
            let mean =
                Double((0..<sample).reduce(0) { total, _ in total + pilot.session(user: pilot.rng.nextInt(below: config.users), at: start).count })
                / Double(sample)
            sessions = max(sessions, Int(Double(limit) / max(mean, 1) * 1.02) + 1)
        }
        var pending = EventHeap()
        var emitted = 0
        var largest = 1.0
        for remaining in stride(from: sessions, to: 0, by: -1) {
            largest *= pow(rng.nextDouble(), 1 / Double(remaining))
            let at = start + Int64((1 - largest) * span)
            while let next = pending.peekTime, next <= at {
                if let limit, emitted >= limit { return }
                try emit(pending.pop())
                emitted += 1
            }
            for event in session(user: rng.nextInt(below: config.users), at: at) { pending.push(event) }
        }
        while !pending.isEmpty {
            if let limit, emitted >= limit { return }
            try emit(pending.pop())
            emitted += 1
        }
    }

    /// One session of a random user, happening now (for the live stream of the demo).
    public mutating func liveSession(now: Int64) -> [IncomingEvent] {
        session(user: rng.nextInt(below: config.users), at: now, spacingMillis: 0)
    }

    /// One user's session starting at `at`: impressions of a recommendation slate, maybe a
    /// click on it, then browsing that may lead to carts and purchases.
    mutating func session(user: Int, at: Int64, spacingMillis: Int64 = 20_000) -> [IncomingEvent] {
        var events: [IncomingEvent] = []
        var time = at
        let userID = Self.userID(user)
        let sessionID = "s\(config.seed)-\(sequence)"
        func emit(_ type: String, _ fields: [String: FieldValue]) {
            guard let schema = contract.eventType(named: type) else { return }
            sequence += 1
            let declared = schema.fields.compactMap { field in fields[field.name].map { (name: field.name, value: Optional($0)) } }
            events.append(IncomingEvent(type: type, eventID: "g\(config.seed)-\(sequence)", userID: userID, time: .millis(time), fields: declared))
            time += spacingMillis == 0 ? 1 : Int64(rng.nextInt(below: Int(spacingMillis))) + 1000
        }
        // A slate of recommendations, mostly popular items, some from the user's tastes.
        let recommendationID = "rec-\(config.seed)-\(sequence)"
        let slate = (0..<5).map { _ in rng.chance(0.5) ? tasteItem(user) : rng.pick(cumulative: popularity) }
        for (position, item) in slate.enumerated() {
            emit(
                "impression",
                [
                    "item_id": .string(Self.itemID(item)), "recommendation_id": .string(recommendationID), "position": .int(Int64(position)),
                    "surface": .string("home"),
                ])
        }
        if let liked = slate.enumerated().first(where: { userTastes[user].contains(itemCategory[$0.element]) && rng.chance(0.35) }) {
            emit(
                "click",
                [
                    "item_id": .string(Self.itemID(liked.element)), "recommendation_id": .string(recommendationID), "position": .int(Int64(liked.offset)),
                    "session_id": .string(sessionID),
                ])
            emit(
                "view",
                [
                    "item_id": .string(Self.itemID(liked.element)), "recommendation_id": .string(recommendationID), "session_id": .string(sessionID),
                    "page": .string("product"),
                ])
        } else if rng.chance(0.02) {
            emit("hide", ["item_id": .string(Self.itemID(slate[0])), "reason": .string("not_interested")])
        }
        let views = (1 + Int(-log(1 - rng.nextDouble()) * 3)) * (explorers.contains(user) ? 4 : 1)
        var order = 0
        for _ in 0..<min(views, explorers.contains(user) ? 60 : 20) {
            let item = rng.chance(0.8) ? tasteItem(user) : rng.pick(cumulative: popularity)
            emit("view", ["item_id": .string(Self.itemID(item)), "session_id": .string(sessionID), "page": .string("product")])
            guard rng.chance(0.12) else { continue }
            let quantity = Int64(1 + (rng.chance(0.2) ? 1 : 0))
            emit(
                "add_to_cart",
                ["item_id": .string(Self.itemID(item)), "session_id": .string(sessionID), "quantity": .int(quantity), "price": .double(itemPrice[item])])
            guard rng.chance(0.45) else { continue }
            order += 1
            emit(
                "purchase",
                [
                    "item_id": .string(Self.itemID(item)), "order_id": .string("o\(config.seed)-\(sequence)-\(order)"), "session_id": .string(sessionID),
                    "quantity": .int(quantity), "price": .double(itemPrice[item]), "currency": .string("EUR"), "category": .string("c\(itemCategory[item])"),
                ])
        }
        return events
    }

    // MARK: - Simulated visitors (the demo)

    /// How a simulated visitor responds to a slate of recommendations shown at `at`: an
    /// impression per item, a click on liked items (in the user's favourite categories) far
    /// more often (12%) than on others (2%), and now and then a purchase of a clicked item.
    public mutating func respond(user: String, to slate: [String], recommendationID: String, at: Int64) -> [IncomingEvent] {
        var events: [IncomingEvent] = []
        func emit(_ type: String, _ time: Int64, _ fields: [(name: String, value: FieldValue?)]) {
            sequence += 1
            events.append(IncomingEvent(type: type, eventID: "v\(config.seed)-\(sequence)", userID: user, time: .millis(time), fields: fields))
        }
        for (position, item) in slate.enumerated() {
            let shown: [(name: String, value: FieldValue?)] = [
                ("item_id", .string(item)), ("recommendation_id", .string(recommendationID)), ("position", .int(Int64(position))),
            ]
            emit("impression", at, shown)
            guard rng.chance(likes(user: user, item: item) ? 0.12 : 0.02) else { continue }
            emit("click", at + 1, shown)
            if rng.chance(0.15), let price = price(item: item) {
                emit(
                    "purchase", at + 2,
                    [
                        ("item_id", .string(item)), ("order_id", .string("v\(config.seed)-\(sequence)")), ("recommendation_id", .string(recommendationID)),
                        ("price", .double(price)),
                    ])
            }
        }
        return events
    }

    /// Live-like traffic spread over `[from, to)`: browsing sessions at `sessionsPerSecond`
    /// and recommendation slates (half from the user's tastes, half popular) answered as
    /// `respond` does at `slatesPerSecond`, sorted by time. The demo puts the last hour of its
    /// history at the live stream's pace, so that what the model is trained on looks like what
    /// it then serves (and drift means a real change).
    public mutating func recentTraffic(from: Int64, to: Int64, sessionsPerSecond: Double, slatesPerSecond: Double) -> [IncomingEvent] {
        let seconds = Double(to - from) / 1000
        var events: [IncomingEvent] = []
        for _ in 0..<Int(seconds * sessionsPerSecond) {
            events += session(user: rng.nextInt(below: config.users), at: from + Int64(rng.nextDouble() * Double(to - from - 60_000)), spacingMillis: 0)
        }
        for slate in 0..<Int(seconds * slatesPerSecond) {
            let user = rng.nextInt(below: config.users)
            let items = (0..<5).map { _ in Self.itemID(rng.chance(0.5) ? tasteItem(user) : rng.pick(cumulative: popularity)) }
            events += respond(
                user: Self.userID(user), to: items, recommendationID: "recent-\(config.seed)-\(slate)",
                at: from + Int64(rng.nextDouble() * Double(to - from - 1000)))
        }
        events.sort { lhs, rhs in
            guard case .millis(let a) = lhs.time, case .millis(let b) = rhs.time else { return false }
            return a < b
        }
        return events
    }

    /// Plants a shift in tastes: `fraction` of the users (the same ones for a seed) take up
    /// three other favourite categories and browse four times as much. `likes` follows.
    public mutating func shiftTastes(fraction: Double) {
        var picker = SplitMix64(seed: config.seed ^ 0x5_41F7)
        for user in 0..<config.users where picker.nextDouble() < fraction {
            userTastes[user] = userTastes[user].map { ($0 + config.categories / 3 + 1) % config.categories }
            explorers.insert(user)
        }
    }

    /// An item from one of the user's favourite categories, by popularity within it.
    mutating func tasteItem(_ user: Int) -> Int {
        let category = userTastes[user][rng.nextInt(below: 3)]
        let items = categoryItems[category]
        guard !items.isEmpty else { return rng.pick(cumulative: popularity) }
        return items[rng.pick(cumulative: categoryPopularity[category])]
    }
}

/// Events by time (then by arrival), smallest first: a binary min-heap.
struct EventHeap {
    private var items: [(time: Int64, order: Int, event: IncomingEvent)] = []
    private var arrivals = 0

    var isEmpty: Bool { items.isEmpty }
    var peekTime: Int64? { items.first?.time }

    private func below(_ a: Int, _ b: Int) -> Bool { (items[a].time, items[a].order) < (items[b].time, items[b].order) }

    mutating func push(_ event: IncomingEvent) {
        guard case .millis(let time) = event.time else { return }
        items.append((time, arrivals, event))
        arrivals += 1
        var child = items.count - 1
        while child > 0, below(child, (child - 1) / 2) {
            items.swapAt(child, (child - 1) / 2)
            child = (child - 1) / 2
        }
    }

    mutating func pop() -> IncomingEvent {
        let top = items[0].event
        items.swapAt(0, items.count - 1)
        items.removeLast()
        var parent = 0
        while true {
            var smallest = parent
            for child in [2 * parent + 1, 2 * parent + 2] where child < items.count && below(child, smallest) { smallest = child }
            guard smallest != parent else { return top }
            items.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
