import StrataCore

/// The baseline: every user gets the items with the most (decayed, weighted) positive
/// interactions; ties go to the lower item index.
public struct PopularityModel: Recommender {
    public let algorithm = Algorithm.popularity
    public let parameters: [String: Double] = [:]
    public let users: IDMap
    public let items: IDMap
    /// Total positive weight per item.
    public let popularity: [Float]

    public static func fit(_ data: InteractionData) -> PopularityModel {
        var totals = [Float](repeating: 0, count: data.items.count)
        for (item, weight) in zip(data.matrix.indices, data.matrix.values) where weight > 0 { totals[Int(item)] += weight }
        return PopularityModel(users: data.users, items: data.items, popularity: totals)
    }

    init(users: IDMap, items: IDMap, popularity: [Float]) {
        self.users = users
        self.items = items
        self.popularity = popularity
    }

    public func score(_ query: UserQuery, into scores: UnsafeMutableBufferPointer<Float>) {
        _ = scores.update(fromContentsOf: popularity)
    }

    public func similarItems(to item: Int32, n: Int) -> [(index: Int32, score: Float)] {
        popularity.withUnsafeBufferPointer { TopK.select($0, n: n) { $0 == Int(item) } }.map { (Int32($0.index), $0.score) }
    }

    public func artifact() -> ModelArtifact {
        var artifact = ModelArtifact(algorithm: .popularity, parameters: parameters, metadata: ["items": popularity.count])
        artifact.floats = ["popularity": popularity]
        artifact.idLists = ["users": users.ids, "items": items.ids]
        return artifact
    }

    public init(artifact: ModelArtifact) throws(StrataError) {
        try artifact.checkAlgorithm(.popularity)
        self.init(
            users: try artifact.ids("users"), items: try artifact.ids("items"),
            popularity: try artifact.floats("popularity", count: try artifact.shape("items")))
    }
}
