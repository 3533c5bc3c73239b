import NIOCore
import NIOPosix

/// Matches replies to commands in order (Redis answers a connection's commands in the order it
/// received them), and hands pub/sub pushes to a callback. Its state is touched only on the
/// channel's event loop (hence `@unchecked Sendable`).
final class RESPReplyHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = RESPValue

    private var pending = CircularBuffer<EventLoopPromise<RESPValue>>()
    private var closed = false
    /// Set on subscriber connections: `message` pushes go here instead of to a command.
    let onPush: (@Sendable (RESPValue) -> Void)?

    init(onPush: (@Sendable (RESPValue) -> Void)? = nil) {
        self.onPush = onPush
    }

    /// Queues the promises of commands about to be written (on the event loop, before the write).
    func enqueue(_ promises: [EventLoopPromise<RESPValue>]) -> Bool {
        guard !closed else {
            for promise in promises { promise.fail(RedisError.connectionLost) }
            return false
        }
        pending.append(contentsOf: promises)
        return true
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        if let onPush, case .array(let items?) = value, items.first?.string == "message" {
            onPush(value)
            return
        }
        guard let promise = pending.popFirst() else {
            // A reply nobody asked for: the stream is out of step; close rather than misattribute.
            context.close(promise: nil)
            return
        }
        promise.succeed(value)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(RedisError.connectionLost)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        failAll(error as? RedisError ?? .connectionLost)
        context.close(promise: nil)
    }

    /// Fails everything in flight and refuses what comes after.
    func failAll(_ error: RedisError) {
        closed = true
        while let promise = pending.popFirst() { promise.fail(error) }
    }
}

/// One TCP connection to Redis. Commands may be pipelined: a batch is written with one flush
/// and its replies awaited together. A command without a reply within `timeout` closes the
/// connection (every later reply would otherwise be matched to the wrong command).
public final class RedisConnection: Sendable {
    let channel: any Channel
    let handler: RESPReplyHandler
    let timeout: TimeAmount

    init(channel: any Channel, handler: RESPReplyHandler, timeout: TimeAmount) {
        self.channel = channel
        self.handler = handler
        self.timeout = timeout
    }

    /// Connects, then authenticates and selects the database the endpoint names.
    static func connect(
        to endpoint: RedisEndpoint, timeout: TimeAmount, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        onPush: (@Sendable (RESPValue) -> Void)? = nil
    ) async throws -> RedisConnection {
        let handler = RESPReplyHandler(onPush: onPush)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPDecoder()))
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
                .connect(host: endpoint.host, port: endpoint.port).get()
        } catch {
            throw RedisError.unreachable("\(endpoint.host):\(endpoint.port): \(error)")
        }
        let connection = RedisConnection(channel: channel, handler: handler, timeout: timeout)
        do {
            if let password = endpoint.password {
                try await connection.send(endpoint.user.map { ["AUTH", .text($0), .text(password)] } ?? ["AUTH", .text(password)]).check()
            }
            if endpoint.database != 0 { try await connection.send(["SELECT", .text(String(endpoint.database))]).check() }
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    public var isActive: Bool { channel.isActive }

    /// One command and its reply (an error reply is returned as `.error`, not thrown).
    public func send(_ command: [RESPArgument]) async throws -> RESPValue {
        try await pipeline([command])[0]
    }

    /// Several commands in one write; their replies in order.
    public func pipeline(_ commands: [[RESPArgument]]) async throws -> [RESPValue] {
        try await send(commands, replies: commands.count)
    }

    /// Writes `commands` and awaits `replies` replies (SUBSCRIBE answers once per channel).
    func send(_ commands: [[RESPArgument]], replies: Int) async throws -> [RESPValue] {
        guard !commands.isEmpty else { return [] }
        let loop = channel.eventLoop
        var buffer = channel.allocator.buffer(capacity: commands.reduce(0) { $0 + 16 + $1.reduce(0) { $0 + $1.count + 16 } })
        for command in commands { RESPEncoder.encode(command, into: &buffer) }
        let promises = (0..<replies).map { _ in loop.makePromise(of: RESPValue.self) }
        let handler = self.handler
        let channel = self.channel
        let timeout = self.timeout
        loop.execute {
            guard handler.enqueue(promises) else { return }
            channel.writeAndFlush(buffer, promise: nil)
            guard let last = promises.last else { return }
            let timer = loop.scheduleTask(in: timeout) {
                handler.failAll(.timeout)
                channel.close(promise: nil)
            }
            last.futureResult.whenComplete { _ in timer.cancel() }
        }
        var values: [RESPValue] = []
        values.reserveCapacity(replies)
        for promise in promises { values.append(try await promise.futureResult.get()) }
        return values
    }

    public func close() {
        channel.close(promise: nil)
    }
}

extension RESPValue {
    /// The value, or the server's error reply thrown.
    @discardableResult
    public func check() throws -> RESPValue {
        if case .error(let message) = self { throw RedisError.server(message) }
        return self
    }
}
