import Foundation
import StrataCore
import StrataLake
import StrataMetadata
import StrataRegistry
import StrataTesting
import StrataTraining
import Synchronization
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A real `strata serve` under steady keep-alive load from this (separate) process: a
/// promotion and a rollback complete with no failed request and no response mixing versions,
/// and every request sent after the rollback returned is answered by the previous version.
/// How long the swap took is printed as a figure, never asserted: a busy machine may stretch
/// it, and no scheduling delay may flip the outcome (each phase waits for enough answers of
/// its own instead of sleeping a fixed time).
@Suite(.serialized) struct SwapUnderLoadTests {
    struct Sample: Sendable {
        var user: String
        var status: Int
        var version: Int64?
        var source: String
        var items: [String]
        var sent: Double
        var received: Double
    }

    /// A data folder with generated history, a snapshot, and two approved versions of
    /// `als-main` (version 1 in production).
    static func prepare(_ directory: TemporaryDirectory, extraConfig: String = "") async throws -> (config: String, data: String, users: [String]) {
        let configPath = directory.file("strata.yaml")
        try (ExampleConfig.yaml.replacingOccurrences(of: "precompute_interval: 1h", with: "precompute_interval: off") + extraConfig).write(
            toFile: configPath, atomically: true, encoding: .utf8)
        let config = try StrataConfig.load(path: configPath)
        let data = directory.file("data")
        let lake = try Lake(config: config, dataDirectory: data, logger: quietLogger)
        _ = try await lake.ingestor.ingest(events: Fixtures.events(5000, seed: 3), source: "test", allowLate: true)
        _ = try await lake.maintain(force: true)
        _ = try await lake.compactor.snapshot()
        await lake.close()
        let (store, audit, registry, trainer) = try await openTraining(config: config, data: data)
        let scientist = Principal(id: "sci", name: "sam", roles: [.scientist])
        let approver = Principal(id: "apr", name: "ann", roles: [.approver])
        var users: [String] = []
        for seed in [1, 2] {
            let spec = try ModelSpec(name: "als-main", algorithm: .als, parameters: ["factors": 16, "iterations": 3, "seed": Double(seed)])
            let outcome = try await trainer.train(TrainingRequest(spec: spec, principal: scientist))
            _ = try await registry.approve(outcome.version!.reference, reason: "test", by: approver)
            users = Array(Set(Fixtures.events(5000, seed: 3).compactMap(\.userID))).sorted()
        }
        _ = try await registry.promote("als-main@1", by: approver)
        try await audit.flush()
        await store.close()
        return (configPath, data, users)
    }

    /// The project's metadata store, audit log, registry and a trainer whose gate accepts any
    /// version (gate margin −1), opened directly on the data folder before a server starts.
    static func openTraining(config: StrataConfig, data: String) async throws -> (MetadataStore, AuditLog, ModelRegistry, Trainer) {
        var relaxed = config
        relaxed.registry.gateMargin = -1
        let directory = DataDirectory(root: data, project: config.project)
        let store = try await MetadataStore.open(url: "sqlite:", defaultSQLitePath: "\(directory.projectRoot)/metadata.sqlite", logger: quietLogger)
        let audit = AuditLog(store: store)
        let registry = ModelRegistry(store: store, audit: audit)
        let trainer = Trainer(
            runs: RunStore(store: store), blobs: FileBlobStore(root: "\(directory.projectRoot)/blobs"), registry: registry, audit: audit, directory: directory,
            config: relaxed, codeVersion: "git:test", threads: 2)
        return (store, audit, registry, trainer)
    }

    final class Recorder: Sendable {
        private let state = Mutex<(running: Bool, samples: [Sample])>((true, []))
        var running: Bool { state.withLock { $0.running } }
        var samples: [Sample] { state.withLock { $0.samples } }
        func add(_ sample: Sample) { state.withLock { $0.samples.append(sample) } }
        func stop() { state.withLock { $0.running = false } }
        /// Waits until `count` samples satisfy `condition` (the deadline only bounds a hang).
        func waitFor(_ count: Int, _ what: String, where condition: (Sample) -> Bool) async throws {
            let deadline = ContinuousClock.now + .seconds(300)
            while state.withLock({ $0.samples.reduce(0) { $0 + (condition($1) ? 1 : 0) } }) < count {
                guard ContinuousClock.now < deadline else { throw TimeoutError(what: what) }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    struct TimeoutError: Error, CustomStringConvertible {
        var what: String
        var description: String { "no \(what) within 5 minutes" }
    }

    @Test func promotionAndRollbackUnderLoad() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (config, data, users) = try await Self.prepare(directory)
        let server = try ServerProcess(dataDirectory: data, arguments: ["--config", config])
        defer { server.stop(signal: SIGTERM) }
        let base = "http://127.0.0.1:\(server.port)"
        let session = URLSession(configuration: .uncached)
        let recorder = Recorder()
        let clock = ContinuousClock()
        let origin = clock.now
        func seconds() -> Double {
            let d = clock.now - origin
            return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        }

        // Steady load: 8 keep-alive clients, each asking for random known users.
        let load = Task {
            await withTaskGroup(of: Void.self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        var rng = SplitMix64(seed: UInt64(worker) + 1)
                        while recorder.running {
                            let user = users[rng.nextInt(below: users.count)]
                            let sent = seconds()
                            var sample = Sample(user: user, status: 0, version: nil, source: "", items: [], sent: sent, received: 0)
                            if let (body, response) = try? await session.data(from: URL(string: "\(base)/v1/recommendations/\(user)?n=10")!) {
                                sample.status = (response as? HTTPURLResponse)?.statusCode ?? 0
                                let json = try? JSONValue.parse(String(decoding: body, as: UTF8.self))
                                sample.version = json?["version"]?.intValue
                                sample.source = json?["source"]?.stringValue ?? ""
                                sample.items = json?["items"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
                            }
                            sample.received = seconds()
                            let recorded = sample
                            recorder.add(recorded)
                        }
                    }
                }
            }
        }
        try await recorder.waitFor(50, "answers before the promotion") { $0.status == 200 }
        _ = try await server.postJSON("/v1/models/als-main@2/promote", [:])
        let promoted = seconds()
        try await recorder.waitFor(50, "version 2 answers after the promotion") { $0.sent > promoted && $0.version == 2 }
        let rollbackSent = seconds()
        let outcome = try await server.postJSON("/v1/deployments/default/rollback", [:])
        let rollbackReturned = seconds()
        try await recorder.waitFor(50, "answers to requests sent after the rollback") { $0.sent > rollbackReturned }
        recorder.stop()
        await load.value

        let all = recorder.samples
        #expect(all.allSatisfy { $0.status == 200 }, "non-2xx: \(all.filter { $0.status != 200 }.prefix(3).map { "\($0.status)" })")
        #expect(Set(all.compactMap(\.version)) == [1, 2], "both versions served")
        // No mixing: one user, one version, one source → one list.
        var lists: [String: [String]] = [:]
        for sample in all {
            let key = "\(sample.user)|\(sample.version ?? 0)|\(sample.source)"
            if let existing = lists[key] { #expect(existing == sample.items, "\(key) answered two different lists") } else { lists[key] = sample.items }
        }
        // After the rollback returned, only version 1 (the swap is complete when it answers).
        let afterReturn = all.filter { $0.sent > rollbackReturned }
        #expect(!afterReturn.isEmpty && afterReturn.allSatisfy { $0.version == 1 })
        let lastV2 = all.filter { $0.version == 2 }.map(\.received).max() ?? 0
        let effect = max(0, lastV2 - rollbackSent)
        print(
            "swap under load: \(all.count) requests, all 200; rollback answered in \(outcome["ms"]?.doubleValue ?? -1) ms; last v2 response \(String(format: "%.3f", effect)) s after it was sent"
        )
    }
}
