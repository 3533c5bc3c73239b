/// String ids in, dense indices inside, string ids back out.
public struct IDMap: Sendable, Equatable {
    public private(set) var ids: [String] = []
    private var indices: [String: Int32] = [:]

    public init() {}

    public init(_ ids: [String]) {
        for id in ids { _ = insert(id) }
    }

    public var count: Int { ids.count }

    /// The index of `id`, adding it if new.
    public mutating func insert(_ id: String) -> Int32 {
        if let index = indices[id] { return index }
        let index = Int32(ids.count)
        ids.append(id)
        indices[id] = index
        return index
    }

    public func index(of id: String) -> Int32? { indices[id] }
    public func id(at index: Int32) -> String { ids[Int(index)] }
}
