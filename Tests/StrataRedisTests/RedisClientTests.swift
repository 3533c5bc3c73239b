import Foundation
import StrataTesting
import Testing

@testable import StrataRedis

/// The RESP client against a real redis-server: binary round trips, pipelining, concurrency
/// over the pool, error replies, timeouts, reconnection after the server dies, pub/sub across
/// a restart, and authentication with a database. Skipped with a message without redis-server.
@Suite(.serialized) struct RedisClientTests {
    func server(_ arguments: [String] = []) throws -> RedisServer? {
        let server = try RedisServer(extraArguments: arguments)
        if server == nil { peerMissing(RedisServer.skipMessage) }
        return server
    }

    @Test func commandsRoundTripBinaryValuesAndPipelines() async throws {
        guard let server = try server() else { return }
        let client = try RedisClient(url: server.url, connections: 2)
        defer { client.close() }
        let every = (0..<256).map(UInt8.init) + Array("\r\n$3\r\n*".utf8)
        try await client.set("k:binary", every)
        #expect(try await client.get("k:binary") == every)
        #expect(try await client.get("k:missing") == nil)
        try await client.set("k:a", [1])
        #expect(try await client.mget(["k:a", "k:missing", "k:binary"]) == [[1], nil, every])
        #expect(try await client.delete(["k:a", "k:missing"]) == 1)
        // An error reply is thrown with the server's message; the connection stays usable.
        try await client.set("k:text", Array("abc".utf8))
        await #expect(throws: RedisError.self) { try await client.command(["INCR", "k:text"]) }
        #expect(try await client.command(["PING"]) == .simpleString("PONG"))
        // A thousand commands in one round trip, replies in order.
        let replies = try await client.pipeline((0..<1000).map { _ in ["INCR", "k:counter"] })
        #expect(replies.map(\.integer) == (1...1000).map { Int64($0) })
        // Expiry.
        try await client.set("k:short", [9], expireMillis: 50)
        try await Task.sleep(for: .milliseconds(150))
        #expect(try await client.get("k:short") == nil)
    }

    @Test func manyTasksShareThePool() async throws {
        guard let server = try server() else { return }
        let client = try RedisClient(url: server.url, connections: 4)
        defer { client.close() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<32 {
                group.addTask {
                    for step in 0..<100 {
                        let key = "t\(task):\(step)"
                        let value = Array("\(task)-\(step)".utf8)
                        try await client.set(key, value)
                        #expect(try await client.get(key) == value)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await client.command(["DBSIZE"]).integer == 3200)
    }

    @Test func aSlowReplyTimesOutAndTheNextCommandReconnects() async throws {
        guard let server = try server() else { return }
        // The server sleeps three times the timeout: the timeout fires however slow this machine is.
        let client = RedisClient(endpoint: try RedisEndpoint(url: server.url), connections: 1, timeout: .seconds(1))
        defer { client.close() }
        await #expect(throws: RedisError.timeout) { try await client.command(["DEBUG", "SLEEP", "3"]) }
        // The same client answers again once the server wakes (each try within its own timeout;
        // the deadline only bounds a hang).
        try await waitUntil("the client to answer PING after the timeout", timeout: .seconds(60)) {
            (try? await client.command(["PING"])) == .simpleString("PONG")
        }
    }

    @Test func theClientReconnectsAfterTheServerDies() async throws {
        guard let server = try server() else { return }
        // Failing fast is checked on a client that keeps failing fast for far longer than the
        // checks take, however slow the machine; reconnecting on one that retries soon.
        let failing = RedisClient(endpoint: try RedisEndpoint(url: server.url), connections: 2, retryAfter: .seconds(600))
        let client = RedisClient(endpoint: try RedisEndpoint(url: server.url), connections: 2, retryAfter: .milliseconds(100))
        defer {
            failing.close()
            client.close()
        }
        try await failing.set("before", [1])
        try await client.set("before", [1])
        server.kill()
        // While it is down, commands fail with a clear error (not a hang, not a crash); once
        // connecting failed, the next commands fail at once instead of trying again each time.
        await #expect(throws: RedisError.self) { try await failing.get("before") }
        await #expect(throws: RedisError.self) { try await failing.get("before") }
        do {
            _ = try await failing.get("before")
            Issue.record("expected an error")
        } catch RedisError.unreachable(let detail) {
            #expect(detail.contains("failed moments ago"))
        }
        await #expect(throws: RedisError.self) { try await client.get("before") }
        try server.start()
        // The data is gone (persistence is off), but the same client works again.
        try await waitUntil("the client to reconnect to the restarted server", timeout: .seconds(60)) {
            (try? await client.command(["PING"])) == .simpleString("PONG")
        }
        try await client.set("after", [2])
        #expect(try await client.get("after") == [2])
    }

    @Test func subscribersGetMessagesAndResubscribeAfterARestart() async throws {
        guard let server = try server() else { return }
        let client = try RedisClient(url: server.url)
        defer { client.close() }
        let events = Collected(client.subscribe(["deployments"]))
        defer { events.cancel() }
        try await events.waitFor(1, "the subscription")
        #expect(events.all == [.subscribed])
        #expect(try await client.publish("deployments", Array("rev 1".utf8)) == 1)
        try await events.waitFor(2, "the first message")
        #expect(events.all.last == .message(channel: "deployments", payload: Array("rev 1".utf8)))
        server.kill()
        try server.start()
        try await events.waitFor(3, "the subscription again after the restart")
        #expect(events.all.last == .subscribed)
        // Until the publishing side has reconnected too: then exactly the one subscriber hears it.
        try await waitUntil("a publish to reach the resubscribed client", timeout: .seconds(60)) {
            let delivered = (try? await client.publish("deployments", Array("rev 2".utf8))) ?? 0
            #expect(delivered <= 1)
            return delivered == 1
        }
        try await events.waitFor(4, "the message after the restart")
        #expect(events.all[3] == .message(channel: "deployments", payload: Array("rev 2".utf8)))
    }

    @Test func deploymentChangesAreAnnouncedToOtherReplicas() async throws {
        guard let server = try server() else { return }
        let one = try RedisClient(url: server.url)
        let two = try RedisClient(url: server.url)
        defer {
            one.close()
            two.close()
        }
        let heard = Collected(RedisDeploymentBus(client: two, namespace: "shop").changes())
        defer { heard.cancel() }
        try await heard.waitFor(1, "the subscription (the bus says to look once)")
        await RedisDeploymentBus(client: one, namespace: "shop").announce()
        try await heard.waitFor(2, "the announcement on the other replica")
        // Another project's announcements are not heard.
        #expect(try await one.publish("strata:blog:deployments", [1]) == 0)
    }

    @Test func passwordAndDatabaseFromTheURL() async throws {
        guard let server = try server(["--requirepass", "s3cret"]) else { return }
        let anonymous = try RedisClient(url: server.url, connections: 1)
        defer { anonymous.close() }
        await #expect(throws: RedisError.self) { try await anonymous.get("x") }
        let wrong = try RedisClient(url: "redis://:nope@127.0.0.1:\(server.port)", connections: 1)
        await #expect(throws: RedisError.self) { try await wrong.command(["PING"]) }
        let db2 = try RedisClient(url: "redis://:s3cret@127.0.0.1:\(server.port)/2", connections: 1)
        defer { db2.close() }
        let db0 = try RedisClient(url: "redis://:s3cret@127.0.0.1:\(server.port)", connections: 1)
        defer { db0.close() }
        try await db2.set("where", [2])
        #expect(try await db2.get("where") == [2])
        #expect(try await db0.get("where") == nil)
    }
}
