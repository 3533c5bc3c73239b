import StrataCore

extension ALSModel {
    /// Partitions of the target rows in scattering mode: fixed, so results never depend on the
    /// thread count. Few, because each partition rereads the fixed factors it needs (measured:
    /// 8 partitions is within 5% of the best on the synthetic 10M set, and leaves room for cores).
    static let scatterPartitions = 8

    /// Solves every row of `target` like `solve`, bit for bit, but reads the interactions from
    /// `matrix`, whose rows are the *fixed* side (columns index `target`). Each partition of
    /// target rows sweeps all fixed rows in order, so every target accumulates its terms in
    /// the same order as the row-by-row solver does.
    static func solveScattering(_ target: inout FactorMatrix, fixed: FactorMatrix, matrix: CSRMatrix, parameters: ALSParameters, threads: Int) {
        let gram = BLAS.gram(fixed, regularization: parameters.regularization)
        let f = parameters.factors
        let count = target.rows
        let alpha = parameters.alpha
        var residual = [Float](repeating: 0, count: count * f)
        var direction = [Float](repeating: 0, count: count * f)
        var product = [Float](repeating: 0, count: count * f)
        var residualNorm = [Float](repeating: 0, count: count)
        var active = [Bool](repeating: true, count: count)
        let partitionSize = max(blockSize, (count + scatterPartitions - 1) / scatterPartitions)
        target.storage.withUnsafeMutableBufferPointer { x in
            fixed.storage.withUnsafeBufferPointer { y in
                gram.withUnsafeBufferPointer { g in
                    residual.withUnsafeMutableBufferPointer { r in
                        direction.withUnsafeMutableBufferPointer { p in
                            product.withUnsafeMutableBufferPointer { ap in
                                residualNorm.withUnsafeMutableBufferPointer { norms in
                                    active.withUnsafeMutableBufferPointer { flags in
                                        let state = ScatterState(
                                            x: x.baseAddress!, y: y.baseAddress!, gram: g.baseAddress!, r: r.baseAddress!, p: p.baseAddress!,
                                            ap: ap.baseAddress!,
                                            norms: norms.baseAddress!, active: flags.baseAddress!)
                                        // r = −G x, by blocks of rows (as the row-by-row solver does).
                                        Parallel.forEachChunk(count, chunkSize: blockSize, threads: threads) { rows in
                                            BLAS.multiply(state.x + rows.lowerBound * f, state.gram, state.r + rows.lowerBound * f, m: rows.count, k: f, n: f)
                                            for index in (rows.lowerBound * f)..<(rows.upperBound * f) { state.r[index] = -state.r[index] }
                                        }
                                        // r += Σ (c·p − (c−1) y·x) y
                                        Parallel.forEachChunk(count, chunkSize: partitionSize, threads: threads) { targets in
                                            sweep(matrix, targets: targets) { fixedRow, targetRow, weight in
                                                let extra = alpha * abs(weight)
                                                let goal: Float = weight > 0 ? 1 + extra : 0
                                                let yu = state.y + fixedRow * f
                                                let coefficient = extra == 0 ? goal : goal - extra * VectorKernels.dot(yu, state.x + targetRow * f, f)
                                                if coefficient != 0 { VectorKernels.axpy(coefficient, yu, state.r + targetRow * f, f) }
                                            }
                                        }
                                        Parallel.forEachChunk(count, chunkSize: blockSize, threads: threads) { rows in
                                            for row in rows {
                                                let rr = state.r + row * f
                                                let norm = VectorKernels.dot(rr, rr, f)
                                                state.norms[row] = norm
                                                state.active[row] = norm >= 1e-20
                                                (state.p + row * f).update(from: rr, count: f)
                                            }
                                        }
                                        for _ in 0..<parameters.cgSteps {
                                            Parallel.forEachChunk(count, chunkSize: blockSize, threads: threads) { rows in
                                                BLAS.multiply(
                                                    state.p + rows.lowerBound * f, state.gram, state.ap + rows.lowerBound * f, m: rows.count, k: f, n: f)
                                            }
                                            if alpha != 0 {
                                                Parallel.forEachChunk(count, chunkSize: partitionSize, threads: threads) { targets in
                                                    sweep(matrix, targets: targets) { fixedRow, targetRow, weight in
                                                        let extra = alpha * abs(weight)
                                                        guard extra != 0, state.active[targetRow] else { return }
                                                        let yu = state.y + fixedRow * f
                                                        VectorKernels.axpy(
                                                            extra * VectorKernels.dot(yu, state.p + targetRow * f, f), yu, state.ap + targetRow * f, f)
                                                    }
                                                }
                                            }
                                            Parallel.forEachChunk(count, chunkSize: blockSize, threads: threads) { rows in
                                                for row in rows where state.active[row] {
                                                    conjugateGradientStep(
                                                        x: state.x + row * f, r: state.r + row * f, p: state.p + row * f, ap: state.ap + row * f,
                                                        norm: &state.norms[row],
                                                        active: &state.active[row], factors: f)
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Working arrays shared by the partitions; each partition touches only its own rows.
    struct ScatterState: @unchecked Sendable {
        let x: UnsafeMutablePointer<Float>
        let y: UnsafePointer<Float>
        let gram: UnsafePointer<Float>
        let r: UnsafeMutablePointer<Float>
        let p: UnsafeMutablePointer<Float>
        let ap: UnsafeMutablePointer<Float>
        let norms: UnsafeMutablePointer<Float>
        let active: UnsafeMutablePointer<Bool>
    }

    /// Calls `body(fixedRow, targetRow, weight)` for every interaction whose target lies in
    /// `targets`, in fixed-row order.
    @inline(__always)
    static func sweep(_ matrix: CSRMatrix, targets: Range<Int>, _ body: (Int, Int, Float) -> Void) {
        let low = Int32(targets.lowerBound)
        let high = Int32(targets.upperBound)
        matrix.indptr.withUnsafeBufferPointer { indptr in
            matrix.indices.withUnsafeBufferPointer { indices in
                matrix.values.withUnsafeBufferPointer { values in
                    for fixedRow in 0..<matrix.rows {
                        var start = indptr[fixedRow]
                        var end = indptr[fixedRow + 1]
                        guard start < end, indices[start] < high, indices[end - 1] >= low else { continue }
                        // First entry ≥ low.
                        var upper = end
                        while start < upper {
                            let middle = (start + upper) / 2
                            if indices[middle] < low { start = middle + 1 } else { upper = middle }
                        }
                        var position = start
                        while position < end {
                            let column = indices[position]
                            if column >= high {
                                end = position
                                break
                            }
                            body(fixedRow, Int(column), values[position])
                            position += 1
                        }
                    }
                }
            }
        }
    }

    /// One CG update of a row: x += a p, r −= a Ap, p = r + (|r'|²/|r|²) p.
    @inline(__always)
    static func conjugateGradientStep(
        x: UnsafeMutablePointer<Float>, r: UnsafeMutablePointer<Float>, p: UnsafeMutablePointer<Float>, ap: UnsafeMutablePointer<Float>, norm: inout Float,
        active: inout Bool, factors f: Int
    ) {
        let curvature = VectorKernels.dot(p, ap, f)
        guard curvature > 0 else {
            active = false
            return
        }
        let step = norm / curvature
        VectorKernels.axpy(step, p, x, f)
        VectorKernels.axpy(-step, ap, r, f)
        let newNorm = VectorKernels.dot(r, r, f)
        if newNorm < 1e-20 {
            active = false
            return
        }
        VectorKernels.xpby(r, newNorm / norm, p, f)
        norm = newNorm
    }
}
