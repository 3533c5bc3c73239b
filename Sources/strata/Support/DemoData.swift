import Foundation
import Logging
import ServiceLifecycle
import StrataCore
import StrataLake
import StrataML
import StrataRegistry
import StrataServer
import StrataTraining

/// The demo's generated history: the catalog and about two weeks of behaviour up to now, the
/// last hour of it at the pace of the live demo traffic, loaded through the ingestion path,
/// compacted into the lake and snapshotted.
enum DemoData {
    static func loadHistoryIfEmpty(
        lake: Lake, contract: Contract, config: GeneratorConfig, sessionsPerSecond: Double, slatesPerSecond: Double, logger: Logger
    ) async throws {
        guard lake.log.endOffset == 0 else {
            logger.info("the data directory already holds events; not generating history", metadata: ["events": "\(lake.log.endOffset)"])
            return
        }
        var generator = SyntheticGenerator(contract: contract, config: config)
        let catalog = generator.catalog()
        for chunk in stride(from: 0, to: catalog.items.count, by: 1000) {
            _ = try await lake.ingestor.upsertCatalog(.item, Array(catalog.items[chunk..<min(chunk + 1000, catalog.items.count)]), source: "demo")
        }
        for chunk in stride(from: 0, to: catalog.users.count, by: 1000) {
            _ = try await lake.ingestor.upsertCatalog(.user, Array(catalog.users[chunk..<min(chunk + 1000, catalog.users.count)]), source: "demo")
        }
        let history =
            generator.history()
            + generator.recentTraffic(
                from: config.endMillis - 3_600_000, to: config.endMillis, sessionsPerSecond: sessionsPerSecond, slatesPerSecond: slatesPerSecond)
        var accepted = 0
        for chunk in stride(from: 0, to: history.count, by: 5000) {
            let result = try await lake.ingestor.ingest(events: Array(history[chunk..<min(chunk + 5000, history.count)]), source: "demo", allowLate: true)
            accepted += result.accepted
        }
        try lake.catalog.catchUp()
        _ = try await lake.maintain(force: true)
        let snapshot = try await lake.compactor.snapshot()
        logger.info(
            "generated demo history",
            metadata: ["items": "\(catalog.items.count)", "users": "\(catalog.users.count)", "events": "\(accepted)", "data_version": "\(snapshot.version)"])
    }
}

/// Generated live sessions, sent through the same parsing and validation path as HTTP
/// requests (with one event in a hundred deliberately broken, to show the dead-letter store).
struct LiveEventStream: Service {
    let lake: Lake
    let contract: Contract
    let config: GeneratorConfig
    let eventsPerSecond: Double
    let shift: DemoShift
    let logger: Logger

    /// Events in an average generated session (for pacing the generated history like this stream).
    static let eventsPerSession = 8.0

    func run() async throws {
        await cancelWhenGracefulShutdown {
            // A fresh seed per run, so that live event ids never repeat earlier runs'.
            var live = config
            live.seed = config.seed &+ UInt64(SystemClock().nowMillis())
            var generator = SyntheticGenerator(contract: contract, config: live)
            var batchNumber: UInt64 = 0
            var shifted = false
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: .milliseconds(250))
                } catch {
                    return
                }
                if !shifted, shift.isDue(lake.clock.nowMillis()) {
                    generator.shiftTastes(fraction: shift.fraction)
                    shifted = true
                    logger.info(
                        "demo: planted a shift in tastes",
                        metadata: ["users": "\(Int(shift.fraction * 100))%", "change": "three other favourite categories, four times the browsing"])
                }
                var events: [IncomingEvent] = []
                let target = max(1, Int(eventsPerSecond / 4))
                while events.count < target { events += generator.liveSession(now: lake.clock.nowMillis()) }
                for index in events.indices { events[index].eventID = "live-\(live.seed)-\(batchNumber)-\(index)" }
                batchNumber += 1
                let lines = InvalidEvents.ndjson(events, invalidFraction: 0.01, seed: live.seed &+ batchNumber).lines
                do {
                    _ = try await lake.ingestor.ingest(body: Array(lines.joined(separator: "\n").utf8), format: .ndjson, source: "demo-live")
                } catch {
                    logger.warning("live demo events were not stored", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}

/// Trains the models of strata.yaml on the latest snapshot once the server is up and publishes
/// their offline evaluation (`GET /v1/evaluation`, and the dashboard's models panel).
struct DemoEvaluation: Service {
    let lake: Lake
    /// strata.yaml: the models and the re-ranker to train.
    let strata: StrataConfig
    let board: EvaluationBoard
    let trainer: Trainer
    let logger: Logger

    func run() async throws {
        do {
            guard let manifest = try? lake.snapshots.manifest("latest") else { return }
            // Every model of strata.yaml as a recorded run (once: a restart shows the runs it has).
            var specs = strata.training.models
            if !specs.contains(where: { $0.algorithm == .popularity }) { specs.insert(try ModelSpec(name: "popularity", algorithm: .popularity), at: 0) }
            let principal = Principal(id: "demo", name: "strata up --demo", roles: [.scientist])
            var rows: [JSONValue] = []
            var split: (users: Int, items: Int, train: Double, test: Double) = (0, 0, 0, 0)
            for spec in specs {
                try Task.checkCancellation()
                let run: RunRecord
                if let existing = try await trainer.runs.list(model: spec.name, limit: 1).first(where: {
                    $0.status == .finished && $0.dataVersion == manifest.version
                }) {
                    run = existing
                } else {
                    run = try await trainer.train(TrainingRequest(spec: spec, snapshot: manifest.version, principal: principal)).run
                }
                var row = run.metrics.mapValues(JSONValue.double)
                row["model"] = .string(spec.name)
                row["algorithm"] = .string(spec.algorithm.rawValue)
                row["fit_seconds"] = .double(Double((run.finishedAt ?? run.startedAt) - run.startedAt) / 1000)
                row["run"] = .string(run.id)
                rows.append(.object(row))
                split = (
                    Int(run.metrics["users"] ?? 0), Int(run.metrics["items"] ?? 0), run.metrics["train_interactions"] ?? 0,
                    run.metrics["test_interactions"] ?? 0
                )
            }
            if let reranker = strata.reranker,
                try await trainer.runs.list(model: reranker.name, limit: 1).first(where: { $0.status == .finished && $0.dataVersion == manifest.version })
                    == nil
            {
                do {
                    _ = try await trainer.trainReranker(reranker, snapshot: manifest.version, principal: principal)
                } catch {
                    logger.warning("the demo re-ranker was not trained", metadata: ["error": "\(error)"])
                }
            }
            board.publish([
                "data_version": .string(manifest.version), "users": .int(Int64(split.users)), "items": .int(Int64(split.items)),
                "train_interactions": .double(split.train), "test_interactions": .double(split.test), "models": .array(rows),
            ])
            logger.info(
                "trained and evaluated the demo models on the latest snapshot", metadata: ["models": "\(rows.count)", "data_version": "\(manifest.version)"])
        } catch is CancellationError {
            return
        } catch {
            logger.warning("the demo training failed", metadata: ["error": "\(error)"])
        }
        // Stay alive (a service that returns would stop the server).
        try? await gracefulShutdown()
    }
}
