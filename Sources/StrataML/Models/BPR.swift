import Foundation
import StrataCore

/// Hyperparameters of BPR-MF.
public struct BPRParameters: Sendable, Equatable {
    public var factors: Int
    public var learningRate: Float
    public var regularization: Float
    public var iterations: Int
    public var seed: UInt64

    public init(factors: Int = 64, learningRate: Float = 0.01, regularization: Float = 0.01, iterations: Int = 100, seed: UInt64 = 42) {
        self.factors = factors
        self.learningRate = learningRate
        self.regularization = regularization
        self.iterations = iterations
        self.seed = seed
    }

    init(_ spec: ModelSpec) throws(StrataError) {
        self.init(
            factors: spec.int("factors"), learningRate: Float(spec["learning_rate"]), regularization: Float(spec["regularization"]),
            iterations: spec.int("iterations"), seed: UInt64(max(0, spec["seed"])))
        guard factors > 0, factors <= 1024 else { throw StrataError.invalid("invalid_parameter", "factors must be in 1...1024", field: "factors") }
        guard learningRate > 0, regularization >= 0, iterations >= 0 else {
            throw StrataError.invalid("invalid_parameter", "learning_rate > 0, regularization ≥ 0, iterations ≥ 0", field: "learning_rate")
        }
    }

    var dictionary: [String: Double] {
        [
            "factors": Double(factors), "learning_rate": Double(learningRate), "regularization": Double(regularization), "iterations": Double(iterations),
            "seed": Double(seed),
        ]
    }
}

/// Bayesian personalised ranking (Rendle et al. 2009) by stochastic gradient descent: each epoch
/// draws as many (user, positive item) pairs as there are positive interactions, each with a
/// negative drawn in proportion to item popularity, and pushes the positive's score above the
/// negative's. Items carry a learned bias (an extra factor whose user side starts at 1). Sequential by design: Hogwild-style parallel SGD would make the result depend on
/// thread timing, and Strata's models are bit-reproducible.
public struct BPRModel: FactorRecommender {
    public let algorithm = Algorithm.bpr
    public let hyperparameters: BPRParameters
    public let users: IDMap
    public let items: IDMap
    /// users × (factors + 1); the last column multiplies the item bias.
    public internal(set) var userFactors: FactorMatrix
    /// items × (factors + 1); the last column is the item bias.
    public internal(set) var itemFactors: FactorMatrix

    public var parameters: [String: Double] { hyperparameters.dictionary }

    public static func fit(
        _ data: InteractionData, parameters: BPRParameters, progress: (FitProgress) -> Void = { _ in }, control: FitControl = FitControl()
    ) throws -> BPRModel {
        let positives = data.positives
        let width = parameters.factors + 1
        var rng = SplitMix64(seed: parameters.seed)
        let scale = 1 / Float(parameters.factors)
        var users = FactorMatrix.random(rows: positives.rows, columns: width, low: -0.5 * scale, high: 0.5 * scale, rng: &rng)
        var items = FactorMatrix.random(rows: positives.columns, columns: width, low: -0.5 * scale, high: 0.5 * scale, rng: &rng)
        for user in 0..<positives.rows { users.storage[user * width + parameters.factors] = 1 }
        let samples = positives.nonZeros
        var rowOf = [Int32](repeating: 0, count: samples)
        for user in 0..<positives.rows {
            for position in positives.indptr[user]..<positives.indptr[user + 1] { rowOf[position] = Int32(user) }
        }
        let learningRate = parameters.learningRate
        let regularization = parameters.regularization
        guard samples > 0 else {
            return BPRModel(hyperparameters: parameters, users: data.users, items: data.items, userFactors: users, itemFactors: items)
        }
        var order = Array(0..<samples)
        var first = 0
        if let checkpoint = control.resume {
            guard checkpoint.algorithm == .bpr, let u = checkpoint.floats["users"], let i = checkpoint.floats["items"], let o = checkpoint.ints["order"],
                u.count == users.storage.count, i.count == items.storage.count, o.count == samples
            else { throw StrataError.invalid("invalid_checkpoint", "the checkpoint does not match this BPR fit (data or factors differ)") }
            users.storage = u
            items.storage = i
            order = o.map(Int.init)
            rng = SplitMix64(seed: checkpoint.rngState)
            first = checkpoint.iteration
        }
        var checkpointError: (any Error)?
        users.storage.withUnsafeMutableBufferPointer { userBuffer in
            items.storage.withUnsafeMutableBufferPointer { itemBuffer in
                for iteration in first..<parameters.iterations {
                    let start = MonotonicClock.nanoseconds()
                    // Every interaction once per epoch, in a fresh random order.
                    for position in stride(from: samples - 1, to: 0, by: -1) { order.swapAt(position, rng.nextInt(below: position + 1)) }
                    for sample in order {
                        // As in `implicit`, the negative is the item of another random interaction
                        // (so negatives follow popularity), and a negative the user has
                        // interacted with skips the sample.
                        let user = Int(rowOf[sample])
                        let liked = Int(positives.indices[sample])
                        let disliked = Int(positives.indices[rng.nextInt(below: samples)])
                        guard disliked != liked, !positives.contains(row: user, column: Int32(disliked)) else { continue }
                        let u = userBuffer.baseAddress! + user * width
                        let i = itemBuffer.baseAddress! + liked * width
                        let j = itemBuffer.baseAddress! + disliked * width
                        let difference = VectorKernels.dot(u, i, width) - VectorKernels.dot(u, j, width)
                        let z = 1 / (1 + exp(difference))
                        BPRModel.update(user: u, liked: i, disliked: j, width: width, z: z, learningRate: learningRate, regularization: regularization)
                    }
                    progress(
                        FitProgress(iteration: iteration + 1, iterations: parameters.iterations, seconds: Double(MonotonicClock.nanoseconds() - start) / 1e9))
                    if control.shouldSave(after: iteration + 1, of: parameters.iterations) {
                        let checkpoint = FitCheckpoint(
                            algorithm: .bpr, iteration: iteration + 1, rngState: rng.state,
                            floats: ["users": Array(userBuffer), "items": Array(itemBuffer)], ints: ["order": order.map { Int32($0) }])
                        do {
                            try control.save(checkpoint)
                        } catch {
                            checkpointError = error
                            return
                        }
                    }
                }
            }
        }
        if let checkpointError { throw checkpointError }
        return BPRModel(hyperparameters: parameters, users: data.users, items: data.items, userFactors: users, itemFactors: items)
    }

    /// One SGD step on (user, liked, disliked), every column updated (the user's bias column
    /// starts at 1 and learns too, as in `implicit`).
    @inline(__always)
    static func update(
        user u: UnsafeMutablePointer<Float>, liked i: UnsafeMutablePointer<Float>, disliked j: UnsafeMutablePointer<Float>, width: Int, z: Float,
        learningRate: Float, regularization: Float
    ) {
        let rate = SIMD16<Float>(repeating: learningRate)
        let decay = SIMD16<Float>(repeating: regularization)
        let gradient = SIMD16<Float>(repeating: z)
        var index = 0
        while index + 16 <= width {
            let ru = UnsafeMutableRawPointer(u + index)
            let ri = UnsafeMutableRawPointer(i + index)
            let rj = UnsafeMutableRawPointer(j + index)
            let userValue = ru.loadUnaligned(as: SIMD16<Float>.self)
            let likedValue = ri.loadUnaligned(as: SIMD16<Float>.self)
            let dislikedValue = rj.loadUnaligned(as: SIMD16<Float>.self)
            ru.storeBytes(of: userValue + rate * (gradient * (likedValue - dislikedValue) - decay * userValue), as: SIMD16<Float>.self)
            ri.storeBytes(of: likedValue + rate * (gradient * userValue - decay * likedValue), as: SIMD16<Float>.self)
            rj.storeBytes(of: dislikedValue + rate * (-gradient * userValue - decay * dislikedValue), as: SIMD16<Float>.self)
            index += 16
        }
        while index < width {
            let userValue = u[index]
            u[index] += learningRate * (z * (i[index] - j[index]) - regularization * userValue)
            i[index] += learningRate * (z * userValue - regularization * i[index])
            j[index] += learningRate * (-z * userValue - regularization * j[index])
            index += 1
        }
    }

    init(hyperparameters: BPRParameters, users: IDMap, items: IDMap, userFactors: FactorMatrix, itemFactors: FactorMatrix) {
        self.hyperparameters = hyperparameters
        self.users = users
        self.items = items
        self.userFactors = userFactors
        self.itemFactors = itemFactors
    }

    public var retrieval: RetrievalIndex? = nil
    public var itemVectors: FactorMatrix { itemFactors }
    /// The factors without the bias column.
    public var similarityColumns: Int { hyperparameters.factors }

    /// The trained user's vector (its last entry multiplies the item bias), or the mean of the
    /// liked items' factors with the bias kept at 1.
    public func userVector(_ query: UserQuery) -> [Float] {
        let width = hyperparameters.factors + 1
        var vector = [Float](repeating: 0, count: width)
        if let user = query.userIndex, user < userFactors.rows {
            vector = Array(userFactors.row(user))
        } else {
            // A user unseen in training: the mean of their liked items' factors (bias kept at 1).
            var count: Float = 0
            for (item, weight) in zip(query.items, query.weights) where weight > 0 && Int(item) < itemFactors.rows {
                for index in 0..<(width - 1) { vector[index] += itemFactors.storage[Int(item) * width + index] }
                count += 1
            }
            if count > 0 { for index in 0..<(width - 1) { vector[index] /= count } }
            vector[width - 1] = 1
        }
        return vector
    }

    public func score(_ query: UserQuery, into scores: UnsafeMutableBufferPointer<Float>) {
        let width = hyperparameters.factors + 1
        let vector = userVector(query)
        itemFactors.storage.withUnsafeBufferPointer { items in
            vector.withUnsafeBufferPointer {
                BLAS.multiply(items.baseAddress!, rows: itemFactors.rows, columns: width, vector: $0.baseAddress!, into: scores.baseAddress!)
            }
        }
    }

    public func similarItems(to item: Int32, n: Int) -> [(index: Int32, score: Float)] {
        if let retrieval { return retrieval.similar(to: Int(item), n: n).map { (Int32($0.index), $0.score) } }
        let f = hyperparameters.factors
        let width = f + 1
        var scores = [Float](repeating: 0, count: itemFactors.rows)
        itemFactors.storage.withUnsafeBufferPointer { factors in
            let target = factors.baseAddress! + Int(item) * width
            let targetNorm = VectorKernels.dot(target, target, f).squareRoot()
            for other in 0..<itemFactors.rows {
                let row = factors.baseAddress! + other * width
                let norm = VectorKernels.dot(row, row, f).squareRoot()
                scores[other] = norm == 0 || targetNorm == 0 ? 0 : VectorKernels.dot(row, target, f) / (norm * targetNorm)
            }
        }
        return scores.withUnsafeBufferPointer { TopK.select($0, n: n) { $0 == Int(item) } }.map { (Int32($0.index), $0.score) }
    }

    public func artifact() -> ModelArtifact {
        var artifact = ModelArtifact(
            algorithm: .bpr, parameters: parameters, metadata: ["users": userFactors.rows, "items": itemFactors.rows, "factors": hyperparameters.factors])
        artifact.floats = ["user_factors": userFactors.storage, "item_factors": itemFactors.storage]
        artifact.idLists = ["users": users.ids, "items": items.ids]
        retrieval?.write(into: &artifact)
        return artifact
    }

    public init(artifact: ModelArtifact) throws(StrataError) {
        try artifact.checkAlgorithm(.bpr)
        let f = try artifact.shape("factors")
        let userCount = try artifact.shape("users")
        let itemCount = try artifact.shape("items")
        self.init(
            hyperparameters: BPRParameters(
                factors: f, learningRate: Float(artifact.parameters["learning_rate"] ?? 0), regularization: Float(artifact.parameters["regularization"] ?? 0),
                iterations: Int(artifact.parameters["iterations"] ?? 0), seed: UInt64(artifact.parameters["seed"] ?? 0)),
            users: try artifact.ids("users"), items: try artifact.ids("items"),
            userFactors: FactorMatrix(rows: userCount, columns: f + 1, storage: try artifact.floats("user_factors", count: userCount * (f + 1))),
            itemFactors: FactorMatrix(rows: itemCount, columns: f + 1, storage: try artifact.floats("item_factors", count: itemCount * (f + 1))))
        retrieval = try RetrievalIndex.read(from: artifact, vectors: itemFactors, similarityColumns: f)
    }
}
