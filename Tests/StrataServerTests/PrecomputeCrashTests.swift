import Foundation
import StrataCore
import StrataTesting
import Synchronization
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The batch job killed with SIGKILL half-way through a table resumes from its checkpoint: the
/// restarted server computes only the users the killed run had not finished, and serves the
/// whole table from the cache.
@Suite(.serialized) struct PrecomputeCrashTests {
    func strata(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        try runProcess(ServerProcess.binary, arguments)
    }

    @Test func aSigkilledPrecomputeResumesWithoutRedoingFinishedUsers() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        // Long lists scored over the whole catalogue: a run of seconds, checkpointed every 256
        // users, that a watcher can interrupt after its first checkpoint.
        let configPath = directory.file("strata.yaml")
        let yaml = ExampleConfig.yaml
            .replacingOccurrences(of: "  cache_top_n: 50 ", with: "  cache_top_n: 1000 ")
            .replacingOccurrences(of: "exact_below: 20000", with: "exact_below: 100000000")
            .replacingOccurrences(of: "allow_self_approval: false", with: "allow_self_approval: true")
        try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
        let data = directory.file("data")
        let events = directory.file("events.ndjson")
        let common = ["--data-dir", data, "--config", configPath, "--log-format", "json"]
        #expect(try strata(["generate", "--users", "3000", "--items", "3000", "--days", "2", "--out", events, "--config", configPath]).status == 0)
        #expect(try strata(["import", events] + common).status == 0)
        #expect(try strata(["lake", "snapshot"] + common).status == 0)
        let trained = try strata(["train", "--model", "als-main"] + common)
        #expect(trained.status == 0, "\(trained.errors)")
        #expect(try strata(["models", "approve", "als-main@1", "--reason", "test"] + common).status == 0)
        #expect(try strata(["models", "promote", "als-main@1"] + common).status == 0)

        // The first server computes the table after start; it is killed once a whole chunk of
        // lists is checkpointed (a watcher thread: the async pool may be busy under a loaded run).
        let checkpoint = "\(data)/shop/serving/precompute/als-main@1.lists"
        let first = try ServerProcess(dataDirectory: data, arguments: ["--config", configPath], waitForServing: false)
        let killedAt = Mutex<Int?>(nil)
        let watcher = Thread {
            let deadline = Date().addingTimeInterval(300)
            while Date() < deadline && first.process.isRunning {
                // A chunk of 256 lists of 1,000 items is about 2 MB: past 3 MB the first chunk is
                // whole (a kill in the middle of a write leaves a torn record, which is dropped).
                if let size = (try? FileManager.default.attributesOfItem(atPath: checkpoint))?[.size] as? Int, size > 3_000_000 {
                    kill(first.process.processIdentifier, SIGKILL)
                    killedAt.withLock { $0 = size }
                    return
                }
                usleep(2000)
            }
        }
        watcher.start()
        first.process.waitUntilExit()
        #expect(killedAt.withLock { $0 } != nil, "the server was killed after the first checkpoint")
        #expect(first.process.terminationReason == .uncaughtSignal)
        let before = first.remainingLog()
        #expect(!before.contains("precomputed recommendations"), "the killed run had not finished: \(before)")

        // The restarted server keeps the checkpointed lists and computes only the rest.
        let second = try ServerProcess(dataDirectory: data, arguments: ["--config", configPath])
        let done = try second.awaitLogLine(containing: "\"msg\":\"precomputed recommendations\"")
        let users = Int(done["users"]?.stringValue ?? "") ?? -1
        let reused = Int(done["reused"]?.stringValue ?? "") ?? -1
        let computed = Int(done["computed"]?.stringValue ?? "") ?? -1
        #expect(reused >= 256, "at least the first checkpointed chunk is kept: \(done)")
        #expect(computed > 0, "the killed run had not finished every user: \(done)")
        #expect(reused + computed == users, "every active user has a list, none computed twice: \(done)")

        // The whole table answers from the cache, the resumed users' lists as well.
        let ids = try String(contentsOfFile: events, encoding: .utf8).split(separator: "\n").prefix(2000).compactMap {
            try? JSONValue.parse(String($0))["user_id"]?.stringValue
        }
        var sources: [String: Int] = [:]
        for user in Set(ids).sorted().prefix(40) {
            let (body, _) = try await URLSession.uncached.data(from: URL(string: "http://127.0.0.1:\(second.port)/v1/recommendations/\(user)?n=10")!)
            sources[try JSONValue.parse(String(decoding: body, as: UTF8.self))["source"]?.stringValue ?? "?", default: 0] += 1
        }
        #expect(sources["cache"] ?? 0 >= 30, "known users answer from the precomputed table: \(sources)")
        #expect(second.stop(signal: SIGTERM) == 0)
    }
}
