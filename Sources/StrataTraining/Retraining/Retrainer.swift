import Foundation
import Logging
import ServiceLifecycle
import StrataCore
import StrataLake
import StrataRegistry

/// Retraining: a fresh snapshot of the lake, then a run per model (each becomes a version that
/// must pass the gate and be approved like any other). Run by the schedule in strata.yaml, on
/// request (`POST /v1/training/retrain`) and by alerts whose action is `retrain`.
public struct Retrainer: Sendable {
    let lake: Lake
    let trainer: Trainer
    let audit: AuditLog
    /// `training.models`: what can be retrained.
    let models: [ModelSpec]
    let logger: Logger

    public init(lake: Lake, trainer: Trainer, audit: AuditLog, models: [ModelSpec], logger: Logger) {
        self.lake = lake
        self.trainer = trainer
        self.audit = audit
        self.models = models
        self.logger = logger
    }

    /// Returns the outcome per model (failures are reported, not thrown, so one bad model does
    /// not stop the others); `names` nil retrains every model.
    public func retrain(models names: [String]?, reason: String, experiment: String? = nil, by principal: Principal) async throws -> [JSONValue] {
        _ = try await lake.maintain(force: true)
        let snapshot = try await lake.compactor.snapshot()
        try await audit.append(principal: principal.label, action: "training.retrain", target: "data:\(snapshot.version)", detail: reason)
        var results: [JSONValue] = []
        for spec in models where names == nil || names!.contains(spec.name) {
            do {
                let outcome = try await trainer.train(TrainingRequest(spec: spec, snapshot: snapshot.version, experiment: experiment, principal: principal))
                results.append(["model": .string(spec.name), "run": outcome.run.json, "version": outcome.version?.json ?? .null])
                logger.info(
                    "retrained",
                    metadata: ["model": "\(spec.name)", "version": "\(outcome.version?.reference ?? "")", "gate": "\(outcome.version?.gate?.message ?? "")"])
            } catch {
                results.append(["model": .string(spec.name), "error": .string("\(error)")])
                logger.error("retraining failed", metadata: ["model": "\(spec.name)", "error": "\(error)"])
            }
        }
        return results
    }
}

/// Fires the retraining schedule (UTC cron) while the server runs.
public struct RetrainingScheduler: Service {
    let retrainer: Retrainer
    let schedule: CronSchedule
    let models: [String]?
    let clock: any WallClock

    public init(retrainer: Retrainer, schedule: CronSchedule, models: [String]?, clock: any WallClock) {
        self.retrainer = retrainer
        self.schedule = schedule
        self.models = models
        self.clock = clock
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let now = clock.nowMillis()
                guard let next = schedule.next(after: now) else { return }
                retrainer.logger.info("next scheduled retraining", metadata: ["at": "\(EventTime.format(millis: next))", "schedule": "\(schedule.text)"])
                try? await Task.sleep(for: .milliseconds(next - now))
                guard !Task.isCancelled else { return }
                _ = try? await retrainer.retrain(
                    models: models, reason: "schedule \(schedule.text)", by: Principal(id: "scheduler", name: "retraining schedule", roles: [.scientist]))
            }
        }
    }
}
