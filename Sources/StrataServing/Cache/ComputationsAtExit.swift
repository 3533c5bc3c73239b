import Foundation
import Synchronization

/// The batch computations running now, stopped and waited for when the process exits: a
/// scoring thread still running then calls into libraries already torn down (seen: OpenBLAS
/// crashing at exit under a test run that ended while a precompute went on). Graceful
/// shutdown stops them first (`DeploymentController.stopBatchJobs`); this covers every other
/// exit.
enum ComputationsAtExit {
    private static let running = Mutex<(next: Int, flags: [Int: StopFlag])>((0, [:]))
    private static let registered: Bool = {
        atexit { ComputationsAtExit.stopAll() }
        return true
    }()

    /// Runs `body`, a computation that stops soon after `flag` is set, counted as running.
    static func run<T>(_ flag: StopFlag, _ body: () -> T) -> T {
        _ = registered
        let token = running.withLock { state in
            state.next += 1
            state.flags[state.next] = flag
            return state.next
        }
        defer { running.withLock { _ = $0.flags.removeValue(forKey: token) } }
        return body()
    }

    /// Stops every running computation and waits (at most 10 s) for them to end.
    static func stopAll() {
        for flag in running.withLock({ Array($0.flags.values) }) { flag.set() }
        let deadline = ContinuousClock.now + .seconds(10)
        while !running.withLock({ $0.flags.isEmpty }) && ContinuousClock.now < deadline { usleep(1000) }
    }
}
