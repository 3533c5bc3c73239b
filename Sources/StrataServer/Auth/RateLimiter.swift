import Foundation
import StrataCore
import Synchronization

/// A token bucket per API key: `rate` requests a second on average, `burst` at once. A key over
/// its budget is told when its next request will be admitted.
///
/// Kept as the generic cell rate algorithm (GCRA, the ATM Forum's formulation of a token bucket):
/// one integer per key, the theoretical arrival time of its next request, in nanoseconds, so the
/// arithmetic is exact. Time comes from the injected clock (the project's, so a test can stop
/// it): a bucket refills by what that clock says has passed, never by how long the machine took
/// between requests. A clock that steps backwards refills nothing until it is past the step.
final class RateLimiter: Sendable {
    let rate: Double
    let burst: Double
    let clock: any WallClock
    /// Nanoseconds between tokens, and how far ahead of now a key may run (the burst less one).
    private let interval: Int64
    private let tolerance: Int64
    private let arrivals = Mutex<[String: Int64]>([:])

    init(rate: Double, burst: Double, clock: any WallClock) {
        self.rate = rate
        self.burst = max(1, burst)
        self.clock = clock
        interval = rate > 0 ? Int64((1e9 / rate).rounded()) : 0
        tolerance = Int64(((self.burst - 1) * 1e9 / max(rate, 1e-9)).rounded())
    }

    /// Takes one token for `key`: nil when admitted, else the seconds until a token is there.
    func take(_ key: String) -> Double? {
        guard rate > 0 else { return nil }
        let now = clock.nowMillis() &* 1_000_000
        return arrivals.withLock { arrivals in
            let arrival = max(arrivals[key] ?? now, now)
            let ahead = arrival - now
            guard ahead <= tolerance else { return Double(ahead - tolerance) / 1e9 }
            arrivals[key] = arrival + interval
            // Keys whose bucket is full again need no memory: drop them now and then.
            if arrivals.count > 10_000 { arrivals = arrivals.filter { $0.value > now } }
            return nil
        }
    }
}

/// Remembers when a key's refusals were last written to the audit log, so a throttled key adds
/// one entry per `interval` of the injected clock, not one per refused request.
final class ThrottleLog: Sendable {
    static let interval: Int64 = 10_000
    let clock: any WallClock
    private let last = Mutex<[String: Int64]>([:])

    init(clock: any WallClock) {
        self.clock = clock
    }

    func shouldRecord(_ key: String) -> Bool {
        let now = clock.nowMillis()
        return last.withLock { last in
            if let previous = last[key], now - previous < Self.interval, now >= previous { return false }
            last[key] = now
            return true
        }
    }
}
