import Crypto

/// Sticky assignment of users to variants: a user's bucket is a hash of the experiment's salt
/// and their id (SHA-256, so it is the same in every process, replica and restart), and the
/// variants own consecutive ranges of buckets in proportion to their weights.
public enum VariantAssignment {
    /// Buckets per deployment: weights resolve to 0.01 %.
    public static let buckets: UInt64 = 10_000

    /// The user's bucket in 0..<buckets.
    public static func bucket(user: String, salt: String) -> Int {
        var hasher = SHA256()
        hasher.update(data: Array(salt.utf8))
        hasher.update(data: [0])
        hasher.update(data: Array(user.utf8))
        let digest = hasher.finalize()
        var value: UInt64 = 0
        for byte in digest.prefix(8) { value = value << 8 | UInt64(byte) }
        return Int(value % buckets)
    }

    /// The index of the variant that owns `bucket`, given weights (any positive scale).
    public static func variant(bucket: Int, weights: [Double]) -> Int {
        let total = weights.reduce(0, +)
        guard total > 0 else { return 0 }
        let point = (Double(bucket) + 0.5) / Double(buckets) * total
        var upper = 0.0
        for (index, weight) in weights.enumerated() {
            upper += weight
            if point < upper { return index }
        }
        return weights.count - 1
    }
}
