import StrataCore

/// One interaction for evaluation: who, what, when, and its accumulated weight.
public struct TimedInteraction: Sendable {
    public var user: String
    public var item: String
    public var timestamp: Int64
    public var weight: Float

    public init(user: String, item: String, timestamp: Int64, weight: Float = 1) {
        self.user = user
        self.item = item
        self.timestamp = timestamp
        self.weight = weight
    }
}

/// A train/test split with the training matrix and each evaluated user's test items.
public struct EvaluationSplit: Sendable {
    /// Training interactions over every user and every item of the dataset (the catalog).
    public var train: InteractionData
    /// Test items (positive only) per user index; users without test items are not evaluated.
    public var test: [Int: Set<Int32>]

    public var evaluatedUsers: [Int] { test.keys.sorted() }
    public var testInteractions: Int { test.values.reduce(0) { $0 + $1.count } }

    /// The same split evaluating at most `users` of its users, evenly spread over their indices
    /// (deterministic): a holdout of a few tens of thousands of users measures a model to well
    /// under its run-to-run noise, at a cost independent of the user base. Training data is
    /// untouched.
    public func sampled(users limit: Int) -> EvaluationSplit {
        let users = evaluatedUsers
        guard limit > 0, users.count > limit else { return self }
        var sampled = self
        sampled.test = [:]
        for position in 0..<limit {
            let user = users[position * users.count / limit]
            sampled.test[user] = test[user]
        }
        return sampled
    }

    /// The per-user temporal split of `../shared/anchors/implicit_anchor.py`: each (user, item)
    /// pair once (first time, weights summed); a user's pairs ordered by (time, item id); users
    /// with n ≥ 5 pairs send the last max(1, n / 5) to test, others train only. Users and items
    /// are indexed in ascending id order (numeric when every id is an integer).
    public static func temporal(_ interactions: [TimedInteraction]) -> EvaluationSplit {
        // Ids are interned first so that each pair is keyed by two integers (hashing millions
        // of string pairs cost seconds); indexes are then renumbered in id order.
        var seenUsers = IDMap()
        var seenItems = IDMap()
        var pairs: [UInt64: (timestamp: Int64, weight: Float)] = [:]
        pairs.reserveCapacity(interactions.count)
        for row in interactions {
            let key = UInt64(UInt32(seenUsers.insert(row.user))) << 32 | UInt64(UInt32(seenItems.insert(row.item)))
            if let existing = pairs[key] {
                pairs[key] = (min(existing.timestamp, row.timestamp), existing.weight + row.weight)
            } else {
                pairs[key] = (row.timestamp, row.weight)
            }
        }
        let users = IDMap(sortedIDs(Set(seenUsers.ids)))
        let items = IDMap(sortedIDs(Set(seenItems.ids)))
        let userIndex = seenUsers.ids.map { users.index(of: $0)! }
        let itemIndex = seenItems.ids.map { items.index(of: $0)! }
        var perUser = [[(item: Int32, timestamp: Int64, weight: Float)]](repeating: [], count: users.count)
        for (key, value) in pairs {
            perUser[Int(userIndex[Int(key >> 32)])].append((itemIndex[Int(key & 0xFFFF_FFFF)], value.timestamp, value.weight))
        }
        var triplets: [(row: Int32, column: Int32, value: Float)] = []
        var test: [Int: Set<Int32>] = [:]
        for (user, rows) in perUser.enumerated() {
            // Item index order is id order, so it breaks timestamp ties like the anchor does.
            let ordered = rows.sorted { ($0.timestamp, $0.item) < ($1.timestamp, $1.item) }
            let testCount = ordered.count >= 5 ? max(1, ordered.count / 5) : 0
            for (position, row) in ordered.enumerated() {
                if position >= ordered.count - testCount && row.weight > 0 {
                    test[user, default: []].insert(row.item)
                } else if position < ordered.count - testCount || row.weight <= 0 {
                    triplets.append((Int32(user), row.item, row.weight))
                }
            }
        }
        return EvaluationSplit(
            train: InteractionData(users: users, items: items, matrix: CSRMatrix(rows: users.count, columns: items.count, triplets: triplets)), test: test)
    }

    /// A split given as train and test rows (the anchor's `train.tsv` / `test.tsv`).
    public static func fixed(train: [TimedInteraction], test: [TimedInteraction]) -> EvaluationSplit {
        let users = IDMap(sortedIDs(Set(train.map(\.user) + test.map(\.user))))
        let items = IDMap(sortedIDs(Set(train.map(\.item) + test.map(\.item))))
        let triplets = train.map { (users.index(of: $0.user)!, items.index(of: $0.item)!, $0.weight) }
        var testSets: [Int: Set<Int32>] = [:]
        for row in test where row.weight > 0 { testSets[Int(users.index(of: row.user)!), default: []].insert(items.index(of: row.item)!) }
        return EvaluationSplit(
            train: InteractionData(users: users, items: items, matrix: CSRMatrix(rows: users.count, columns: items.count, triplets: triplets)), test: testSets)
    }

    /// Ids in ascending order: numerically when all are integers, else by their text.
    static func sortedIDs(_ ids: Set<String>) -> [String] {
        let numbers = ids.compactMap { id in Int64(id).map { (id, $0) } }
        if numbers.count == ids.count { return numbers.sorted { $0.1 < $1.1 }.map(\.0) }
        return ids.sorted()
    }
}
