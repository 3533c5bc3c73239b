import Foundation
import StrataCore
import StrataFeatures
import StrataLake
import StrataMetadata
import StrataRegistry
import StrataTesting
import StrataTraining
import Testing

@testable import StrataMonitoring

/// The alert service over a real lake and audit log: what it measures, what it audits, and
/// retraining at most once per cooldown.
@Suite(.serialized) struct AlertServiceTests {
    static let start: Int64 = 1_790_000_000_000

    /// A lake on a manual clock, an audit log over SQLite, and a retrainer that retrains no
    /// model (a snapshot and an audit entry: what an alert's retrain starts).
    struct Setup {
        let directory: TemporaryDirectory
        let clock: ManualClock
        let lake: Lake
        let store: MetadataStore
        let audit: AuditLog
        let retrainer: Retrainer

        init() async throws {
            directory = TemporaryDirectory("strata-alerts")
            clock = ManualClock(AlertServiceTests.start)
            let config = Fixtures.config
            lake = try Fixtures.lake(directory, config: config, clock: clock)
            store = try await MetadataStore.open(url: "sqlite:", defaultSQLitePath: directory.file("metadata.sqlite"), logger: quietLogger)
            audit = AuditLog(store: store, clock: clock)
            let trainer = Trainer(
                runs: RunStore(store: store), blobs: FileBlobStore(root: directory.file("blobs")), registry: ModelRegistry(store: store, audit: audit),
                audit: audit, directory: DataDirectory(root: directory.path, project: config.project), config: config, codeVersion: "git:test", threads: 1)
            retrainer = Retrainer(lake: lake, trainer: trainer, audit: audit, models: [], logger: quietLogger)
        }

        func service(_ rules: [AlertRule], window: Int64 = 60_000, features: FeatureStore? = nil, retrain: Bool = false) -> AlertService {
            var monitoring = MonitoringConfig()
            monitoring.windowMillis = window
            return AlertService(
                rules: rules, project: "shop", monitoring: monitoring, experiments: ExperimentSettings(), retrainModels: [], clock: lake.clock,
                ingestCounts: { lake.ingestor.counts }, features: features,
                drift: nil, serving: nil, retrainer: retrain ? retrainer : nil, audit: audit, logger: quietLogger)
        }

        /// `valid` well-formed views and `invalid` views without their required item, now.
        func ingest(valid: Int = 0, invalid: Int = 0) async throws {
            let now = clock.nowMillis()
            var events: [IncomingEvent] = []
            for index in 0..<valid {
                events.append(IncomingEvent(type: "view", userID: "u\(index % 7)", time: .millis(now), fields: [("item_id", .string("i\(index % 11)"))]))
            }
            for index in 0..<invalid { events.append(IncomingEvent(type: "view", userID: "u\(index)", time: .millis(now))) }
            let result = try await lake.ingestor.ingest(events: events, source: "test")
            #expect(result.rejected.count == invalid)
        }

        func close() async {
            await lake.close()
            await store.close()
            directory.remove()
        }
    }

    @Test func theRejectedShareOfTheWindowFiresAndResolvesWithAudit() async throws {
        let setup = try await Setup()
        let service = setup.service([AlertRule(name: "rejections", kind: .ingestRejections, threshold: 0.1)])
        // The first evaluation has nothing to compare with.
        #expect(service.measure(now: setup.clock.nowMillis()).isEmpty)
        setup.clock.advance(10_000)
        try await setup.ingest(valid: 6, invalid: 4)
        await service.evaluateOnce()
        #expect(service.engine.current[0].state == .firing)
        #expect(service.engine.current[0].value == 0.4)
        setup.clock.advance(10_000)
        try await setup.ingest(valid: 90)
        await service.evaluateOnce()
        #expect(service.engine.current[0].state == .inactive)
        #expect(service.engine.current[0].value == 0.04, "4 rejected of 100 since the window's first sample")
        let entries = try await setup.audit.list(principal: "monitoring")
        #expect(entries.map(\.action) == ["alert.fire", "alert.resolve"])
        #expect(entries.allSatisfy { $0.target == "alert:rejections" })
        #expect(entries[0].detail.contains("ingest_rejections 0.4 > 0.1"))
        #expect(try await setup.audit.verify().isIntact)
        await setup.close()
    }

    @Test func ratesAreMeasuredOverTheWindowOnly() async throws {
        let setup = try await Setup()
        let service = setup.service([AlertRule(name: "r", kind: .ingestRejections, threshold: 0.5)], window: 60_000)
        _ = service.measure(now: setup.clock.nowMillis())
        setup.clock.advance(10_000)
        try await setup.ingest(valid: 1, invalid: 9)
        #expect(service.measure(now: setup.clock.nowMillis())["r"] == 0.9)
        // Later samples, each a minute apart: the old rejections leave the window.
        setup.clock.advance(30_000)
        try await setup.ingest(valid: 10)
        #expect(service.measure(now: setup.clock.nowMillis())["r"] == 9.0 / 20, "everything since the first sample (40 s ago)")
        setup.clock.advance(40_000)
        try await setup.ingest(valid: 10)
        #expect(service.measure(now: setup.clock.nowMillis())["r"] == 0, "since the sample 40 s ago, after the rejections")
        setup.clock.advance(70_000)
        #expect(service.measure(now: setup.clock.nowMillis())["r"] == nil, "no traffic in the window: nothing to judge")
        await setup.close()
    }

    @Test func retrainingOnAnAlertHonoursTheCooldown() async throws {
        let setup = try await Setup()
        let rule = AlertRule(name: "bad-input", kind: .ingestRejections, threshold: 0.1, actions: [.log, .retrain], cooldownMillis: 100_000)
        let service = setup.service([rule], retrain: true)
        // One evaluation every 10 s; events arrive at some of them.
        let plan: [Int: (valid: Int, invalid: Int)] = [1: (5, 5), 2: (100, 0), 3: (0, 50), 4: (1000, 0), 12: (0, 50)]
        for tick in 0...12 {
            setup.clock.set(Self.start + Int64(tick) * 10_000)
            if let batch = plan[tick] { try await setup.ingest(valid: batch.valid, invalid: batch.invalid) }
            await service.evaluateOnce()
        }
        #expect(service.engine.current[0].firings == 3)
        let retrains = try await setup.audit.list(action: "alert.retrain")
        #expect(retrains.map(\.outcome) == ["ok", "denied", "ok"], "the second firing came within the cooldown")
        #expect(retrains.map(\.at) == [Self.start + 10_000, Self.start + 30_000, Self.start + 120_000])
        #expect(retrains[1].detail == "in cooldown")
        #expect(retrains[0].detail.contains("alert bad-input fired"))
        #expect(try await setup.audit.list(action: "alert.fire").count == 3)
        #expect(try await setup.audit.list(action: "alert.resolve").count == 2)
        // Each allowed retraining took a snapshot and audited it (in the background).
        try await waitUntil("both retrainings to record their snapshot") { try await setup.audit.list(action: "training.retrain").count == 2 }
        let started = try await setup.audit.list(action: "training.retrain")
        #expect(started.allSatisfy { $0.principal == "key:monitoring(alert bad-input)" && $0.detail.contains("alert bad-input fired") })
        #expect(try await setup.audit.verify().isIntact)
        await setup.close()
    }

    @Test func aRetrainActionWithoutARetrainerOnlyLogs() async throws {
        let setup = try await Setup()
        let service = setup.service([AlertRule(name: "x", kind: .ingestRejections, threshold: 0.1, actions: [.retrain])])
        _ = service.measure(now: setup.clock.nowMillis())
        setup.clock.advance(1000)
        try await setup.ingest(invalid: 3)
        await service.evaluateOnce()
        #expect(service.engine.current[0].state == .firing)
        #expect(try await setup.audit.list(action: "alert.retrain").isEmpty)
        #expect(try await setup.audit.list(action: "alert.fire").count == 1)
        await setup.close()
    }

    @Test func staleFeaturesFireTheFreshnessAlert() async throws {
        let setup = try await Setup()
        let features = try FeatureStore(lake: setup.lake, definitions: Fixtures.config.contract.features, logger: quietLogger)
        let service = setup.service([AlertRule(name: "stale", kind: .freshness, threshold: 0)], features: features)
        // Nothing applied yet: no feature has a newest event, so none is stale.
        #expect(service.measure(now: setup.clock.nowMillis())["stale"] == 0)
        try await setup.ingest(valid: 5)
        try features.catchUp()
        await service.evaluateOnce()
        #expect(service.engine.current[0].state == .inactive)
        // Ten minutes without views: the two view features with a 5-minute SLA are stale.
        setup.clock.advance(10 * 60_000)
        await service.evaluateOnce()
        #expect(service.engine.current[0].state == .firing)
        #expect(service.engine.current[0].value == 2)
        try await setup.ingest(valid: 1)
        try features.catchUp()
        await service.evaluateOnce()
        #expect(service.engine.current[0].state == .inactive)
        #expect(try await setup.audit.list(action: "alert.resolve").map(\.target) == ["alert:stale"])
        await setup.close()
    }
}
