import Foundation
import StrataCore
import StrataLake
import StrataMetadata
import StrataRegistry
import StrataS3
import StrataTesting
import StrataTraining
import Synchronization
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Strata as several processes over PostgreSQL, Redis and an S3 server, behind nginx: two API
/// replicas and an elected worker with a standby. Under steady load (recommendations and event
/// batches through nginx) a promotion and a rollback reach both replicas, an API replica is
/// SIGKILLed (nginx moves its requests to the other), then the worker is SIGKILLed (the standby
/// takes over); no request fails, and every acknowledged event is in the worker's log. How long
/// each swap took to reach the replicas is printed as a figure, not asserted, and each phase
/// waits for enough traffic of its own rather than sleeping a fixed time, so a busy machine
/// cannot flip the outcome. Skipped with a message when a server is missing.
@Suite(.serialized) struct MultiReplicaTests {
    final class Load: Sendable {
        let state = Mutex<(running: Bool, recommendations: Int, failures: [String], acknowledged: [String])>((true, 0, [], []))
        var running: Bool { state.withLock { $0.running } }
        func fail(_ what: String) { state.withLock { $0.failures.append(what) } }
    }

    /// A fresh database on the test PostgreSQL server (the registry suites use the default one).
    static func freshDatabase(_ url: String) throws -> String {
        guard var components = URLComponents(string: url) else { throw StrataError.internal("bad STRATA_TEST_POSTGRES_URL") }
        let name = "strata_replicas_\(getpid())"
        let psql = ["-h", components.host ?? "127.0.0.1", "-p", String(components.port ?? 5432), "-U", "postgres", "-tAc"]
        _ = try runProcess("/usr/bin/env", ["psql"] + psql + ["DROP DATABASE IF EXISTS \(name)"])
        let created = try runProcess("/usr/bin/env", ["psql"] + psql + ["CREATE DATABASE \(name) OWNER \(components.user ?? "strata")"])
        guard created.status == 0 else { throw StrataError.internal("cannot create a database: \(created.errors)") }
        components.path = "/\(name)"
        return components.string!
    }

    /// A data folder with history and a snapshot, and two approved versions of `als-main`
    /// (version 1 in production) trained into `blobs` with the registry at `metadataURL`.
    static func trainedProject(_ directory: TemporaryDirectory, metadataURL: String, blobs: any BlobStore) async throws -> (
        configPath: String, config: StrataConfig, data: String, users: [String]
    ) {
        let configPath = directory.file("strata.yaml")
        // An API replica holds requests while the standby takes over, however long a loaded
        // machine makes that (nginx waits as long for the replica).
        try ExampleConfig.yaml.replacingOccurrences(of: "precompute_interval: 1h", with: "precompute_interval: off")
            .replacingOccurrences(of: "failover_wait: 15s", with: "failover_wait: 240s").write(toFile: configPath, atomically: true, encoding: .utf8)
        var config = try StrataConfig.load(path: configPath)
        let data = directory.file("worker")
        let lake = try Lake(config: config, dataDirectory: data, logger: quietLogger)
        let history = Fixtures.events(5000, seed: 3)
        _ = try await lake.ingestor.ingest(events: history, source: "test", allowLate: true)
        _ = try await lake.maintain(force: true)
        _ = try await lake.compactor.snapshot()
        await lake.close()
        config.registry.gateMargin = -1
        let store = try await MetadataStore.open(url: metadataURL, defaultSQLitePath: "", logger: quietLogger)
        let audit = AuditLog(store: store)
        let registry = ModelRegistry(store: store, audit: audit)
        let trainer = Trainer(
            runs: RunStore(store: store), blobs: blobs, registry: registry, audit: audit, directory: DataDirectory(root: data, project: config.project),
            config: config, codeVersion: "git:test", threads: 2)
        let scientist = Principal(id: "sci", name: "sam", roles: [.scientist])
        let approver = Principal(id: "apr", name: "ann", roles: [.approver])
        for seed in [1, 2] {
            let spec = try ModelSpec(name: "als-main", algorithm: .als, parameters: ["factors": 16, "iterations": 3, "seed": Double(seed)])
            let outcome = try await trainer.train(TrainingRequest(spec: spec, principal: scientist))
            _ = try await registry.approve(outcome.version!.reference, reason: "test", by: approver)
        }
        _ = try await registry.promote("als-main@1", by: approver)
        try await audit.flush()
        await store.close()
        return (configPath, try StrataConfig.load(path: configPath), data, Array(Set(history.compactMap(\.userID))).sorted())
    }

    @Test func replicasBehindNginxSurvivePromotionRollbackAndKills() async throws {
        guard let postgres = ProcessInfo.processInfo.environment["STRATA_TEST_POSTGRES_URL"], !postgres.isEmpty else {
            peerMissing("SKIPPED (PostgreSQL): set STRATA_TEST_POSTGRES_URL (scripts/test.sh starts a server) to run the multi-replica test")
            return
        }
        guard let redis = try RedisServer() else {
            peerMissing(RedisServer.skipMessage)
            return
        }
        guard let moto = try MotoServer() else {
            peerMissing(MotoServer.skipMessage)
            return
        }
        guard executableInPath("nginx") != nil else {
            peerMissing(NginxServer.skipMessage)
            return
        }
        let metadataURL = try Self.freshDatabase(postgres)
        let lakeURL = "s3://strata-replicas/shop?endpoint=\(moto.endpoint)"
        let environment = MotoServer.credentials.merging([
            "STRATA_METADATA_URL": metadataURL, "STRATA_ONLINE_URL": redis.url, "STRATA_LAKE_URL": lakeURL,
        ]) { $1 }
        let bucket = S3Client(location: try S3Location(url: lakeURL, environment: MotoServer.credentials))
        try await bucket.createBucket()

        // The worker's data folder: history, a snapshot, two approved versions (1 in production),
        // their artifacts in the bucket, the registry in PostgreSQL.
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (configPath, config, workerData, users) = try await Self.trainedProject(
            directory, metadataURL: metadataURL, blobs: S3BlobStore(client: bucket, cacheDirectory: nil))
        #expect(try await bucket.list(prefix: "blobs/").count >= 2, "the artifacts are in the bucket")

        let arguments = ["--config", configPath]
        let workerA = try ServerProcess(dataDirectory: workerData, arguments: arguments + ["--role", "worker"], environment: environment)
        let workerB = try ServerProcess(
            dataDirectory: workerData, arguments: arguments + ["--role", "worker"], environment: environment, waitForServing: false)
        defer { _ = workerB.stop(signal: SIGTERM) }
        let api1 = try ServerProcess(dataDirectory: directory.file("api1"), arguments: arguments + ["--role", "api"], environment: environment)
        let api2 = try ServerProcess(dataDirectory: directory.file("api2"), arguments: arguments + ["--role", "api"], environment: environment)
        defer { _ = api2.stop(signal: SIGTERM) }
        let nginx = try #require(try NginxServer(upstreams: [api1.port, api2.port]))
        let base = "http://127.0.0.1:\(nginx.port)"
        let session = URLSession(configuration: .uncached)

        func version(at port: Int, user: String) async -> Int64? {
            guard let (body, _) = try? await session.data(from: URL(string: "http://127.0.0.1:\(port)/v1/recommendations/\(user)?n=5")!) else { return nil }
            return (try? JSONValue.parse(String(decoding: body, as: UTF8.self)))?["version"]?.intValue
        }
        // Waits below bound a hang only: a loaded machine may take long, never fail them.
        func deadline() -> ContinuousClock.Instant { .now + .seconds(300) }
        // Both replicas serve version 1, from the worker's table in Redis.
        for replica in [api1, api2] {
            var served: Int64?
            let until = deadline()
            while served != 1, ContinuousClock.now < until {
                served = await version(at: replica.port, user: users[0])
                if served != 1 { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(served == 1)
        }

        // The worker mirrors the lake into the bucket: Parquet files and the snapshot manifest.
        var mirrored: [String] = []
        let mirroredBy = deadline()
        while !mirrored.contains(where: { $0.hasPrefix("lake/snapshots/") }), ContinuousClock.now < mirroredBy {
            mirrored = try await bucket.list(prefix: "lake/")
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(mirrored.contains { $0.hasPrefix("lake/events/type=view/") && $0.hasSuffix(".parquet") })
        #expect(mirrored.contains { $0.hasPrefix("lake/snapshots/") })

        // The worker publishes the online features to Redis, where the API replicas read them.
        var featureKeys = 0
        let publishedBy = deadline()
        while featureKeys == 0, ContinuousClock.now < publishedBy {
            featureKeys = try runProcess("/usr/bin/env", ["redis-cli", "-p", String(redis.port), "--scan", "--pattern", "strata:shop:feat:user:*"]).output
                .split(separator: "\n").count
            if featureKeys == 0 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(featureKeys >= users.count / 2, "\(featureKeys) users' features in Redis")

        // Steady load through nginx: 4 clients ask for recommendations, 2 send event batches.
        let load = Load()
        let now = SystemClock().nowMillis()
        let traffic = Task {
            await withTaskGroup(of: Void.self) { group in
                for client in 0..<6 {
                    group.addTask {
                        var rng = SplitMix64(seed: UInt64(client) + 100)
                        var batch = 0
                        while load.running {
                            if client < 4 {
                                let user = users[rng.nextInt(below: users.count)]
                                let answer = try? await session.data(from: URL(string: "\(base)/v1/recommendations/\(user)?n=5")!)
                                let status = (answer?.1 as? HTTPURLResponse)?.statusCode ?? 0
                                load.state.withLock {
                                    $0.recommendations += 1
                                    if status != 200 { $0.failures.append("recommendation: \(status)") }
                                }
                            } else {
                                batch += 1
                                let ids = (0..<10).map { "mr-\(client)-\(batch)-\($0)" }
                                let body = ids.map {
                                    #"{"type":"view","event_id":"\#($0)","user_id":"\#(users[rng.nextInt(below: users.count)])","timestamp":\#(now),"item_id":"i1"}"#
                                }
                                .joined(separator: "\n")
                                var request = URLRequest(url: URL(string: "\(base)/v1/events")!)
                                request.httpMethod = "POST"
                                request.setValue("application/x-ndjson", forHTTPHeaderField: "Content-Type")
                                request.httpBody = Data(body.utf8)
                                request.timeoutInterval = 300  // held through the fail-over (server.failover_wait)
                                let answer = try? await session.data(for: request)
                                let status = (answer?.1 as? HTTPURLResponse)?.statusCode ?? 0
                                let accepted = answer.flatMap { try? JSONValue.parse(String(decoding: $0.0, as: UTF8.self)) }?["accepted"]?.intValue
                                load.state.withLock {
                                    if status == 200, accepted == 10 { $0.acknowledged += ids } else { $0.failures.append("events: \(status)") }
                                }
                                try? await Task.sleep(for: .milliseconds(50))
                            }
                        }
                    }
                }
            }
        }
        /// Waits until the load has made `recommendations` more requests and had `events` more
        /// acknowledged than now: each phase sees traffic, however slow the machine is.
        func progress(recommendations: Int, events: Int) async throws {
            let (r0, e0) = load.state.withLock { ($0.recommendations, $0.acknowledged.count) }
            let until = deadline()
            while ContinuousClock.now < until {
                let (r, e) = load.state.withLock { ($0.recommendations, $0.acknowledged.count) }
                if r - r0 >= recommendations, e - e0 >= events { return }
                try await Task.sleep(for: .milliseconds(20))
            }
            Issue.record("the load made too little progress within 5 minutes (\(recommendations) recommendations, \(events) events wanted)")
        }
        try await progress(recommendations: 50, events: 30)

        /// Seconds until both replicas serve `expected` (polled every 20 ms); nil where one
        /// never did within the deadline.
        func switchTime(to expected: Int64, _ change: () async throws -> Void) async throws -> [Double?] {
            let start = ContinuousClock.now
            try await change()
            var times: [Double?] = []
            let until = deadline()
            for replica in [api1, api2] {
                var served = await version(at: replica.port, user: users[1])
                while served != expected, ContinuousClock.now < until {
                    try await Task.sleep(for: .milliseconds(20))
                    served = await version(at: replica.port, user: users[1])
                }
                let elapsed = ContinuousClock.now - start
                times.append(served == expected ? Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18 : nil)
            }
            return times
        }
        let promoted = try await switchTime(to: 2) { _ = try await api1.postJSON("/v1/models/als-main@2/promote", [:]) }
        #expect(promoted.allSatisfy { $0 != nil }, "the promotion did not reach every replica: \(promoted)")
        try await progress(recommendations: 50, events: 0)
        let rolledBack = try await switchTime(to: 1) { _ = try await api2.postJSON("/v1/models/als-main/rollback", [:]) }
        #expect(rolledBack.allSatisfy { $0 != nil }, "the rollback did not reach every replica: \(rolledBack)")

        // An API replica dies: nginx sends its requests to the other.
        try await progress(recommendations: 50, events: 0)
        api1.stop(signal: SIGKILL)
        try await progress(recommendations: 100, events: 30)
        // The worker dies: the standby takes the lease, opens the shared folder and publishes
        // itself; the API replica holds ingestion requests until it answers.
        let killedAt = ContinuousClock.now
        workerA.stop(signal: SIGKILL)
        try workerB.awaitServing(timeout: 300)
        let takeover = ContinuousClock.now - killedAt
        try await progress(recommendations: 50, events: 30)
        load.state.withLock { $0.running = false }
        await traffic.value

        let (recommendations, failures, acknowledged) = load.state.withLock { ($0.recommendations, $0.failures, $0.acknowledged) }
        #expect(failures.isEmpty, "\(failures.count) failed requests: \(failures.prefix(5)); nginx: \(nginx.errorLog.suffix(600))")

        // Every acknowledged event is in the worker's log (read after the new worker stops).
        _ = workerB.stop(signal: SIGTERM)
        let stored = try await Fixtures.storedEventIDs(config: config, dataDirectory: workerData)
        let lost = acknowledged.filter { stored[$0] == nil }
        #expect(lost.isEmpty, "\(lost.count) acknowledged events are missing: \(lost.prefix(5))")
        print(
            "multi-replica: \(recommendations) recommendations and \(acknowledged.count) acknowledged events through nginx, \(failures.count) failures; promotion reached both replicas in \(promoted.map { $0.map { String(format: "%.3f", $0) } ?? "never" }) s, rollback in \(rolledBack.map { $0.map { String(format: "%.3f", $0) } ?? "never" }) s; the standby took over \(takeover) after the worker's SIGKILL"
        )
    }
}
