import Foundation
import StrataCore
import Synchronization

/// Latencies in buckets a quarter of a power of two wide (about 19% apart), from 1 µs to
/// beyond 1 s: percentiles within a bucket's width, at constant cost per request.
public struct LatencyHistogram: Sendable, Equatable {
    static let bucketCount = 100
    public private(set) var counts = [Int](repeating: 0, count: bucketCount)
    public private(set) var total = 0

    public init() {}

    static func bucket(micros: Double) -> Int {
        guard micros > 1 else { return 0 }
        return min(bucketCount - 1, Int((log2(micros) * 4).rounded(.up)))
    }

    public mutating func record(nanoseconds: UInt64) {
        counts[Self.bucket(micros: Double(nanoseconds) / 1000)] += 1
        total += 1
    }

    /// The upper bound of the bucket holding quantile `q`, in milliseconds (0 when empty).
    public func quantileMillis(_ q: Double) -> Double {
        guard total > 0 else { return 0 }
        let rank = Int((Double(total) * q).rounded(.up))
        var seen = 0
        for (index, count) in counts.enumerated() {
            seen += count
            if seen >= max(1, rank) { return pow(2, Double(index) / 4) / 1000 }
        }
        return pow(2, Double(Self.bucketCount - 1) / 4) / 1000
    }

    public func since(_ earlier: LatencyHistogram) -> LatencyHistogram {
        var window = self
        for index in counts.indices { window.counts[index] -= earlier.counts[index] }
        window.total -= earlier.total
        return window
    }
}

/// Why a user's precomputed list did not answer (the live model or trending did instead).
public enum CacheMissReason: String, Sendable, CaseIterable {
    /// The model was not trained on this user (a new user): it has no list for them.
    case untrainedUser = "untrained_user"
    /// The served version has no table yet (a new version or a restart, before the batch job).
    case notPrecomputed = "not_precomputed"
    /// The table has no list for this trained user (forgotten, or the store lost it).
    case missing
    /// The user interacted after the list was computed.
    case stale
    /// The list is older than `serving.cache_ttl`.
    case expired
    /// Exclusions and business filters left fewer items of the list than the page needs.
    case exhausted
    /// Serving could not apply every acknowledged event before answering (the log could not be
    /// read): the list might predate one of the user's events, so it was not trusted.
    case behindLog = "behind_log"
}

/// How one variant of a deployment has been serving: requests, failures (answered by the
/// control instead), where answers came from, and latency.
public struct VariantServingStats: Sendable, Equatable {
    public var requests = 0
    public var errors = 0
    public var cache = 0
    public var live = 0
    public var trending = 0
    /// Requests whose precomputed list did not answer, by why.
    public var misses: [CacheMissReason: Int] = [:]
    public var latency = LatencyHistogram()
    public var lastError: String?

    public init() {}

    public func since(_ earlier: VariantServingStats) -> VariantServingStats {
        var window = self
        window.requests -= earlier.requests
        window.errors -= earlier.errors
        window.cache -= earlier.cache
        window.live -= earlier.live
        window.trending -= earlier.trending
        for (reason, count) in earlier.misses { window.misses[reason, default: 0] -= count }
        window.latency = latency.since(earlier.latency)
        return window
    }

    public var errorRate: Double { requests > 0 ? Double(errors) / Double(requests) : 0 }

    public var json: JSONValue {
        [
            "requests": .int(Int64(requests)), "errors": .int(Int64(errors)), "error_rate": .double(errorRate),
            "sources": ["cache": .int(Int64(cache)), "live": .int(Int64(live)), "trending": .int(Int64(trending))],
            "cache_misses": .object(Dictionary(uniqueKeysWithValues: misses.map { ($0.key.rawValue, JSONValue.int(Int64($0.value))) })),
            "latency_ms": ["p50": .double(latency.quantileMillis(0.5)), "p99": .double(latency.quantileMillis(0.99))],
            "last_error": lastError.map(JSONValue.string) ?? .null,
        ]
    }
}

/// Shadow scoring of a candidate on live requests: how often it ran, failed, and how much its
/// list overlapped the one shown.
public struct ShadowStats: Sendable, Equatable {
    public var reference: String = ""
    public var requests = 0
    public var errors = 0
    public var overlapSum = 0.0
    public var latency = LatencyHistogram()

    public var json: JSONValue {
        [
            "model": .string(reference), "requests": .int(Int64(requests)), "errors": .int(Int64(errors)),
            "mean_overlap": .double(requests - errors > 0 ? overlapSum / Double(requests - errors) : 0),
            "latency_ms": ["p50": .double(latency.quantileMillis(0.5)), "p99": .double(latency.quantileMillis(0.99))],
        ]
    }
}

/// Serving statistics per deployment and variant, cumulative since start (windows are
/// differences of two readings).
public final class ServingMetrics: Sendable {
    private let variants = Mutex<[String: VariantServingStats]>([:])
    private let shadows = Mutex<[String: ShadowStats]>([:])
    /// The best score of recent answers per deployment and variant, with when (drift of the
    /// model's output).
    private let scores = Mutex<[String: [(score: Double, at: Int64)]]>([:])
    static let scoresKept = 5000

    public init() {}

    func record(
        deployment: String, variant: String, source: RecommendationSource?, nanoseconds: UInt64, error: String? = nil, miss: CacheMissReason? = nil
    ) {
        variants.withLock { all in
            let key = "\(deployment):\(variant)"
            var stats = all[key] ?? VariantServingStats()
            stats.requests += 1
            if let error {
                stats.errors += 1
                stats.lastError = error
            }
            switch source {
            case .cache: stats.cache += 1
            case .live: stats.live += 1
            case .trending: stats.trending += 1
            case nil: break
            }
            if let miss { stats.misses[miss, default: 0] += 1 }
            stats.latency.record(nanoseconds: nanoseconds)
            all[key] = stats
        }
    }

    func recordShadow(deployment: String, reference: String, overlap: Double?, nanoseconds: UInt64) {
        shadows.withLock { all in
            var stats = all[deployment] ?? ShadowStats()
            if stats.reference != reference { stats = ShadowStats(reference: reference) }
            stats.requests += 1
            if let overlap { stats.overlapSum += overlap } else { stats.errors += 1 }
            stats.latency.record(nanoseconds: nanoseconds)
            all[deployment] = stats
        }
    }

    func recordScore(deployment: String, variant: String, score: Float, at: Int64) {
        scores.withLock { all in
            let key = "\(deployment):\(variant)"
            var list = all[key] ?? []
            list.append((Double(score), at))
            if list.count > Self.scoresKept + 500 { list.removeFirst(list.count - Self.scoresKept) }
            all[key] = list
        }
    }

    /// Best scores of answers since `since`.
    public func scores(deployment: String, variant: String, since: Int64) -> [Double] {
        scores.withLock { $0["\(deployment):\(variant)"] ?? [] }.filter { $0.at >= since }.map(\.score)
    }

    public func variant(deployment: String, variant: String) -> VariantServingStats {
        variants.withLock { $0["\(deployment):\(variant)"] ?? VariantServingStats() }
    }

    public func shadow(deployment: String) -> ShadowStats? { shadows.withLock { $0[deployment] } }
}
