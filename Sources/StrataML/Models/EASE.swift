import StrataCore

/// EASE (Steck 2019): a dense item × item model with a closed form. With G = XᵀX + λI and
/// P = G⁻¹, B = −P / diag(P) column-wise with a zero diagonal; a user's scores are their
/// history times B. Memory is items² floats, so catalogs are limited to `maxItems`.
public struct EASEModel: Recommender {
    public static let maxItems = 20_000

    public let algorithm = Algorithm.ease
    public let regularization: Float
    public let users: IDMap
    public let items: IDMap
    /// items × items, row-major.
    public let weights: [Float]

    public var parameters: [String: Double] { ["regularization": Double(regularization)] }

    public static func fit(_ data: InteractionData, regularization: Float, threads: Int) throws(StrataError) -> EASEModel {
        let n = data.items.count
        guard n <= maxItems else {
            throw StrataError.invalid(
                "catalog_too_large", "EASE keeps an items × items matrix; \(n) items exceed its limit of \(maxItems) (use ALS or item-kNN)")
        }
        guard regularization > 0 else { throw StrataError.invalid("invalid_parameter", "EASE needs regularization > 0", field: "regularization") }
        let userItems = data.positives
        let itemUsers = userItems.transposed()
        var gram = [Float](repeating: 0, count: n * n)
        gram.withUnsafeMutableBufferPointer { buffer in
            let shared = SharedRows(base: buffer.baseAddress!)
            // Row a of G = Σ over a's users of w_ua · (that user's row): rows are independent.
            Parallel.forEachChunk(n, chunkSize: 64, threads: threads) { rows in
                for a in rows {
                    let row = shared.base + a * n
                    let (owners, ownerWeights) = itemUsers.row(a)
                    for (user, weight) in zip(owners, ownerWeights) {
                        let (others, otherWeights) = userItems.row(Int(user))
                        for (b, otherWeight) in zip(others, otherWeights) { row[Int(b)] += weight * otherWeight }
                    }
                    row[a] += regularization
                }
            }
        }
        guard BLAS.invertPositiveDefinite(&gram, n: n) else {
            throw StrataError.internal("EASE: the Gram matrix is not positive definite")
        }
        // B[i][j] = −P[i][j] / P[j][j], B[j][j] = 0.
        var diagonal = [Float](repeating: 0, count: n)
        for j in 0..<n { diagonal[j] = gram[j * n + j] }
        for i in 0..<n {
            for j in 0..<n { gram[i * n + j] = i == j ? 0 : -gram[i * n + j] / diagonal[j] }
        }
        return EASEModel(regularization: regularization, users: data.users, items: data.items, weights: gram)
    }

    struct SharedRows: @unchecked Sendable {
        let base: UnsafeMutablePointer<Float>
    }

    init(regularization: Float, users: IDMap, items: IDMap, weights: [Float]) {
        self.regularization = regularization
        self.users = users
        self.items = items
        self.weights = weights
    }

    public func score(_ query: UserQuery, into scores: UnsafeMutableBufferPointer<Float>) {
        let n = items.count
        scores.update(repeating: 0)
        weights.withUnsafeBufferPointer { b in
            for (item, weight) in zip(query.items, query.weights) where weight > 0 && Int(item) < n {
                VectorKernels.axpy(weight, b.baseAddress! + Int(item) * n, scores.baseAddress!, n)
            }
        }
    }

    public func similarItems(to item: Int32, n: Int) -> [(index: Int32, score: Float)] {
        let count = items.count
        return weights.withUnsafeBufferPointer { b in
            TopK.select(UnsafeBufferPointer(rebasing: b[(Int(item) * count)..<((Int(item) + 1) * count)]), n: n) { $0 == Int(item) }
        }.map { (Int32($0.index), $0.score) }
    }

    public func artifact() -> ModelArtifact {
        var artifact = ModelArtifact(algorithm: .ease, parameters: parameters, metadata: ["items": items.count])
        artifact.floats = ["weights": weights]
        artifact.idLists = ["users": users.ids, "items": items.ids]
        return artifact
    }

    public init(artifact: ModelArtifact) throws(StrataError) {
        try artifact.checkAlgorithm(.ease)
        let n = try artifact.shape("items")
        self.init(
            regularization: Float(artifact.parameters["regularization"] ?? 0), users: try artifact.ids("users"), items: try artifact.ids("items"),
            weights: try artifact.floats("weights", count: n * n))
    }
}
