import StrataCore

/// A user to recommend for: a training user (by index) and/or their interaction history.
public struct UserQuery: Sendable {
    /// The user's row in the training data, when they were trained on.
    public var userIndex: Int?
    /// Items the user interacted with, and the accumulated weights (negative: disliked).
    public var items: [Int32]
    public var weights: [Float]

    public init(userIndex: Int? = nil, items: [Int32], weights: [Float]) {
        precondition(items.count == weights.count, "one weight per item")
        self.userIndex = userIndex
        self.items = items
        self.weights = weights
    }

    /// A training user with their training row as history.
    public static func training(_ user: Int, in matrix: CSRMatrix) -> UserQuery {
        let row = matrix.row(user)
        return UserQuery(userIndex: user, items: Array(row.indices), weights: Array(row.values))
    }
}

/// A trained recommendation model.
public protocol Recommender: Sendable {
    var algorithm: Algorithm { get }
    var parameters: [String: Double] { get }
    /// The item ids, by index.
    var items: IDMap { get }
    /// The user ids the model was trained on, by index.
    var users: IDMap { get }

    /// A score for every item (higher is better) into `scores` (`items.count` long).
    func score(_ query: UserQuery, into scores: UnsafeMutableBufferPointer<Float>)

    /// The `n` best items for the user, excluding everything in their history (seen items and
    /// dislikes) and `excluded`.
    func recommend(_ query: UserQuery, n: Int, excluding excluded: Set<Int32>) -> [(index: Int32, score: Float)]

    /// Items most similar to `item`, best first (the item itself left out).
    func similarItems(to item: Int32, n: Int) -> [(index: Int32, score: Float)]

    /// The versioned binary artifact (deterministic bytes).
    func artifact() -> ModelArtifact
}

extension Recommender {
    public func recommend(_ query: UserQuery, n: Int) -> [(index: Int32, score: Float)] {
        recommend(query, n: n, excluding: [])
    }

    /// Scores every item, masks the history and `excluded`, keeps the best `n` (ties to the
    /// lower index).
    public func recommend(_ query: UserQuery, n: Int, excluding excluded: Set<Int32>) -> [(index: Int32, score: Float)] {
        var scores = [Float](repeating: 0, count: items.count)
        return scores.withUnsafeMutableBufferPointer { buffer in
            score(query, into: buffer)
            for item in query.items { buffer[Int(item)] = -.infinity }
            for item in excluded where Int(item) < buffer.count { buffer[Int(item)] = -.infinity }
            return TopK.select(UnsafeBufferPointer(buffer), n: n).map { (Int32($0.index), $0.score) }
        }
    }
}

/// Progress of a fit, reported per iteration (epoch).
public struct FitProgress: Sendable {
    public var iteration: Int
    public var iterations: Int
    public var seconds: Double
}

/// Trains any algorithm from its spec.
public enum ModelTrainer {
    /// Fits `spec` on `data`; iterative algorithms (ALS, BPR) checkpoint and resume through
    /// `control`, the others train in one step.
    public static func fit(
        _ spec: ModelSpec, data: InteractionData, threads: Int = Parallel.coreCount, progress: (FitProgress) -> Void = { _ in },
        control: FitControl = FitControl()
    ) throws -> any Recommender {
        switch spec.algorithm {
        case .popularity: return PopularityModel.fit(data)
        case .itemKNN: return ItemKNNModel.fit(data, neighbors: spec.int("neighbors"), shrinkage: Float(spec["shrinkage"]), threads: threads)
        case .als: return try ALSModel.fit(data, parameters: try ALSParameters(spec), threads: threads, progress: progress, control: control)
        case .bpr: return try BPRModel.fit(data, parameters: try BPRParameters(spec), progress: progress, control: control)
        case .ease: return try EASEModel.fit(data, regularization: Float(spec["regularization"]), threads: threads)
        case .gbdtRanker:
            throw StrataError.invalid("not_a_recommender", "\(spec.name) is a re-ranker: it trains on a training set (strata train --reranker)")
        }
    }

    /// Reads any model's artifact.
    public static func load(_ artifact: ModelArtifact) throws(StrataError) -> any Recommender {
        switch artifact.algorithm {
        case .popularity: try PopularityModel(artifact: artifact)
        case .itemKNN: try ItemKNNModel(artifact: artifact)
        case .als: try ALSModel(artifact: artifact)
        case .bpr: try BPRModel(artifact: artifact)
        case .ease: try EASEModel(artifact: artifact)
        case .gbdtRanker: throw StrataError.invalid("not_a_recommender", "the artifact holds a re-ranker, which re-orders another model's candidates")
        }
    }

    /// Reads a re-ranker's artifact (serving loads it; training compares against production's).
    public static func loadRanker(_ bytes: [UInt8]) throws -> GradientBoostedRanker {
        let artifact = try ModelArtifact(decoding: bytes)
        guard artifact.algorithm == .gbdtRanker, let features = artifact.idLists["features"], let booster = artifact.blobs["booster"] else {
            throw StrataError.invalid("invalid_artifact", "the artifact does not hold a re-ranker")
        }
        let spec = try ModelSpec(name: "ranker", algorithm: .gbdtRanker, parameters: artifact.parameters)
        return try GradientBoostedRanker.load(booster, features: features, parameters: RankerParameters(spec))
    }
}
