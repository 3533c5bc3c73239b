/// A 128-bit non-cryptographic fingerprint (MurmurHash3 x64-128, seed 0) of a byte string.
///
/// Used where a set must remember many ids in little memory (event-id de-duplication): at 128
/// bits a collision among even 10^10 ids has a probability near 10^-18.
public struct Fingerprint128: Hashable, Sendable {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public init(_ text: String) {
        var copy = text
        self = copy.withUTF8 { Fingerprint128(UnsafeRawBufferPointer($0)) }
    }

    public init(_ data: UnsafeRawBufferPointer) {
        let c1: UInt64 = 0x87c3_7b91_1142_53d5
        let c2: UInt64 = 0x4cf5_ad43_2745_937f
        var h1: UInt64 = 0
        var h2: UInt64 = 0
        let blockCount = data.count / 16
        for block in 0..<blockCount {
            var k1 = data.loadUnaligned(fromByteOffset: block * 16, as: UInt64.self).littleEndian
            var k2 = data.loadUnaligned(fromByteOffset: block * 16 + 8, as: UInt64.self).littleEndian
            k1 &*= c1
            k1 = k1.rotatedLeft(31)
            k1 &*= c2
            h1 ^= k1
            h1 = h1.rotatedLeft(27)
            h1 &+= h2
            h1 = h1 &* 5 &+ 0x52dc_e729
            k2 &*= c2
            k2 = k2.rotatedLeft(33)
            k2 &*= c1
            h2 ^= k2
            h2 = h2.rotatedLeft(31)
            h2 &+= h1
            h2 = h2 &* 5 &+ 0x3849_5ab5
        }
        let tail = blockCount * 16
        let remaining = data.count - tail
        var k1: UInt64 = 0
        var k2: UInt64 = 0
        if remaining > 8 {
            for index in stride(from: remaining - 1, through: 8, by: -1) { k2 ^= UInt64(data[tail + index]) << (UInt64(index - 8) * 8) }
            k2 &*= c2
            k2 = k2.rotatedLeft(33)
            k2 &*= c1
            h2 ^= k2
        }
        if remaining > 0 {
            for index in stride(from: min(remaining, 8) - 1, through: 0, by: -1) { k1 ^= UInt64(data[tail + index]) << (UInt64(index) * 8) }
            k1 &*= c1
            k1 = k1.rotatedLeft(31)
            k1 &*= c2
            h1 ^= k1
        }
        h1 ^= UInt64(data.count)
        h2 ^= UInt64(data.count)
        h1 &+= h2
        h2 &+= h1
        h1 = Fingerprint128.mix(h1)
        h2 = Fingerprint128.mix(h2)
        h1 &+= h2
        h2 &+= h1
        high = h1
        low = h2
    }

    private static func mix(_ value: UInt64) -> UInt64 {
        var k = value
        k ^= k >> 33
        k &*= 0xff51_afd7_ed55_8ccd
        k ^= k >> 33
        k &*= 0xc4ce_b9fe_1a85_ec53
        k ^= k >> 33
        return k
    }
}

extension UInt64 {
    @inline(__always) func rotatedLeft(_ count: UInt64) -> UInt64 { (self << count) | (self >> (64 - count)) }
}
