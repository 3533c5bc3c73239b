import Foundation

/// Runs blocking work (a fit, a batch job, a compaction, a snapshot) on a thread of its own.
/// Swift's cooperative pool has one thread per core, and request handlers run on it: a long
/// synchronous job there holds every request up (seen as 2 s stalls in a 10-minute soak when a
/// 10-minute log segment was compacted on the pool).
public enum OwnThread {
    public static func run<T>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<UncheckedBox<T>, any Error>) in
            let thread = Thread {
                do {
                    continuation.resume(returning: UncheckedBox(value: try work()))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }.value
    }
}

/// Moves a non-Sendable result from the worker thread back to the caller (who alone uses it).
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
}
