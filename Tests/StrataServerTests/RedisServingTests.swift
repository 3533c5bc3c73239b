import Foundation
import StrataCore
import StrataTesting
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `strata serve` with its recommendation cache in a real Redis (`STRATA_ONLINE_URL`): the
/// batch job's table lands there under the project's namespace, known users are answered from
/// it, and a restarted server answers from the table already in Redis. Skipped with a message
/// without redis-server.
@Suite(.serialized) struct RedisServingTests {
    @Test func theServerServesFromACacheInRedis() async throws {
        guard let redis = try RedisServer() else {
            peerMissing(RedisServer.skipMessage)
            return
        }
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (config, data, users) = try await SwapUnderLoadTests.prepare(directory)
        func answer(_ server: ServerProcess, _ user: String) async throws -> JSONValue {
            let (body, _) = try await URLSession.uncached.data(from: URL(string: "http://127.0.0.1:\(server.port)/v1/recommendations/\(user)?n=5")!)
            return try JSONValue.parse(String(decoding: body, as: UTF8.self))
        }
        @Sendable func cachedUsers(_ server: ServerProcess) async throws -> Int64? {
            let (body, _) = try await URLSession.uncached.data(from: URL(string: "http://127.0.0.1:\(server.port)/v1/deployments/default")!)
            return try JSONValue.parse(String(decoding: body, as: UTF8.self))["variants"]?.arrayValue?.first?["cache"]?["users"]?.intValue
        }
        var server = try ServerProcess(dataDirectory: data, arguments: ["--config", config], environment: ["STRATA_ONLINE_URL": redis.url])
        let first = server
        // The limit only bounds a hang: the batch job may take minutes on a busy machine.
        try await waitUntil("the batch job to write its table", timeout: .seconds(300)) { try await cachedUsers(first) != nil }
        let cached = try await cachedUsers(server)
        #expect((cached ?? 0) > 0, "the batch job wrote no table")
        #expect(try await answer(server, users[0])["source"] == "cache")
        // The table is in Redis, under the project's namespace.
        let keys = try runProcess("/usr/bin/env", ["redis-cli", "-p", String(redis.port), "--scan", "--pattern", "strata:shop:rec:*"]).output
            .split(separator: "\n")
        #expect(Int64(keys.count) == cached)
        // A restart finds the table in Redis and answers from it at once.
        server.stop(signal: SIGTERM)
        server = try ServerProcess(dataDirectory: data, arguments: ["--config", config], environment: ["STRATA_ONLINE_URL": redis.url])
        defer { server.stop(signal: SIGTERM) }
        #expect(try await answer(server, users[1])["source"] == "cache")
        #expect(try await cachedUsers(server) == cached)
    }
}
