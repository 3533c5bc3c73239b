import StrataCore

/// Where a run's wall time went: each stage's seconds, in order, reported to an observer as it
/// ends (the command line prints them as they come) and recorded in the run's metrics as
/// `seconds_<stage>` (with `seconds_total`), so that a run that spends its time on anything but
/// fitting shows it.
struct StageTimings {
    private(set) var stages: [(name: String, seconds: Double)] = []
    let runID: String
    let observer: TrainingObserver?
    let started = MonotonicClock.nanoseconds()

    init(runID: String, observer: TrainingObserver?) {
        self.runID = runID
        self.observer = observer
    }

    /// Runs `body` as stage `name`.
    mutating func measure<T>(_ name: String, _ body: () async throws -> T) async throws -> T {
        let start = MonotonicClock.nanoseconds()
        let value = try await body()
        let seconds = Double(MonotonicClock.nanoseconds() - start) / 1e9
        stages.append((name, seconds))
        observer?(runID, name, seconds)
        return value
    }

    var metrics: [String: Double] {
        var metrics = Dictionary(uniqueKeysWithValues: stages.map { ("seconds_\($0.name)", $0.seconds) })
        metrics["seconds_total"] = Double(MonotonicClock.nanoseconds() - started) / 1e9
        return metrics
    }
}

/// Told when each stage of a run ends: the run, the stage (`read`, `fit`, `index`, `evaluate`,
/// `baseline`, `artifact`, `gate`) and its seconds.
public typealias TrainingObserver = @Sendable (_ run: String, _ stage: String, _ seconds: Double) -> Void
