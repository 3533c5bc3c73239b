import Dispatch
import Foundation

/// Work split across threads so that the result never depends on how many there are: the
/// range is cut into fixed chunks (independent of the thread count) and each chunk's output
/// depends only on its inputs; threads merely pick which chunks they run.
public enum Parallel {
    /// Runs `body` on each chunk of `0..<count` (chunks of `chunkSize`), on `threads` threads.
    public static func forEachChunk(_ count: Int, chunkSize: Int, threads: Int, _ body: @Sendable (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = (count + chunkSize - 1) / chunkSize
        let workers = max(1, min(threads, chunks))
        if workers == 1 {
            for chunk in 0..<chunks { body((chunk * chunkSize)..<min(count, (chunk + 1) * chunkSize)) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var chunk = worker
            while chunk < chunks {
                body((chunk * chunkSize)..<min(count, (chunk + 1) * chunkSize))
                chunk += workers
            }
        }
    }

    /// `transform` of each of `0..<count`, in order, on `threads` threads; the first error thrown
    /// is rethrown once all have finished.
    public static func map<T: Sendable>(_ count: Int, threads: Int, _ transform: @Sendable (Int) throws -> T) throws -> [T] {
        let results = ChunkResults<Result<T, any Error>>(count: count)
        forEachChunk(count, chunkSize: 1, threads: threads) { range in
            for index in range { results.set(index, Result { try transform(index) }) }
        }
        return try results.values.map { try $0!.get() }
    }

    /// The number of cores, the default thread count.
    public static var coreCount: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
}

#if canImport(Glibc)
    import Glibc
#endif

/// One slot per chunk, written by whichever thread ran the chunk and read after all finish.
public final class ChunkResults<Value>: @unchecked Sendable {
    public private(set) var values: [Value?]
    private let lock = NSLock()

    public init(count: Int) {
        values = Array(repeating: nil, count: count)
    }

    public func set(_ index: Int, _ value: Value) {
        lock.lock()
        values[index] = value
        lock.unlock()
    }
}
