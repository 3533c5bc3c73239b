/// The inner loops of the factor models: dot products and scaled additions over rows of
/// `count` floats, in SIMD chunks of 16 with four independent accumulators (the compiler does
/// not vectorise the plain loop), plus a scalar tail. Fixed summation order: the same inputs
/// give the same bits on every run and thread count.
public enum VectorKernels {
    @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        var acc0 = SIMD16<Float>()
        var acc1 = SIMD16<Float>()
        var acc2 = SIMD16<Float>()
        var acc3 = SIMD16<Float>()
        var index = 0
        let rawA = UnsafeRawPointer(a)
        let rawB = UnsafeRawPointer(b)
        while index + 64 <= count {
            acc0 +=
                rawA.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self) * rawB.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self)
            acc1 +=
                rawA.loadUnaligned(fromByteOffset: (index + 16) * 4, as: SIMD16<Float>.self)
                * rawB.loadUnaligned(fromByteOffset: (index + 16) * 4, as: SIMD16<Float>.self)
            acc2 +=
                rawA.loadUnaligned(fromByteOffset: (index + 32) * 4, as: SIMD16<Float>.self)
                * rawB.loadUnaligned(fromByteOffset: (index + 32) * 4, as: SIMD16<Float>.self)
            acc3 +=
                rawA.loadUnaligned(fromByteOffset: (index + 48) * 4, as: SIMD16<Float>.self)
                * rawB.loadUnaligned(fromByteOffset: (index + 48) * 4, as: SIMD16<Float>.self)
            index += 64
        }
        while index + 16 <= count {
            acc0 +=
                rawA.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self) * rawB.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self)
            index += 16
        }
        var sum = horizontalSum((acc0 + acc1) + (acc2 + acc3))
        while index < count {
            sum += a[index] * b[index]
            index += 1
        }
        return sum
    }

    /// The sum of the lanes, by halving (the generic `sum()` is not inlined and costs more than
    /// the dot product it ends).
    @inline(__always)
    static func horizontalSum(_ v: SIMD16<Float>) -> Float {
        let eight = v.lowHalf + v.highHalf
        let four = eight.lowHalf + eight.highHalf
        let two = four.lowHalf + four.highHalf
        return two[0] + two[1]
    }

    /// y += alpha · x
    @inline(__always)
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        let scale = SIMD16<Float>(repeating: alpha)
        let rawX = UnsafeRawPointer(x)
        let rawY = UnsafeMutableRawPointer(y)
        var index = 0
        while index + 16 <= count {
            let updated =
                rawY.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self) + scale
                * rawX.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self)
            rawY.storeBytes(of: updated, toByteOffset: index * 4, as: SIMD16<Float>.self)
            index += 16
        }
        while index < count {
            y[index] += alpha * x[index]
            index += 1
        }
    }

    /// y = x + beta · y
    @inline(__always)
    public static func xpby(_ x: UnsafePointer<Float>, _ beta: Float, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        let scale = SIMD16<Float>(repeating: beta)
        let rawX = UnsafeRawPointer(x)
        let rawY = UnsafeMutableRawPointer(y)
        var index = 0
        while index + 16 <= count {
            let updated =
                rawX.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self) + scale
                * rawY.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self)
            rawY.storeBytes(of: updated, toByteOffset: index * 4, as: SIMD16<Float>.self)
            index += 16
        }
        while index < count {
            y[index] = x[index] + beta * y[index]
            index += 1
        }
    }
}
