import DequeModule
import StrataCore

/// Event ids seen within the de-duplication window, with the log offset each was stored at.
///
/// Not synchronised: the ingestor owns it under the same lock that assigns log offsets, so a
/// check and the append it guards are one atomic step.
struct DedupeIndex {
    private var offsets: [Fingerprint128: Int64] = [:]
    private var order: Deque<(fingerprint: Fingerprint128, ingestedAt: Int64)> = []
    let windowMillis: Int64

    init(windowMillis: Int64) {
        self.windowMillis = windowMillis
    }

    var count: Int { offsets.count }

    func offset(of fingerprint: Fingerprint128) -> Int64? { offsets[fingerprint] }

    mutating func insert(_ fingerprint: Fingerprint128, offset: Int64, ingestedAt: Int64) {
        if offsets.updateValue(offset, forKey: fingerprint) == nil {
            order.append((fingerprint, ingestedAt))
        }
    }

    /// Forgets an id whose write failed, so that its retry is stored.
    mutating func remove(_ fingerprint: Fingerprint128, ifAt offset: Int64) {
        if offsets[fingerprint] == offset { offsets.removeValue(forKey: fingerprint) }
    }

    /// Drops ids older than the window.
    mutating func evict(now: Int64) {
        while let first = order.first, now - first.ingestedAt > windowMillis {
            order.removeFirst()
            offsets.removeValue(forKey: first.fingerprint)
        }
    }
}
