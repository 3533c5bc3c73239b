import Foundation
import StrataCore

/// A distribution summarised for drift checks: bin edges at the baseline's deciles and its
/// maximum, and the share of values in each bin. Bins include their upper edge; values above
/// the baseline's maximum fall in a bin of their own (so a shift beyond anything seen in
/// training shows even when the baseline was constant).
public struct BinnedDistribution: Sendable, Equatable {
    /// Interior edges, ascending (bins = edges.count + 1).
    public var edges: [Double]
    public var shares: [Double]
    public var count: Int

    /// Deciles and the maximum of `values` as edges (duplicates merged).
    public static func baseline(_ values: [Double], bins: Int = 10) -> BinnedDistribution {
        let sorted = values.filter(\.isFinite).sorted()
        var edges: [Double] = []
        if !sorted.isEmpty {
            for q in 1..<bins {
                let edge = sorted[min(sorted.count - 1, sorted.count * q / bins)]
                if edges.last != edge { edges.append(edge) }
            }
            if edges.last != sorted.last! { edges.append(sorted.last!) }
        }
        return binned(sorted, edges: edges)
    }

    /// `values` over the given edges.
    public static func binned(_ values: [Double], edges: [Double]) -> BinnedDistribution {
        var counts = [Int](repeating: 0, count: edges.count + 1)
        var total = 0
        for value in values where value.isFinite {
            // The number of edges below the value (a value equal to an edge stays in its bin).
            var low = 0
            var high = edges.count
            while low < high {
                let mid = (low + high) / 2
                if edges[mid] < value { low = mid + 1 } else { high = mid }
            }
            counts[low] += 1
            total += 1
        }
        return BinnedDistribution(edges: edges, shares: counts.map { total > 0 ? Double($0) / Double(total) : 0 }, count: total)
    }

    /// Population stability index of `live` against this baseline (same edges); shares are
    /// floored at 0.0001 so an empty bin does not make it infinite.
    public func psi(_ live: BinnedDistribution) -> Double {
        zip(shares, live.shares).reduce(0) { sum, pair in
            let expected = max(pair.0, 1e-4)
            let actual = max(pair.1, 1e-4)
            return sum + (actual - expected) * log(actual / expected)
        }
    }

    /// Kolmogorov–Smirnov distance over the binned CDFs (the largest gap between cumulative
    /// shares at the bin edges).
    public func ks(_ live: BinnedDistribution) -> Double {
        var a = 0.0
        var b = 0.0
        var gap = 0.0
        for (x, y) in zip(shares, live.shares) {
            a += x
            b += y
            gap = max(gap, abs(a - b))
        }
        return gap
    }

    public var json: JSONValue {
        ["edges": .array(edges.map(JSONValue.double)), "shares": .array(shares.map(JSONValue.double)), "count": .int(Int64(count))]
    }

    public init(edges: [Double], shares: [Double], count: Int) {
        self.edges = edges
        self.shares = shares
        self.count = count
    }

    public init?(json: JSONValue) {
        guard let edges = json["edges"]?.arrayValue?.compactMap(\.doubleValue), let shares = json["shares"]?.arrayValue?.compactMap(\.doubleValue),
            shares.count == edges.count + 1
        else { return nil }
        self.init(edges: edges, shares: shares, count: Int(json["count"]?.intValue ?? 0))
    }
}
