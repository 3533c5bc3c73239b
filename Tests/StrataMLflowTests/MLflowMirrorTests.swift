import Foundation
import StrataCore
import StrataLake
import StrataRegistry
import StrataTesting
import Testing

@testable import StrataTraining

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Runs mirrored to a real `mlflow server` (installed by the test script from PyPI); skipped
/// with a message when MLflow is not installed. A target of its own, like the other real peers'
/// (Redis, S3, Kafka): MLflow's start takes most of a minute, and StrataTrainingTests stays fast.
@Suite(.serialized) struct MLflowMirrorTests {
    @Test func finishedRunsAppearInMLflowWithTheirLineageParamsAndMetrics() async throws {
        guard (try? runProcess("/usr/bin/env", ["python3", "-c", "import mlflow"]))?.status == 0 else {
            peerMissing("SKIPPED (MLflow): pip install mlflow (scripts/install-deps.sh --with-test-peers does) to test the MLflow mirror")
            return
        }
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let port = 15_000 + Int.random(in: 0..<2000)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = [
            "python3", "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", "\(port)", "--workers", "1",
            "--backend-store-uri", "sqlite:///\(directory.file("mlflow.db"))", "--default-artifact-root", directory.file("mlartifacts"),
        ]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { Self.stop(server) }
        let base = "http://127.0.0.1:\(port)"
        // The limit only bounds a hang: MLflow's Python start takes minutes on a busy machine.
        try await waitUntil("mlflow server to answer /health", timeout: .seconds(300), interval: .milliseconds(250)) {
            guard server.isRunning else { throw StrataError.internal("mlflow server exited (status \(server.terminationStatus))") }
            guard let (_, response) = try? await URLSession.uncached.data(from: URL(string: "\(base)/health")!) else { return false }
            return (response as? HTTPURLResponse)?.statusCode == 200
        }

        let project = try await TrainingProject(events: 6000, seed: 21, snapshot: true, mirror: MLflowMirror(baseURL: base))
        let trainer = project.trainer
        let spec = try ModelSpec(name: "als", algorithm: .als, parameters: ["factors": 8, "iterations": 4])
        let outcome = try await trainer.train(
            TrainingRequest(spec: spec, experiment: "mirror-test", principal: Principal(id: "s", name: "sam", roles: [.scientist])))

        let mirror = MLflowMirror(baseURL: base)
        let experiment = try await mirror.experimentID(named: "mirror-test")
        let found = try await mirror.call("runs/search", ["experiment_ids": [.string(experiment)]])
        let run = try #require(found["runs"]?.arrayValue?.first)
        let tags = Dictionary(
            uniqueKeysWithValues: (run["data"]?["tags"]?.arrayValue ?? []).compactMap { tag in
                tag["key"]?.stringValue.map { ($0, tag["value"]?.stringValue ?? "") }
            })
        #expect(tags["strata.run_id"] == outcome.run.id)
        #expect(tags["strata.data_version"] == outcome.run.dataVersion)
        #expect(tags["strata.artifact_sha256"] == outcome.run.artifactHash)
        let params = Dictionary(
            uniqueKeysWithValues: (run["data"]?["params"]?.arrayValue ?? []).compactMap { p in p["key"]?.stringValue.map { ($0, p["value"]?.stringValue ?? "") }
            })
        #expect(params["factors"] == "8")
        #expect(params["iterations"] == "4")
        let metrics = run["data"]?["metrics"]?.arrayValue ?? []
        let ndcg = metrics.first { $0["key"] == "ndcg_at_10" }?["value"]?.doubleValue
        #expect(ndcg == outcome.run.metrics["ndcg@10"])
        #expect(run["info"]?["status"] == "FINISHED")
        let history = try await mirror.call("metrics/get-history?run_id=\(run["info"]?["run_id"]?.stringValue ?? "")&metric_key=iteration_seconds", nil)
        #expect(history["metrics"]?.arrayValue?.count == 4, "one point per iteration")
        await project.close()
    }

    /// Stops the server and every process under it (uvicorn, the job runner and its workers),
    /// which outlive a SIGTERM to the parent alone.
    static func stop(_ server: Process) {
        let tree = [server.processIdentifier] + descendants(of: server.processIdentifier)
        for pid in tree.reversed() { kill(pid, SIGTERM) }
        for _ in 0..<50 where server.isRunning { usleep(100_000) }
        for pid in tree.reversed() { kill(pid, SIGKILL) }
        for _ in 0..<50 where server.isRunning { usleep(100_000) }
    }

    static func descendants(of root: Int32) -> [Int32] {
        guard let listing = try? runProcess("/usr/bin/env", ["ps", "-e", "-o", "pid=,ppid="]) else { return [] }
        var children: [Int32: [Int32]] = [:]
        for line in listing.output.split(separator: "\n") {
            let fields = line.split(separator: " ").compactMap { Int32($0) }
            if fields.count == 2 { children[fields[1], default: []].append(fields[0]) }
        }
        var result: [Int32] = []
        var pending = [root]
        while let pid = pending.popLast() {
            for child in children[pid] ?? [] {
                result.append(child)
                pending.append(child)
            }
        }
        return result
    }
}
