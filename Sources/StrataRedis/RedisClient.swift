import NIOCore
import NIOPosix
import Synchronization

/// A pool of connections to one Redis server. Each command goes to the next connection in
/// turn (pipelining keeps each busy); a connection found closed is replaced on the next use,
/// so the client reconnects by itself after a server restart. Connecting retries with backoff;
/// once that failed, commands fail at once for `retryAfter` (a request path that degrades
/// without Redis must not wait out the connect attempts on every call).
public final class RedisClient: Sendable {
    public let endpoint: RedisEndpoint
    let timeout: TimeAmount
    let connectAttempts: Int
    private let slots: Mutex<[RedisConnection?]>
    let size: Int
    private let next = Atomic<Int>(0)
    /// Until when commands fail fast (set when connecting failed).
    private let failFastUntil = Mutex<ContinuousClock.Instant?>(nil)
    let retryAfter: Duration

    /// `connections`: the pool's size; `timeout`: for connecting and for each reply.
    public init(
        endpoint: RedisEndpoint, connections: Int = 4, timeout: Duration = .seconds(2), connectAttempts: Int = 3, retryAfter: Duration = .milliseconds(500)
    ) {
        self.retryAfter = retryAfter
        self.endpoint = endpoint
        let (seconds, attoseconds) = timeout.components
        self.timeout = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        self.connectAttempts = max(1, connectAttempts)
        self.size = max(1, connections)
        self.slots = Mutex(Array(repeating: nil, count: max(1, connections)))
    }

    public convenience init(url: String, connections: Int = 4, timeout: Duration = .seconds(2)) throws {
        self.init(endpoint: try RedisEndpoint(url: url), connections: connections, timeout: timeout)
    }

    /// A live connection of the pool (connecting or reconnecting its slot as needed).
    func connection() async throws -> RedisConnection {
        let index = next.wrappingAdd(1, ordering: .relaxed).oldValue % size
        if let live = slots.withLock({ $0[index] }), live.isActive { return live }
        if let until = failFastUntil.withLock({ $0 }), ContinuousClock.now < until {
            throw RedisError.unreachable("\(endpoint.host):\(endpoint.port) (failed moments ago; retrying shortly)")
        }
        let fresh: RedisConnection
        do {
            fresh = try await connect()
        } catch {
            failFastUntil.withLock { $0 = .now + retryAfter }
            throw error
        }
        // Another task may have filled the slot meanwhile: keep one, close the other.
        let kept = slots.withLock { slots -> RedisConnection in
            if let existing = slots[index], existing.isActive { return existing }
            slots[index] = fresh
            return fresh
        }
        if kept !== fresh { fresh.close() }
        return kept
    }

    /// Connects with exponential backoff (50 ms, 100 ms, ...) between attempts.
    func connect(onPush: (@Sendable (RESPValue) -> Void)? = nil) async throws -> RedisConnection {
        var delay = Duration.milliseconds(50)
        var lastError: any Error = RedisError.unreachable("\(endpoint.host):\(endpoint.port)")
        for attempt in 0..<connectAttempts {
            if attempt > 0 {
                try await Task.sleep(for: delay)
                delay *= 2
            }
            do {
                return try await RedisConnection.connect(to: endpoint, timeout: timeout, onPush: onPush)
            } catch let error as RedisError {
                // A wrong password or database will not get better by retrying.
                if case .server = error { throw error }
                lastError = error
            }
        }
        throw lastError
    }

    /// One command; an error reply is thrown as `RedisError.server`.
    @discardableResult
    public func command(_ arguments: [RESPArgument]) async throws -> RESPValue {
        try await connection().send(arguments).check()
    }

    /// Commands in one round trip; their replies in order (error replies are returned, not thrown,
    /// so one failing command does not hide the others' results).
    public func pipeline(_ commands: [[RESPArgument]]) async throws -> [RESPValue] {
        try await connection().pipeline(commands)
    }

    public func get(_ key: String) async throws -> [UInt8]? {
        try await command(["GET", .text(key)]).bytes
    }

    /// Values of many keys in one round trip (nil where a key is missing).
    public func mget(_ keys: [String]) async throws -> [[UInt8]?] {
        guard !keys.isEmpty else { return [] }
        let reply = try await command([.text("MGET")] + keys.map(RESPArgument.text))
        return (reply.array ?? []).map(\.bytes)
    }

    /// Sets a value, with an expiry when given.
    public func set(_ key: String, _ value: [UInt8], expireMillis: Int64? = nil) async throws {
        var arguments: [RESPArgument] = ["SET", .text(key), .bytes(value)]
        if let expireMillis { arguments += ["PX", .text(String(expireMillis))] }
        try await command(arguments)
    }

    /// Deletes keys; returns how many existed.
    @discardableResult
    public func delete(_ keys: [String]) async throws -> Int {
        guard !keys.isEmpty else { return 0 }
        return Int(try await command([.text("DEL")] + keys.map(RESPArgument.text)).integer ?? 0)
    }

    /// Publishes a message; returns how many subscribers received it.
    @discardableResult
    public func publish(_ channel: String, _ message: [UInt8]) async throws -> Int {
        Int(try await command(["PUBLISH", .text(channel), .bytes(message)]).integer ?? 0)
    }

    /// Closes every pooled connection (later commands reconnect).
    public func close() {
        for connection in slots.withLock({ $0 }) { connection?.close() }
    }
}
