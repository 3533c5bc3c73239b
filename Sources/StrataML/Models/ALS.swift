import StrataCore

/// Hyperparameters of implicit ALS.
public struct ALSParameters: Sendable, Equatable {
    public var factors: Int
    public var regularization: Float
    /// Confidence of an observed cell with accumulated weight r is 1 + alpha·|r|.
    public var alpha: Float
    public var iterations: Int
    /// Conjugate-gradient steps per user (or item) per iteration.
    public var cgSteps: Int
    public var seed: UInt64

    public init(factors: Int = 64, regularization: Float = 0.05, alpha: Float = 1, iterations: Int = 15, cgSteps: Int = 3, seed: UInt64 = 42) {
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.cgSteps = cgSteps
        self.seed = seed
    }

    init(_ spec: ModelSpec) throws(StrataError) {
        self.init(
            factors: spec.int("factors"), regularization: Float(spec["regularization"]), alpha: Float(spec["alpha"]), iterations: spec.int("iterations"),
            cgSteps: spec.int("cg_steps"), seed: UInt64(max(0, spec["seed"])))
        guard factors > 0, factors <= 1024 else { throw StrataError.invalid("invalid_parameter", "factors must be in 1...1024", field: "factors") }
        guard iterations >= 0, cgSteps > 0 else { throw StrataError.invalid("invalid_parameter", "iterations ≥ 0 and cg_steps ≥ 1", field: "iterations") }
        guard regularization >= 0, alpha >= 0 else { throw StrataError.invalid("invalid_parameter", "regularization and alpha must be ≥ 0", field: "alpha") }
    }

    var dictionary: [String: Double] {
        [
            "factors": Double(factors), "regularization": Double(regularization), "alpha": Double(alpha), "iterations": Double(iterations),
            "cg_steps": Double(cgSteps), "seed": Double(seed),
        ]
    }
}

/// Implicit-feedback ALS (Hu, Koren, Volinsky 2008) with the conjugate-gradient solver of
/// Takács et al. (2011): preference 1 for positive cells with confidence 1 + alpha·r, preference
/// 0 elsewhere (explicitly for negative cells, with their own confidence). Each half-iteration
/// solves blocks of users (or items) in lockstep: the dense part of every CG step is one matrix
/// product for the block through BLAS, the sparse part SIMD loops over the block's interactions.
public struct ALSModel: FactorRecommender {
    public let algorithm = Algorithm.als
    public let hyperparameters: ALSParameters
    public let users: IDMap
    public let items: IDMap
    public internal(set) var userFactors: FactorMatrix
    public internal(set) var itemFactors: FactorMatrix
    /// YᵀY + λI of the final item factors: the start of every fold-in.
    public internal(set) var itemGram: [Float]
    public var retrieval: RetrievalIndex? = nil

    public var itemVectors: FactorMatrix { itemFactors }
    public var similarityColumns: Int { factors }

    /// The trained user's vector, or one folded in from the query's items.
    public func userVector(_ query: UserQuery) -> [Float] {
        if let user = query.userIndex, user < userFactors.rows { return Array(userFactors.row(user)) }
        return foldIn(items: query.items, weights: query.weights)
    }

    public var parameters: [String: Double] { hyperparameters.dictionary }
    public var factors: Int { hyperparameters.factors }

    /// Rows solved together; fixed, so the result does not depend on the thread count.
    static let blockSize = 256

    public static func fit(
        _ data: InteractionData, parameters: ALSParameters, threads: Int, progress: (FitProgress) -> Void = { _ in }, control: FitControl = FitControl()
    ) throws -> ALSModel {
        BLAS.configure()
        // One orientation of the matrix is enough: rows of the larger side. That side is
        // solved row by row (its fixed factors, the smaller matrix, stay in cache); the smaller
        // side is solved by sweeping the same rows and scattering into its accumulators, so
        // the large factor matrix is read sequentially instead of gathered at random.
        let usersAreLarger = data.matrix.rows >= data.matrix.columns
        let byLargerSide = usersAreLarger ? data.matrix : data.matrix.transposed()
        var rng = SplitMix64(seed: parameters.seed)
        let userCount = data.matrix.rows
        let itemCount = data.matrix.columns
        // Small positive uniform values, as `implicit` starts (its results are the reference).
        var users = FactorMatrix.random(rows: userCount, columns: parameters.factors, low: 0, high: 0.01, rng: &rng)
        var items = FactorMatrix.random(rows: itemCount, columns: parameters.factors, low: 0, high: 0.01, rng: &rng)
        var first = 0
        if let checkpoint = control.resume {
            guard checkpoint.algorithm == .als, let u = checkpoint.floats["users"], let i = checkpoint.floats["items"], u.count == users.storage.count,
                i.count == items.storage.count
            else { throw StrataError.invalid("invalid_checkpoint", "the checkpoint does not match this ALS fit (data or factors differ)") }
            users.storage = u
            items.storage = i
            first = checkpoint.iteration
        }
        for iteration in first..<parameters.iterations {
            let start = MonotonicClock.nanoseconds()
            if usersAreLarger {
                solve(&users, fixed: items, matrix: byLargerSide, parameters: parameters, threads: threads)
                solveScattering(&items, fixed: users, matrix: byLargerSide, parameters: parameters, threads: threads)
            } else {
                solveScattering(&users, fixed: items, matrix: byLargerSide, parameters: parameters, threads: threads)
                solve(&items, fixed: users, matrix: byLargerSide, parameters: parameters, threads: threads)
            }
            progress(FitProgress(iteration: iteration + 1, iterations: parameters.iterations, seconds: Double(MonotonicClock.nanoseconds() - start) / 1e9))
            if control.shouldSave(after: iteration + 1, of: parameters.iterations) {
                try control.save(
                    FitCheckpoint(algorithm: .als, iteration: iteration + 1, rngState: rng.state, floats: ["users": users.storage, "items": items.storage]))
            }
        }
        return ALSModel(
            hyperparameters: parameters, users: data.users, items: data.items, userFactors: users, itemFactors: items,
            itemGram: BLAS.gram(items, regularization: parameters.regularization))
    }

    init(hyperparameters: ALSParameters, users: IDMap, items: IDMap, userFactors: FactorMatrix, itemFactors: FactorMatrix, itemGram: [Float]) {
        self.hyperparameters = hyperparameters
        self.users = users
        self.items = items
        self.userFactors = userFactors
        self.itemFactors = itemFactors
        self.itemGram = itemGram
    }

    /// Recomputes every row of `target` given the `fixed` factors and the rows of `matrix`.
    static func solve(_ target: inout FactorMatrix, fixed: FactorMatrix, matrix: CSRMatrix, parameters: ALSParameters, threads: Int) {
        let gram = BLAS.gram(fixed, regularization: parameters.regularization)
        let f = parameters.factors
        target.storage.withUnsafeMutableBufferPointer { targetBuffer in
            fixed.storage.withUnsafeBufferPointer { fixedBuffer in
                gram.withUnsafeBufferPointer { gramBuffer in
                    let shared = SharedPointers(target: targetBuffer.baseAddress!, fixed: fixedBuffer.baseAddress!, gram: gramBuffer.baseAddress!)
                    Parallel.forEachChunk(matrix.rows, chunkSize: blockSize, threads: threads) { rows in
                        solveBlock(rows, shared: shared, matrix: matrix, factors: f, alpha: parameters.alpha, cgSteps: parameters.cgSteps)
                    }
                }
            }
        }
    }

    /// Pointers handed to worker threads; each block writes only its own rows of `target`.
    struct SharedPointers: @unchecked Sendable {
        let target: UnsafeMutablePointer<Float>
        let fixed: UnsafePointer<Float>
        let gram: UnsafePointer<Float>
    }

    /// Conjugate-gradient steps for the rows of one block, warm-started from their current values.
    static func solveBlock(_ rows: Range<Int>, shared: SharedPointers, matrix: CSRMatrix, factors f: Int, alpha: Float, cgSteps: Int) {
        let count = rows.count
        let x = shared.target + rows.lowerBound * f
        let y = shared.fixed
        let residual = UnsafeMutablePointer<Float>.allocate(capacity: count * f)
        let direction = UnsafeMutablePointer<Float>.allocate(capacity: count * f)
        let product = UnsafeMutablePointer<Float>.allocate(capacity: count * f)
        defer {
            residual.deallocate()
            direction.deallocate()
            product.deallocate()
        }
        var residualNorm = [Float](repeating: 0, count: count)
        var active = [Bool](repeating: true, count: count)
        matrix.indptr.withUnsafeBufferPointer { indptr in
            matrix.indices.withUnsafeBufferPointer { indices in
                matrix.values.withUnsafeBufferPointer { values in
                    // r = b − A x, with A = YᵀY + λI + Σ (c−1) y yᵀ and b = Σ c·p·y.
                    BLAS.multiply(x, shared.gram, residual, m: count, k: f, n: f)
                    for local in 0..<count {
                        let r = residual + local * f
                        let xu = x + local * f
                        for index in 0..<f { r[index] = -r[index] }
                        for position in indptr[rows.lowerBound + local]..<indptr[rows.lowerBound + local + 1] {
                            let yi = y + Int(indices[position]) * f
                            let weight = values[position]
                            let extra = alpha * abs(weight)
                            let target = weight > 0 ? 1 + extra : 0
                            let coefficient = extra == 0 ? target : target - extra * VectorKernels.dot(yi, xu, f)
                            if coefficient != 0 { VectorKernels.axpy(coefficient, yi, r, f) }
                        }
                        let norm = VectorKernels.dot(r, r, f)
                        residualNorm[local] = norm
                        active[local] = norm >= 1e-20
                        (direction + local * f).update(from: r, count: f)
                    }
                    for _ in 0..<cgSteps {
                        BLAS.multiply(direction, shared.gram, product, m: count, k: f, n: f)
                        for local in 0..<count where active[local] {
                            let p = direction + local * f
                            let ap = product + local * f
                            if alpha != 0 {
                                for position in indptr[rows.lowerBound + local]..<indptr[rows.lowerBound + local + 1] {
                                    let extra = alpha * abs(values[position])
                                    guard extra != 0 else { continue }
                                    let yi = y + Int(indices[position]) * f
                                    VectorKernels.axpy(extra * VectorKernels.dot(yi, p, f), yi, ap, f)
                                }
                            }
                            conjugateGradientStep(
                                x: x + local * f, r: residual + local * f, p: p, ap: ap, norm: &residualNorm[local], active: &active[local], factors: f)
                        }
                    }
                }
            }
        }
    }

    // MARK: - Scoring

    public func score(_ query: UserQuery, into scores: UnsafeMutableBufferPointer<Float>) {
        if let user = query.userIndex, user < userFactors.rows {
            userFactors.storage.withUnsafeBufferPointer { factors in
                scoreItems(with: factors.baseAddress! + user * self.factors, into: scores)
            }
        } else {
            let vector = foldIn(items: query.items, weights: query.weights)
            vector.withUnsafeBufferPointer { scoreItems(with: $0.baseAddress!, into: scores) }
        }
    }

    /// The top `n` items for a user vector already folded in (serving computes the vector once).
    public func recommend(_ query: UserQuery, n: Int, precomputedVector vector: [Float], excluding excluded: Set<Int32> = []) -> [(index: Int32, score: Float)]
    {
        var scores = [Float](repeating: 0, count: items.count)
        return scores.withUnsafeMutableBufferPointer { buffer in
            vector.withUnsafeBufferPointer { scoreItems(with: $0.baseAddress!, into: buffer) }
            for item in query.items where Int(item) < buffer.count { buffer[Int(item)] = -.infinity }
            for item in excluded where Int(item) < buffer.count { buffer[Int(item)] = -.infinity }
            return TopK.select(UnsafeBufferPointer(buffer), n: n).map { (Int32($0.index), $0.score) }
        }
    }

    /// scores = Y · u
    func scoreItems(with vector: UnsafePointer<Float>, into scores: UnsafeMutableBufferPointer<Float>) {
        itemFactors.storage.withUnsafeBufferPointer { items in
            BLAS.multiply(items.baseAddress!, rows: itemFactors.rows, columns: factors, vector: vector, into: scores.baseAddress!)
        }
    }

    public func similarItems(to item: Int32, n: Int) -> [(index: Int32, score: Float)] {
        if let retrieval { return retrieval.similar(to: Int(item), n: n).map { (Int32($0.index), $0.score) } }
        // Cosine similarity of item factors.
        let f = factors
        var scores = [Float](repeating: 0, count: itemFactors.rows)
        itemFactors.storage.withUnsafeBufferPointer { factors in
            let base = factors.baseAddress!
            let target = base + Int(item) * f
            let targetNorm = VectorKernels.dot(target, target, f).squareRoot()
            for other in 0..<itemFactors.rows {
                let row = base + other * f
                let norm = VectorKernels.dot(row, row, f).squareRoot()
                scores[other] = norm == 0 || targetNorm == 0 ? 0 : VectorKernels.dot(row, target, f) / (norm * targetNorm)
            }
        }
        return scores.withUnsafeBufferPointer { TopK.select($0, n: n) { $0 == Int(item) } }.map { (Int32($0.index), $0.score) }
    }

    // MARK: - Artifact

    public func artifact() -> ModelArtifact {
        var artifact = ModelArtifact(
            algorithm: .als, parameters: parameters, metadata: ["users": userFactors.rows, "items": itemFactors.rows, "factors": factors])
        artifact.floats = ["user_factors": userFactors.storage, "item_factors": itemFactors.storage, "item_gram": itemGram]
        artifact.idLists = ["users": users.ids, "items": items.ids]
        retrieval?.write(into: &artifact)
        return artifact
    }

    public init(artifact: ModelArtifact) throws(StrataError) {
        try artifact.checkAlgorithm(.als)
        let parameters = ALSParameters(
            factors: try artifact.shape("factors"), regularization: Float(artifact.parameters["regularization"] ?? 0),
            alpha: Float(artifact.parameters["alpha"] ?? 0),
            iterations: Int(artifact.parameters["iterations"] ?? 0), cgSteps: Int(artifact.parameters["cg_steps"] ?? 3),
            seed: UInt64(artifact.parameters["seed"] ?? 0))
        let userCount = try artifact.shape("users")
        let itemCount = try artifact.shape("items")
        let f = parameters.factors
        self.init(
            hyperparameters: parameters, users: try artifact.ids("users"), items: try artifact.ids("items"),
            userFactors: FactorMatrix(rows: userCount, columns: f, storage: try artifact.floats("user_factors", count: userCount * f)),
            itemFactors: FactorMatrix(rows: itemCount, columns: f, storage: try artifact.floats("item_factors", count: itemCount * f)),
            itemGram: try artifact.floats("item_gram", count: f * f))
        retrieval = try RetrievalIndex.read(from: artifact, vectors: itemFactors, similarityColumns: f)
    }
}
