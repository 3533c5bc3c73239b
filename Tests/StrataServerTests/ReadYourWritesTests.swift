import Foundation
import StrataCore
import StrataLake
import StrataRegistry
import StrataTesting
import StrataTraining
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Read-your-writes in a real `strata serve`: once `POST /v1/events` has acknowledged a user's
/// click, that user's next recommendation is never the list precomputed before it, and never
/// holds the clicked item — while other clients ingest batches and ask for recommendations.
@Suite(.serialized) struct ReadYourWritesTests {
    /// A data folder with generated history of 1,200 users, a snapshot, and an ALS version of
    /// `als-main` in production (so each trained user has a precomputed list to go stale).
    static func prepare(_ directory: TemporaryDirectory) async throws -> (config: String, data: String, users: [String]) {
        let configPath = directory.file("strata.yaml")
        try ExampleConfig.yaml.replacingOccurrences(of: "precompute_interval: 1h", with: "precompute_interval: off").write(
            toFile: configPath, atomically: true, encoding: .utf8)
        let config = try StrataConfig.load(path: configPath)
        let data = directory.file("data")
        let lake = try Lake(config: config, dataDirectory: data, logger: quietLogger)
        var generatorConfig = GeneratorConfig(endMillis: SystemClock().nowMillis())
        generatorConfig.seed = 17
        generatorConfig.users = 1200
        generatorConfig.items = 400
        generatorConfig.days = 3
        generatorConfig.sessionsPerUserPerDay = 2
        var generator = SyntheticGenerator(contract: config.contract, config: generatorConfig)
        let history = generator.history()
        for chunk in stride(from: 0, to: history.count, by: 10_000) {
            _ = try await lake.ingestor.ingest(events: Array(history[chunk..<min(chunk + 10_000, history.count)]), source: "test", allowLate: true)
        }
        _ = try await lake.maintain(force: true)
        _ = try await lake.compactor.snapshot()
        await lake.close()
        let (store, audit, registry, trainer) = try await SwapUnderLoadTests.openTraining(config: config, data: data)
        let spec = try ModelSpec(name: "als-main", algorithm: .als, parameters: ["factors": 16, "iterations": 3])
        let outcome = try await trainer.train(TrainingRequest(spec: spec, principal: Principal(id: "sci", name: "sam", roles: [.scientist])))
        let approver = Principal(id: "apr", name: "ann", roles: [.approver])
        _ = try await registry.approve(outcome.version!.reference, reason: "test", by: approver)
        _ = try await registry.promote(outcome.version!.reference, by: approver)
        try await audit.flush()
        await store.close()
        let positive = Set(config.training.interactions.weights.keys).subtracting(config.training.interactions.negativeTypes)
        let users = Set(history.filter { positive.contains($0.type) }.compactMap(\.userID)).sorted()
        return (configPath, data, users)
    }

    @Test func aClickIsReflectedInTheNextAnswerUnderConcurrentLoad() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (config, data, users) = try await Self.prepare(directory)
        #expect(users.count >= 1000, "\(users.count) trained users")
        let server = try ServerProcess(dataDirectory: data, arguments: ["--config", config])
        defer { server.stop(signal: SIGTERM) }
        let base = "http://127.0.0.1:\(server.port)"
        let session = URLSession(configuration: .uncached)
        @Sendable func recommend(_ user: String) async throws -> (source: String, items: [String]) {
            var request = URLRequest(url: URL(string: "\(base)/v1/recommendations/\(user)?n=10")!)
            request.timeoutInterval = 120
            let (body, response) = try await session.data(for: request)
            #expect((response as? HTTPURLResponse)?.statusCode == 200)
            let json = try JSONValue.parse(String(decoding: body, as: UTF8.self))
            return (json["source"]?.stringValue ?? "", json["items"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? [])
        }
        /// POSTs NDJSON, or one JSON event (answered 202).
        @Sendable func post(_ body: String, single: Bool = false) async throws -> Int {
            var request = URLRequest(url: URL(string: "\(base)/v1/events")!)
            request.httpMethod = "POST"
            request.setValue(single ? "application/json" : "application/x-ndjson", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(body.utf8)
            request.timeoutInterval = 120
            let (_, response) = try await session.data(for: request)
            return (response as? HTTPURLResponse)?.statusCode ?? 0
        }
        // The batch job has written every trained user's list.
        try await waitUntil("the precomputed table", timeout: .seconds(300)) { try await recommend(users[0]).source == "cache" }

        // Other clients: two ingest batches of bystanders' views, two ask for recommendations.
        // Cancelled at the end: the clients stop after their request in flight.
        let background = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for client in 0..<4 {
                    group.addTask {
                        var round = 0
                        while !Task.isCancelled {
                            round += 1
                            if client < 2 {
                                let now = SystemClock().nowMillis()
                                let lines = (0..<50).map { index in
                                    #"{"type":"view","user_id":"bystander-\#(client)-\#(index)","item_id":"i\#((round * 7 + index) % 400)","timestamp":\#(now)}"#
                                }
                                let status = try? await post(lines.joined(separator: "\n"))
                                if !Task.isCancelled { #expect(status == 200) }
                            } else {
                                _ = try? await recommend(users[(round * 31 + client) % users.count])
                            }
                            // Paced (each client up to 20 requests a second; the ingesting ones
                            // 1,000 events a second): load enough to keep the log's tails busy,
                            // without taking the cores the rest of the test run shares.
                            try? await Task.sleep(for: .milliseconds(50))
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        var stale: [String] = []
        var cachedBefore = 0
        let pairs = users.prefix(1000)
        for (index, user) in pairs.enumerated() {
            if try await recommend(user).source == "cache" { cachedBefore += 1 }
            let item = "i\((index * 13) % 400)"
            let now = SystemClock().nowMillis()
            #expect(try await post(#"{"type":"click","user_id":"\#(user)","item_id":"\#(item)","timestamp":\#(now)}"#, single: true) == 202)
            let after = try await recommend(user)
            if after.source == "cache" || after.items.contains(item) { stale.append("\(user): \(after.source) \(after.items)") }
        }
        background.cancel()
        _ = await background.result
        // The check means something: the users had fresh precomputed lists before their click.
        #expect(cachedBefore >= 900, "only \(cachedBefore) of \(pairs.count) users were answered from the cache before their click")
        #expect(stale.isEmpty, "\(stale.count) of \(pairs.count) answers predate the click: \(stale.prefix(3))")
        print("read-your-writes: \(pairs.count) click→get pairs under concurrent load, \(cachedBefore) cached before the click, \(stale.count) stale after")
    }
}
