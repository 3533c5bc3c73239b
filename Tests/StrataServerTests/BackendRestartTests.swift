import Foundation
import StrataCore
import StrataTesting
import StrataTraining
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A real `strata serve` over a PostgreSQL and a Redis of its own, under steady load, while each
/// backend is killed and brought back: recommendations never fail (Redis gone: answered live;
/// PostgreSQL gone: served models stay), metadata requests answer a clear 503 while PostgreSQL is
/// down, and the process reconnects to both by itself. Skipped with a message without them.
@Suite(.serialized) struct BackendRestartTests {
    @Test func servingSurvivesRedisAndPostgresRestarts() async throws {
        guard (try? runProcess("/bin/sh", ["-c", "ls /usr/lib/postgresql/*/bin/initdb"]))?.status == 0 else {
            peerMissing("SKIPPED (PostgreSQL): install Debian's postgresql (scripts/start-postgres.sh does) to run the backend restart test")
            return
        }
        guard let redis = try RedisServer() else {
            peerMissing(RedisServer.skipMessage)
            return
        }
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let scripts = OpenAPITests.root.appendingPathComponent("scripts").path
        let postgres = ["STRATA_TEST_POSTGRES_PORT": String(LocalPorts.free()), "STRATA_TEST_POSTGRES_DIR": directory.file("postgres")]
        // The script starts a daemon, which must not inherit any pipe of this process (it would
        // hold them open, and whoever reads them would wait forever): every descriptor above 2 is
        // closed first, the output goes to /dev/null, and the URL is known from the port.
        let shell = { (script: String) throws -> Int32 in
            let environment = postgres.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            let closeInherited = #"for fd in /proc/$$/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-" 2>/dev/null; done; "#
            return try runProcess("/bin/bash", ["-c", closeInherited + "\(environment) \(scripts)/\(script) >/dev/null 2>&1 </dev/null"]).status
        }
        if FileManager.default.fileExists(atPath: directory.file("postgres")) == false {
            try FileManager.default.createDirectory(atPath: directory.file("postgres"), withIntermediateDirectories: true)
            _ = try runProcess("/usr/bin/env", ["chmod", "777", directory.path])
        }
        #expect(try shell("start-postgres.sh") == 0)
        let metadataURL = "postgres://strata:strata@127.0.0.1:\(postgres["STRATA_TEST_POSTGRES_PORT"]!)/strata_test"
        defer { _ = try? shell("stop-postgres.sh") }

        let (configPath, _, data, users) = try await MultiReplicaTests.trainedProject(
            directory, metadataURL: metadataURL, blobs: FileBlobStore(root: "\(directory.file("worker"))/shop/blobs"))
        let server = try ServerProcess(
            dataDirectory: data, arguments: ["--config", configPath], environment: ["STRATA_METADATA_URL": metadataURL, "STRATA_ONLINE_URL": redis.url])
        defer { server.stop(signal: SIGTERM) }
        let base = "http://127.0.0.1:\(server.port)"
        let configuration = URLSessionConfiguration.uncached
        configuration.timeoutIntervalForRequest = 120  // a slow answer on a busy machine is not a failed one
        let session = URLSession(configuration: configuration)
        let get: @Sendable (String) async -> (Int, JSONValue?) = { path in
            guard let (body, response) = try? await session.data(from: URL(string: base + path)!) else { return (0, nil) }
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, try? JSONValue.parse(String(decoding: body, as: UTF8.self)))
        }
        // Each wait below only bounds a hang: a machine busy with other work may take minutes.
        try await waitUntil("the batch job to fill the cache in Redis", timeout: .seconds(300)) {
            await get("/v1/recommendations/\(users[0])?n=5").1?["source"] == "cache"
        }

        // Steady load: recommendations for random users.
        let tally = MultiReplicaTests.Load()
        // However the test ends, the load stops (it would spin on against a stopped server).
        defer { tally.state.withLock { $0.running = false } }
        let served = { @Sendable in tally.state.withLock { $0.recommendations } }
        // Waits until the load has had `count` more recommendations answered, so that each phase
        // is proven under load (by counting, not by pausing for a while).
        func moreServed(_ count: Int, _ phase: String) async throws {
            let start = served()
            try await waitUntil("\(count) recommendations \(phase)", timeout: .seconds(300)) { served() >= start + count }
        }
        let load = Task {
            await withTaskGroup(of: Void.self) { group in
                for client in 0..<3 {
                    group.addTask {
                        var rng = SplitMix64(seed: UInt64(client) + 7)
                        while tally.running {
                            let (status, _) = await get("/v1/recommendations/\(users[rng.nextInt(below: users.count)])?n=5")
                            tally.state.withLock {
                                $0.recommendations += 1
                                if status != 200 { $0.failures.append("recommendation: \(status)") }
                            }
                        }
                    }
                }
            }
        }
        try await moreServed(10, "before anything is killed")

        // Redis dies: answers come live; it comes back empty: the batch job refills it.
        redis.kill()
        try await waitUntil("an answer computed live while Redis is down", timeout: .seconds(300)) {
            await get("/v1/recommendations/\(users[1])?n=5").1?["source"] == "live"
        }
        try await moreServed(10, "while Redis is down")
        try redis.start()
        // The batch job writes the table again once the client has reconnected (the first try
        // may still fall in its half second of failing fast).
        try await waitUntil("the server to reconnect to Redis and refill the cache", timeout: .seconds(300)) {
            _ = try? await ServerProcessRequests.post(base + "/v1/deployments/default/precompute", session: session)
            return await get("/v1/recommendations/\(users[2])?n=5").1?["source"] == "cache"
        }

        // PostgreSQL dies: metadata answers a clear 503, serving goes on; it comes back: reconnected.
        #expect(try shell("stop-postgres.sh") == 0)
        let (status, answer) = await get("/v1/models")
        #expect(status == 503, "metadata while PostgreSQL is down: \(status)")
        #expect(answer?["error"]?["code"] == "metadata_unavailable", "\(answer?.serialized ?? "")")
        try await moreServed(10, "while PostgreSQL is down")
        #expect(try shell("start-postgres.sh") == 0)
        try await waitUntil("the server to reconnect to PostgreSQL", timeout: .seconds(300)) { await get("/v1/models").0 == 200 }
        tally.state.withLock { $0.running = false }
        await load.value
        let (count, failed) = tally.state.withLock { ($0.recommendations, $0.failures) }
        #expect(count > 20, "only \(count) recommendations")
        #expect(failed.isEmpty, "\(failed.count) of \(count) recommendations failed: \(failed.prefix(5))")
        print("backend restarts: \(count) recommendations, \(failed.count) failed, through a Redis kill and a PostgreSQL crash")
    }
}

enum ServerProcessRequests {
    static func post(_ url: String, session: URLSession) async throws -> Int {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data("{}".utf8)
        let (_, response) = try await session.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }
}
