import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import StrataCore
import StrataLake
import StrataMetadata
import StrataRegistry
import StrataTesting
import StrataTraining
import Testing

@testable import StrataServer

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Limits that keep one client from hurting the others: a token bucket per API key (429 with
/// Retry-After, the throttling audited once, not per request), idle connections closed, and
/// keys that never reach the logs.
@Suite(.serialized) struct HardeningTests {
    /// The bucket refills by the project's clock, never by how long the machine took: with the
    /// clock frozen, the same requests get the same answers whether they come back to back or
    /// seconds apart in real time (`realPause`), so a loaded machine cannot flip the outcome.
    @Test(arguments: [Duration.zero, .seconds(3)])
    func eachKeyIsRateLimitedWithRetryAfter(realPause: Duration) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var config = Fixtures.config
        config.server.rateLimitPerSecond = 0.2  // one token every 5 s of the clock
        config.server.rateLimitBurst = 5
        let clock = ManualClock(1_800_000_000_000)
        let lake = try Fixtures.lake(directory, config: config, clock: clock)
        let store = try await MetadataStore.open(url: "sqlite:", defaultSQLitePath: directory.file("metadata.sqlite"), logger: quietLogger)
        let audit = AuditLog(store: store)
        let keys = try await APIKeys(store: store)
        let registry = ModelRegistry(store: store, audit: audit)
        let blobs = FileBlobStore(root: directory.file("blobs"))
        let trainer = Trainer(
            runs: RunStore(store: store), blobs: blobs, registry: registry, audit: audit, directory: lake.directory, config: config, codeVersion: "git:test",
            threads: 1)
        let server = StrataHTTPServer(
            lake: lake, config: config, governance: RegistryServices(keys: keys, audit: audit, registry: registry, trainer: trainer, blobs: blobs, models: []),
            logger: quietLogger)
        let (busy, busyRecord) = try await keys.create(name: "busy", roles: [.scientist], by: "test")
        let (calm, _) = try await keys.create(name: "calm", roles: [.scientist], by: "test")
        try await Application(router: server.router()).test(.router) { client in
            var retryAfter: [String] = []
            var codes: [JSONValue] = []
            func get(_ key: String) async throws -> HTTPResponse.Status {
                try await client.execute(uri: "/v1/lake", method: .get, headers: [.authorization: "Bearer \(key)"]) { response throws in
                    if response.status == .tooManyRequests {
                        retryAfter.append(response.headers[.retryAfter] ?? "")
                        codes.append(try JSONValue.parse(String(buffer: response.body))["error"]?["code"] ?? .null)
                    }
                    return response.status
                }
            }
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<9 {
                statuses.append(try await get(busy))
                try await Task.sleep(for: realPause)
            }
            // The burst passes; every later request is refused until the clock moves.
            #expect(statuses == Array(repeating: .ok, count: 5) + Array(repeating: .tooManyRequests, count: 4), "\(statuses)")
            #expect(retryAfter == Array(repeating: "5", count: 4), "Retry-After names the seconds until the next token")
            #expect(codes.allSatisfy { $0 == "rate_limited" })
            // Another key has its own bucket.
            #expect(try await get(calm) == .ok)
            // After the wait it named, exactly one token is back.
            clock.advance(4_999)
            #expect(try await get(busy) == .tooManyRequests)
            #expect(retryAfter.last == "1", "a millisecond short: retry in (rounded up) 1 s")
            clock.advance(1)
            #expect(try await get(busy) == .ok)
            #expect(try await get(busy) == .tooManyRequests)
            // A long quiet spell refills the burst, never more.
            clock.advance(3_600_000)
            for _ in 0..<5 { #expect(try await get(busy) == .ok) }
            #expect(try await get(busy) == .tooManyRequests)
        }
        try await audit.flush()
        let throttled = try await audit.list(limit: 1000).filter { $0.detail == "rate limited" }
        // Refusals within 10 s of the clock share one entry; the refusal an hour later has its own.
        #expect(throttled.count == 2, "the throttling is audited once per 10 s, not per refused request: \(throttled.count)")
        #expect(throttled.allSatisfy { $0.principal.contains(busyRecord.id) })
        await store.close()
        await lake.close()
    }

    /// The bucket's arithmetic on its own: refill by elapsed clock time, capped at the burst;
    /// a clock that steps back refills nothing.
    @Test func tokenBucketArithmetic() {
        let clock = ManualClock(0)
        let limiter = RateLimiter(rate: 2, burst: 3, clock: clock)
        #expect((0..<3).map { _ in limiter.take("k") } == [nil, nil, nil])
        #expect(limiter.take("k") == 0.5, "empty: half a second until the next token at 2/s")
        clock.advance(250)
        #expect(limiter.take("k") == 0.25)
        clock.advance(250)
        #expect(limiter.take("k") == nil)
        clock.advance(-60_000)
        #expect(limiter.take("k") != nil, "a clock stepped back gives no tokens")
        clock.advance(60_000 + 10_000)
        #expect((0..<4).map { _ in limiter.take("k") == nil } == [true, true, true, false], "refilled to the burst, not beyond")
        #expect(RateLimiter(rate: 0, burst: 1, clock: clock).take("k") == nil, "rate 0 is no limit")
        let log = ThrottleLog(clock: clock)
        #expect(log.shouldRecord("k"))
        clock.advance(9_999)
        #expect(!log.shouldRecord("k"))
        #expect(log.shouldRecord("other"))
        clock.advance(1)
        #expect(log.shouldRecord("k"))
    }

    @Test func idleAndHalfSentRequestsAreClosed() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let configPath = directory.file("strata.yaml")
        try ExampleConfig.yaml.replacingOccurrences(of: "idle_timeout: 30s", with: "idle_timeout: 1s").write(
            toFile: configPath, atomically: true, encoding: .utf8)
        let server = try ServerProcess(dataDirectory: directory.file("data"), arguments: ["--config", configPath])
        defer { server.stop(signal: SIGTERM) }
        // A slow-loris client: half a request line and headers, then nothing. The time is taken
        // before connecting, so the server cannot close sooner than idle_timeout after it, however
        // late this thread runs; the upper bound only has to tell 1 s from the default 30 s.
        let start = Date()
        let socket = try LocalPorts.connect(port: server.port)
        defer { close(socket) }
        _ = "GET /healthz HTTP/1.1\r\nHost: x\r\n".withCString { write(socket, $0, strlen($0)) }
        var buffer = [UInt8](repeating: 0, count: 512)
        var timeout = timeval(tv_sec: 25, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var read = 1
        while read > 0 { read = recv(socket, &buffer, buffer.count, 0) }
        let elapsed = Date().timeIntervalSince(start)
        #expect(read == 0, "the server closed the connection (recv returned \(read))")
        #expect(elapsed > 0.9 && elapsed < 20, "closed after \(elapsed) s with idle_timeout 1s (the default is 30s)")
        // The server still answers others.
        let (_, response) = try await URLSession.uncached.data(from: URL(string: "http://127.0.0.1:\(server.port)/healthz")!)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
    }

    @Test func keysNeverReachTheLogs() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let data = directory.file("data")
        let created = try runProcess(ServerProcess.binary, ["keys", "create", "--name", "ops", "--roles", "admin", "--data-dir", data])
        let key = created.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(key.hasPrefix("strata_"), "\(created.errors)")
        let server = try ServerProcess(dataDirectory: data, authenticate: true, environment: ["STRATA_LOG_LEVEL": "debug"])
        for presented in [key, key + "x", String(key.dropLast())] {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(server.port)/v1/lake")!)
            request.setValue("Bearer \(presented)", forHTTPHeaderField: "Authorization")
            _ = try await URLSession.uncached.data(for: request)
            var other = URLRequest(url: URL(string: "http://127.0.0.1:\(server.port)/v1/keys")!)
            other.setValue(presented, forHTTPHeaderField: "X-API-Key")
            _ = try await URLSession.uncached.data(for: other)
        }
        server.stop(signal: SIGTERM)
        let log = server.startupLog + server.remainingLog()
        #expect(log.contains("\"path\":\"/v1/lake\""), "requests are logged at debug level")
        let secret = String(key.dropFirst("strata_".count).prefix(12))
        #expect(!log.contains(secret), "an API key appeared in the log")
    }
}

/// TLS terminated at nginx in front of `strata serve`, as deploy/nginx documents: a client that
/// trusts the certificate talks HTTPS end to end (keys and events over TLS), one that does not
/// is refused, and plain HTTP to the TLS port fails.
@Suite(.serialized) struct TLSTests {
    @Test func clientsReachStrataOverTLSThroughNginx() async throws {
        guard executableInPath("nginx") != nil, let curl = executableInPath("curl"), let openssl = executableInPath("openssl") else {
            peerMissing("SKIPPED (TLS): needs nginx, curl and openssl (scripts/install-deps.sh --with-test-peers)")
            return
        }
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (certificate, key) = (directory.file("cert.pem"), directory.file("key.pem"))
        let made = try runProcess(
            openssl,
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "1", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ])
        #expect(made.status == 0, "\(made.errors)")
        let server = try ServerProcess(dataDirectory: directory.file("data"))
        defer { server.stop(signal: SIGTERM) }
        let nginx = try #require(try NginxServer(upstreams: [server.port], tls: (certificate, key)))
        let url = "https://127.0.0.1:\(nginx.port)"
        let event = #"{"type":"view","user_id":"u1","item_id":"i1","timestamp":\#(SystemClock().nowMillis())}"#
        let trusted = try runProcess(
            curl,
            [
                "-sS", "--cacert", certificate, "-X", "POST", "-H", "Content-Type: application/json", "--data", event, "-w",
                "\n%{http_code} %{ssl_verify_result}", "\(url)/v1/events",
            ])
        #expect(trusted.output.hasSuffix("202 0"), "\(trusted.output) \(trusted.errors)")
        let health = try runProcess(curl, ["-sS", "--cacert", certificate, "\(url)/healthz"])
        #expect(health.output.contains("\"ok\""))
        // Without trusting the certificate, the client refuses; plain HTTP on the TLS port fails.
        #expect(try runProcess(curl, ["-sS", "\(url)/healthz"]).status != 0)
        let plain = try runProcess(curl, ["-sS", "-w", "%{http_code}", "http://127.0.0.1:\(nginx.port)/healthz"])
        #expect(!plain.output.hasSuffix("200"))
    }
}
