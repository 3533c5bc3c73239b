import Foundation
import StrataCore
import Synchronization

/// A token bucket per API key: `rate` requests a second on average, `burst` at once. A key over
/// its budget is told when its next request will be admitted.
final class RateLimiter: Sendable {
    let rate: Double
    let burst: Double
    private let buckets = Mutex<[String: (tokens: Double, at: UInt64)]>([:])

    init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = max(1, burst)
    }

    /// Takes one token for `key` at `now` (monotonic nanoseconds): nil when admitted, else the
    /// wait until a token is there.
    func take(_ key: String, now: UInt64 = MonotonicClock.nanoseconds()) -> Double? {
        guard rate > 0 else { return nil }
        return buckets.withLock { buckets in
            var bucket = buckets[key] ?? (burst, now)
            bucket.tokens = min(burst, bucket.tokens + Double(now > bucket.at ? now - bucket.at : 0) / 1e9 * rate)
            bucket.at = max(bucket.at, now)
            defer {
                buckets[key] = bucket
                // Idle keys' full buckets need no memory: drop them now and then.
                if buckets.count > 10_000 { buckets = buckets.filter { $0.value.tokens < burst } }
            }
            guard bucket.tokens >= 1 else { return (1 - bucket.tokens) / rate }
            bucket.tokens -= 1
            return nil
        }
    }
}
