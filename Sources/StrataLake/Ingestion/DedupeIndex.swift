import StrataCore

/// Event ids seen within the de-duplication window, with the log offset each was stored at.
///
/// Kept in generations by ingestion time, each a quarter of the window long: eviction drops a
/// whole generation once all of it is older than the window, so an id is remembered for at
/// least the window and at most a quarter longer (a retry that late is still acknowledged, not
/// stored twice). Without a per-id eviction queue an id costs one dictionary entry: ~45 bytes
/// where the queue's copy of it made ~90 (`strata bench memory`). A lookup probes every live
/// generation, newest first: at most five.
///
/// Not synchronised: the ingestor owns it under the same lock that assigns log offsets, so a
/// check and the append it guards are one atomic step.
struct DedupeIndex {
    private struct Generation {
        /// `ingestedAt / generationMillis` of its ids.
        let number: Int64
        var offsets: [Fingerprint128: Int64] = [:]
    }

    /// Oldest first.
    private var generations: [Generation] = []
    let windowMillis: Int64
    private let generationMillis: Int64

    init(windowMillis: Int64) {
        self.windowMillis = windowMillis
        self.generationMillis = max(1, windowMillis / 4)
    }

    var count: Int { generations.reduce(0) { $0 + $1.offsets.count } }

    func offset(of fingerprint: Fingerprint128) -> Int64? {
        for generation in generations.reversed() {
            if let offset = generation.offsets[fingerprint] { return offset }
        }
        return nil
    }

    /// Remembers an id the caller found absent (`offset(of:)` is nil).
    mutating func insert(_ fingerprint: Fingerprint128, offset: Int64, ingestedAt: Int64) {
        let number = ingestedAt.dividedRoundingDown(by: generationMillis)
        // Ingestion times only move forward, but a clock stepped back must not reorder generations.
        if let last = generations.indices.last, generations[last].number >= number {
            generations[last].offsets[fingerprint] = offset
        } else {
            generations.append(Generation(number: number))
            generations[generations.count - 1].offsets[fingerprint] = offset
        }
    }

    /// Forgets an id whose write failed, so that its retry is stored.
    mutating func remove(_ fingerprint: Fingerprint128, ifAt offset: Int64) {
        for index in generations.indices.reversed() where generations[index].offsets[fingerprint] == offset {
            generations[index].offsets.removeValue(forKey: fingerprint)
            return
        }
    }

    /// Drops the generations wholly older than the window.
    mutating func evict(now: Int64) {
        while let first = generations.first, now - ((first.number + 1) * generationMillis - 1) > windowMillis {
            generations.removeFirst()
        }
    }
}

extension Int64 {
    /// Floor division (toward negative infinity), for bucketing times before 1970 too.
    fileprivate func dividedRoundingDown(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
