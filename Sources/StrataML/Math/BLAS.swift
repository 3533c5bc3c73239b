import CBLAS
import CLAPACKE
import Synchronization

/// Dense linear algebra through OpenBLAS and LAPACKE. OpenBLAS runs single-threaded: Strata
/// parallelises over users and items itself, so results never depend on the thread count.
public enum BLAS {
    private static let configured = Mutex(false)

    /// Pins OpenBLAS to one thread (idempotent).
    public static func configure() {
        configured.withLock { done in
            guard !done else { return }
            openblas_set_num_threads(1)
            done = true
        }
    }

    /// C = AᵀA + λI for a rows × n matrix A (the Gram matrix of factor rows), n × n row-major.
    public static func gram(_ a: FactorMatrix, regularization: Float) -> [Float] {
        configure()
        let n = a.columns
        var c = [Float](repeating: 0, count: n * n)
        if a.rows > 0 {
            a.storage.withUnsafeBufferPointer { a in
                c.withUnsafeMutableBufferPointer { c in
                    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(n), Int32(a.count / n), 1, a.baseAddress, Int32(n), 0, c.baseAddress, Int32(n))
                }
            }
        }
        for row in 0..<n {
            for column in 0..<row { c[row * n + column] = c[column * n + row] }
            c[row * n + row] += regularization
        }
        return c
    }

    /// C (m × n) = A (m × k) · B (k × n), all row-major.
    public static func multiply(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, m: Int, k: Int, n: Int) {
        configure()
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b, Int32(n), 0, c, Int32(n))
    }

    /// y = A x for a rows × columns row-major A.
    public static func multiply(_ a: UnsafePointer<Float>, rows: Int, columns: Int, vector x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        configure()
        cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(rows), Int32(columns), 1, a, Int32(columns), x, 1, 0, y, 1)
    }

    /// Solves A x = b in place for a symmetric positive-definite n × n A (overwritten by its
    /// Cholesky factor); returns false when A is not positive definite.
    public static func solvePositiveDefinite(_ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>, n: Int) -> Bool {
        configure()
        let uplo = Int8(UInt8(ascii: "U"))
        guard LAPACKE_spotrf(LAPACK_ROW_MAJOR, uplo, Int32(n), a, Int32(n)) == 0 else { return false }
        return LAPACKE_spotrs(LAPACK_ROW_MAJOR, uplo, Int32(n), 1, a, Int32(n), b, 1) == 0
    }

    /// Inverts a symmetric positive-definite n × n matrix in place (full matrix filled);
    /// returns false when it is not positive definite.
    public static func invertPositiveDefinite(_ a: inout [Float], n: Int) -> Bool {
        configure()
        let uplo = Int8(UInt8(ascii: "U"))
        let ok = a.withUnsafeMutableBufferPointer { a -> Bool in
            LAPACKE_spotrf(LAPACK_ROW_MAJOR, uplo, Int32(n), a.baseAddress, Int32(n)) == 0
                && LAPACKE_spotri(LAPACK_ROW_MAJOR, uplo, Int32(n), a.baseAddress, Int32(n)) == 0
        }
        guard ok else { return false }
        for row in 0..<n {
            for column in 0..<row { a[row * n + column] = a[column * n + row] }
        }
        return true
    }
}
