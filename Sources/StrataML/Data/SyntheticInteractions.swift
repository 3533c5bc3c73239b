/// The anchor's portable synthetic dataset (`../shared/anchors/synthetic_als_bench.py`, whose
/// header is the specification): users mixing three of 64 taste clusters over Zipf–Mandelbrot
/// item popularity, every random number a pure function of (seed, purpose, index) through
/// SplitMix64, so this produces exactly the pairs the Python generator does (compare the
/// checksum it prints).
public enum SyntheticInteractions {
    public struct Result: Sendable {
        public var matrix: CSRMatrix
        /// Σ splitmix64(u · I + item) mod 2^64, as the Python script prints it.
        public var checksum: UInt64
    }

    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public static func generate(users: Int, items: Int, target: Int, clusters: Int = 64, seed: UInt64 = 42) -> Result {
        let bases = (0...7).map { purpose in mix(seed &* 256 &+ UInt64(purpose)) }
        @inline(__always) func u01(_ purpose: Int, _ index: UInt64) -> Double {
            Double(mix(bases[purpose] &+ index) >> 11) * 0x1.0p-53
        }
        var a = 2_654_435_761 % items
        while a <= 1 || gcd(a, items) != 1 { a += 1 }
        let itemOfRank = (0..<items).map { (($0 * a) + 17) % items }
        var clusterRanks = [[Int]](repeating: [], count: clusters)
        for rank in 0..<items { clusterRanks[Int(u01(1, UInt64(rank)) * Double(clusters))].append(rank) }
        func cumulative(_ ranks: [Int]) -> [Double] {
            var sum = 0.0
            return ranks.map { rank in
                sum += 1 / (Double(rank) + 10)
                return sum
            }
        }
        let clusterCumulative = clusterRanks.map(cumulative)
        let allRanks = Array(0..<items)
        let globalCumulative = cumulative(allRanks)
        let mean = (Double(target) / Double(users) + 0.5) * 0.9 / 2.302585092994046
        var indptr = [0]
        var indices: [Int32] = []
        indices.reserveCapacity(target + target / 10)
        var seen = Set<Int32>()
        var checksum: UInt64 = 0
        for user in 0..<users {
            let u = UInt64(user)
            let count = max(1, min(Int(mean / (0.1 + 0.9 * u01(2, u))), max(1, items / 4)))
            let tasteClusters = (0..<3).map { Int(u01(3, 3 * u + UInt64($0)) * Double(clusters)) }
            let tasteWeights = (0..<3).map { 0.05 + u01(4, 3 * u + UInt64($0)) }
            let firstTwo = tasteWeights[0] + tasteWeights[1]
            let total = firstTwo + tasteWeights[2]
            seen.removeAll(keepingCapacity: true)
            var row: [Int32] = []
            var draw: UInt64 = 0
            while row.count < count && draw < (1 << 20) {
                let key = (u << 20) + draw
                draw += 1
                var ranks = allRanks
                var cum = globalCumulative
                if u01(5, key) >= 0.1 {
                    let y = u01(6, key) * total
                    let cluster = tasteClusters[y < tasteWeights[0] ? 0 : (y < firstTwo ? 1 : 2)]
                    if !clusterRanks[cluster].isEmpty {
                        ranks = clusterRanks[cluster]
                        cum = clusterCumulative[cluster]
                    }
                }
                let threshold = u01(7, key) * cum[cum.count - 1]
                // First position with cum[position] > threshold.
                var low = 0
                var high = cum.count
                while low < high {
                    let mid = (low + high) / 2
                    if cum[mid] > threshold { high = mid } else { low = mid + 1 }
                }
                let item = Int32(itemOfRank[ranks[min(low, ranks.count - 1)]])
                if seen.insert(item).inserted { row.append(item) }
            }
            row.sort()
            for item in row { checksum &+= mix(u &* UInt64(items) &+ UInt64(item)) }
            indices += row
            indptr.append(indices.count)
        }
        return Result(
            matrix: CSRMatrix(rows: users, columns: items, indptr: indptr, indices: indices, values: [Float](repeating: 1, count: indices.count)),
            checksum: checksum)
    }

    static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
}
