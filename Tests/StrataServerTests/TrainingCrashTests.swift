import Foundation
import StrataCore
import StrataLake
import StrataTesting
import Synchronization
import Testing

/// `strata train` killed with SIGKILL mid-training resumes from its checkpoint and ends with
/// the artifact an uninterrupted run produces.
@Suite(.serialized) struct TrainingCrashTests {
    func strata(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        try runProcess(ServerProcess.binary, arguments)
    }

    @Test func sigkilledRunResumesToTheSameArtifact() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        // A slow ALS (many iterations), checkpointed after every iteration.
        let configPath = directory.file("strata.yaml")
        let yaml = ExampleConfig.yaml.replacingOccurrences(of: "    iterations: 15\n", with: "    iterations: 60\n")
        #expect(StrataConfig.example().registry.checkpointEvery == 1)
        try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
        let data = directory.file("data")
        let events = directory.file("events.ndjson")
        let common = ["--data-dir", data, "--config", configPath, "--log-format", "json"]
        #expect(try strata(["generate", "--users", "400", "--items", "600", "--days", "10", "--out", events, "--config", configPath]).status == 0)
        #expect(try strata(["import", events] + common).status == 0)
        #expect(try strata(["lake", "snapshot"] + common).status == 0)

        let uninterrupted = try strata(["train", "--model", "als-main", "--json"] + common)
        #expect(uninterrupted.status == 0, "\(uninterrupted.errors)")
        let expected = try JSONValue.parse(uninterrupted.output.split(separator: "\n").last.map(String.init) ?? "")["run"]?["artifact"]?.stringValue
        #expect(expected != nil)

        // The same training, killed once it has written a checkpoint.
        let runs = "\(data)/shop/runs"
        let before = Set((try? FileManager.default.contentsOfDirectory(atPath: runs)) ?? [])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServerProcess.binary)
        process.arguments = ["train", "--model", "als-main"] + common
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The watcher is a thread of its own: under a loaded test run the async pool may not get
        // to a polling task before the training ends.
        let killed = Mutex<String?>(nil)
        let watcher = Thread {
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline && process.isRunning {
                let fresh = Set((try? FileManager.default.contentsOfDirectory(atPath: runs)) ?? []).subtracting(before)
                if let run = fresh.first, let pointer = AtomicFile.read("\(runs)/\(run)/checkpoint.json"),
                    let iteration = (try? JSONValue.parse(String(decoding: pointer, as: UTF8.self)))?["iteration"]?.intValue, iteration >= 3
                {
                    kill(process.processIdentifier, SIGKILL)
                    killed.withLock { $0 = run }
                    return
                }
                usleep(2000)
            }
        }
        watcher.start()
        process.waitUntilExit()
        let run = try #require(killed.withLock { $0 }, "the run was killed after a checkpoint and before it finished")
        #expect(process.terminationReason == .uncaughtSignal)

        let shown = try strata(["runs", "show", run] + common)
        #expect(try JSONValue.parse(shown.output)["status"] == "running", "the killed run never finished")

        let resumed = try strata(["train", "--resume", run, "--json"] + common)
        #expect(resumed.status == 0, "\(resumed.errors)")
        let answer = try JSONValue.parse(resumed.output.split(separator: "\n").last.map(String.init) ?? "")
        #expect(answer["run"]?["id"]?.stringValue == run)
        #expect(answer["run"]?["status"] == "finished")
        #expect(answer["run"]?["checkpoint_iteration"]?.intValue ?? 0 >= 3)
        #expect(answer["run"]?["artifact"]?.stringValue == expected, "the resumed run's artifact equals the uninterrupted run's")
        let audit = try strata(["audit", "ls", "--action", "training.resume"] + common)
        #expect(audit.output.contains(run))
        #expect(try strata(["audit", "verify"] + common).status == 0)
    }
}
