/// An exactly rounded running sum of doubles (Shewchuk's partials, as Python's `math.fsum`):
/// the result is the correctly rounded value of the true sum whatever order the terms came in,
/// and a term can be removed by adding its negation. This is what lets the streaming engine
/// (events in arrival order) and the batch engine (events in time order) agree to the bit.
public struct ExactSum: Sendable, Equatable {
    /// Non-overlapping partial sums, increasing magnitude.
    public private(set) var partials: [Double] = []

    public init() {}

    init(partials: [Double]) {
        self.partials = partials
    }

    public mutating func add(_ value: Double) {
        var x = value
        var kept = 0
        for index in partials.indices {
            var y = partials[index]
            if abs(x) < abs(y) { swap(&x, &y) }
            let high = x + y
            let low = y - (high - x)
            if low != 0 {
                partials[kept] = low
                kept += 1
            }
            x = high
        }
        partials.removeSubrange(kept...)
        partials.append(x)
    }

    /// The correctly rounded sum.
    public var value: Double {
        guard var index = partials.indices.last else { return 0 }
        var high = partials[index]
        var low = 0.0
        while index > 0 {
            index -= 1
            let x = high
            let y = partials[index]
            high = x + y
            let yr = high - x
            low = y - yr
            if low != 0 { break }
        }
        // Round half-even across the remaining partials, as fsum does.
        if index > 0 && ((low < 0 && partials[index - 1] < 0) || (low > 0 && partials[index - 1] > 0)) {
            let y = low * 2
            let x = high + y
            if y == x - high { high = x }
        }
        return high
    }
}
