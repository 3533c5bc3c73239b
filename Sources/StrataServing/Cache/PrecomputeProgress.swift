import StrataCore
import Synchronization

/// How the batch job is going for one model version: for its log lines and `/metrics`.
public struct PrecomputeProgress: Sendable, Equatable {
    public var model: String
    public var running: Bool
    /// Trained users active within the window (the table's size once the run ends).
    public var activeUsers: Int
    /// Lists kept: still fresh from an earlier run, or checkpointed by an interrupted one.
    public var reused: Int
    /// Lists this run computes (stale or missing), and how many it has.
    public var toCompute: Int
    public var computed: Int
    public var seconds: Double

    public var usersPerSecond: Double { seconds > 0 ? Double(computed) / seconds : 0 }
}

/// The progress of every model version's latest run, shared by the threads of a run.
final class PrecomputeBoard: Sendable {
    private struct Entry {
        var progress: PrecomputeProgress
        var started: UInt64
        var lastReport: UInt64
    }
    private let entries = Mutex<[String: Entry]>([:])
    /// How often a long run reports its progress in the log.
    static let reportEveryNanoseconds: UInt64 = 5_000_000_000

    func start(_ model: String, active: Int, reused: Int, toCompute: Int) {
        let now = MonotonicClock.nanoseconds()
        let progress = PrecomputeProgress(model: model, running: true, activeUsers: active, reused: reused, toCompute: toCompute, computed: 0, seconds: 0)
        entries.withLock { $0[model] = Entry(progress: progress, started: now, lastReport: now) }
    }

    /// Counts finished lists; returns the progress when a report is due.
    func advance(_ model: String, by count: Int) -> PrecomputeProgress? {
        let now = MonotonicClock.nanoseconds()
        return entries.withLock { entries -> PrecomputeProgress? in
            guard var entry = entries[model] else { return nil }
            entry.progress.computed += count
            entry.progress.seconds = Double(now - entry.started) / 1e9
            let due = now - entry.lastReport >= Self.reportEveryNanoseconds
            if due { entry.lastReport = now }
            entries[model] = entry
            return due ? entry.progress : nil
        }
    }

    func finish(_ model: String) -> PrecomputeProgress? {
        let now = MonotonicClock.nanoseconds()
        return entries.withLock { entries -> PrecomputeProgress? in
            guard var entry = entries[model] else { return nil }
            entry.progress.running = false
            entry.progress.seconds = Double(now - entry.started) / 1e9
            entries[model] = entry
            return entry.progress
        }
    }

    var all: [PrecomputeProgress] { entries.withLock { $0.values.map(\.progress) }.sorted { $0.model < $1.model } }

    func retain(_ models: Set<String>) { entries.withLock { $0 = $0.filter { models.contains($0.key) } } }
}
