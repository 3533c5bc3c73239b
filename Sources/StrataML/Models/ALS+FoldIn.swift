extension ALSModel {
    /// The least-squares user vector for a handful of interactions, given the item factors —
    /// what training would compute for a new user, exactly (a Cholesky solve of the f × f
    /// system): (YᵀY + λI + Σ (c−1) y yᵀ) x = Σ c·p·y.
    public func foldIn(items: [Int32], weights: [Float]) -> [Float] {
        let f = factors
        var system = itemGram
        var vector = [Float](repeating: 0, count: f)
        let alpha = hyperparameters.alpha
        itemFactors.storage.withUnsafeBufferPointer { itemBuffer in
            system.withUnsafeMutableBufferPointer { a in
                vector.withUnsafeMutableBufferPointer { b in
                    for (item, weight) in zip(items, weights) where Int(item) < itemFactors.rows {
                        let y = itemBuffer.baseAddress! + Int(item) * f
                        let extra = alpha * abs(weight)
                        if extra != 0 {
                            for row in 0..<f { VectorKernels.axpy(extra * y[row], y, a.baseAddress! + row * f, f) }
                        }
                        if weight > 0 { VectorKernels.axpy(1 + extra, y, b.baseAddress!, f) }
                    }
                    if !BLAS.solvePositiveDefinite(a.baseAddress!, b.baseAddress!, n: f) {
                        // Only with regularization 0 and degenerate factors; no signal then.
                        b.update(repeating: 0)
                    }
                }
            }
        }
        return vector
    }
}
