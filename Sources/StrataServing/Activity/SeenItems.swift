import Foundation
import StrataCore
import StrataML
import Synchronization

/// Item ids as dense numbers, shared by every user's seen list: each item's text is stored
/// once, however many users saw it. Append-only, so a number never changes meaning.
public final class ItemInterner: Sendable {
    private let table = Mutex(IDMap())

    public init() {}

    /// The number of `id`, adding it if new.
    func intern(_ id: String) -> Int32 { table.withLock { $0.insert(id) } }

    /// The number of `id`, if any user interacted with it.
    public func number(of id: String) -> Int32? { table.withLock { $0.index(of: id) } }

    /// The ids of `numbers`, in their order.
    public func ids(_ numbers: [Int32]) -> [String] { table.withLock { table in numbers.map { table.id(at: $0) } } }

    public var count: Int { table.withLock { $0.count } }

    /// Every id, by number.
    var allIDs: [String] { table.withLock { $0.ids } }
}

/// Which items each user interacted with, and through which interaction types: the one
/// definition of "seen" that every serving path (cache, live, re-ranked, trending) and the
/// batch job exclude by, kept for the user's whole history.
///
/// Cost: 8 bytes per distinct (user, item) pair — the item's number and a mask of the types —
/// in a list per user sorted by item, plus one interned id per item; a lookup is a binary
/// search in one user's list, an update an insertion into it.
struct SeenItems: Sendable {
    /// Interaction types by bit (the 32nd bit stands for every type past the 31st).
    let types: [String]
    let interner: ItemInterner
    private(set) var users: [String: [UInt64]] = [:]

    init(types: [String], interner: ItemInterner = ItemInterner()) {
        self.types = types.sorted()
        self.interner = interner
    }

    /// The mask of `types` (unknown types have none).
    func mask(_ types: some Sequence<String>) -> UInt32 {
        types.reduce(0) { mask, type in mask | (self.types.firstIndex(of: type).map { UInt32(1) << UInt32(min($0, 31)) } ?? 0) }
    }

    /// Records that `user` interacted with `item` through an event of `type`.
    mutating func record(user: String, item: String, type: String) {
        let bit = mask([type])
        guard bit != 0 else { return }
        let number = UInt64(UInt32(bitPattern: interner.intern(item)))
        var list = users.removeValue(forKey: user) ?? []
        let position = Self.position(of: number, in: list)
        if position < list.count, list[position] >> 32 == number {
            list[position] |= UInt64(bit)
        } else {
            list.insert(number << 32 | UInt64(bit), at: position)
        }
        users[user] = list
    }

    mutating func forget(user: String) { users[user] = nil }

    func view(_ user: String) -> SeenView { SeenView(entries: users[user] ?? [], interner: interner) }

    /// Where `number` is, or would go, in a list sorted by item number.
    static func position(of number: UInt64, in list: [UInt64]) -> Int {
        var low = 0
        var high = list.count
        while low < high {
            let middle = (low + high) / 2
            if list[middle] >> 32 < number { low = middle + 1 } else { high = middle }
        }
        return low
    }

    // MARK: - Checkpoints

    /// Users' lists as base64 of little-endian 64-bit entries (compact, exact).
    var json: JSONValue {
        [
            "types": .array(types.map(JSONValue.string)), "items": .array(interner.allIDs.map(JSONValue.string)),
            "users": .object(
                users.mapValues { list in
                    .string(Data(list.flatMap { entry in (0..<8).map { UInt8(truncatingIfNeeded: entry >> ($0 * 8)) } }).base64EncodedString())
                }),
        ]
    }

    /// The lists of a checkpoint, or nil when it was written for other interaction types.
    init?(json: JSONValue, types: [String]) {
        guard let stored = json["types"]?.arrayValue?.compactMap(\.stringValue), stored == types.sorted() else { return nil }
        self.init(types: types)
        for id in json["items"]?.arrayValue?.compactMap(\.stringValue) ?? [] { _ = interner.intern(id) }
        let itemCount = UInt64(interner.count)
        for (user, text) in json["users"]?.objectValue ?? [:] {
            guard let bytes = text.stringValue.flatMap({ Data(base64Encoded: $0) }).map(Array.init), bytes.count % 8 == 0 else { return nil }
            let list = stride(from: 0, to: bytes.count, by: 8).map { start in (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[start + $1]) << ($1 * 8) } }
            guard list.allSatisfy({ $0 >> 32 < itemCount }), zip(list, list.dropFirst()).allSatisfy({ $0 >> 32 < $1 >> 32 }) else { return nil }
            users[user] = list
        }
    }
}

/// One user's seen items at the moment of a request (a copy: later events do not change it).
public struct SeenView: Sendable {
    let entries: [UInt64]
    let interner: ItemInterner

    public static let empty = SeenView(entries: [], interner: ItemInterner())

    public var isEmpty: Bool { entries.isEmpty }
    /// How many distinct items the user interacted with.
    public var count: Int { entries.count }

    /// Whether the user interacted with item number `number` through a type of `mask`.
    func contains(number: Int32, mask: UInt32) -> Bool {
        let key = UInt64(UInt32(bitPattern: number))
        let position = SeenItems.position(of: key, in: entries)
        return position < entries.count && entries[position] >> 32 == key && UInt32(truncatingIfNeeded: entries[position]) & mask != 0
    }

    /// Whether the user interacted with `item` through a type of `mask`.
    func contains(_ item: String, mask: UInt32) -> Bool {
        guard !entries.isEmpty, let number = interner.number(of: item) else { return false }
        return contains(number: number, mask: mask)
    }

    /// The item numbers the user interacted with through a type of `mask`.
    func numbers(mask: UInt32) -> [Int32] {
        entries.compactMap { UInt32(truncatingIfNeeded: $0) & mask != 0 ? Int32(bitPattern: UInt32($0 >> 32)) : nil }
    }

    /// The items the user interacted with through a type of `mask`.
    func ids(mask: UInt32) -> [String] { interner.ids(numbers(mask: mask)) }
}

/// What to leave out of one user's answer: hidden and recently impressed items, and what they
/// interacted with through the types `serving.exclude_seen` names.
public struct UserExclusions: Sendable {
    /// Hidden items and recently impressed ones (and, per request, the caller's own list).
    public var ids: Set<String>
    public let seen: SeenView
    /// The interaction types whose items are excluded.
    let mask: UInt32
    /// When the user last interacted (ingestion time; 0: never).
    public var lastInteraction: Int64

    /// Whether `item` is left out: a set lookup, then a binary search in the user's history.
    public func excludes(_ item: String) -> Bool { ids.contains(item) || seen.contains(item, mask: mask) }

    /// Every item left out (a walk over the user's history).
    public var allIDs: Set<String> { ids.union(seen.ids(mask: mask)) }
}
