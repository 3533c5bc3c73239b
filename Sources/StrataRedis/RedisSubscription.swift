import NIOCore

/// What a subscription delivers.
public enum RedisPubSubEvent: Sendable, Equatable {
    /// The subscription is (again) in place: messages published while it was not were missed,
    /// so a consumer should re-read the state the messages announce.
    case subscribed
    case message(channel: String, payload: [UInt8])
}

extension RedisClient {
    /// Messages on `channels`, on a connection of their own, resubscribing after a lost
    /// connection (with backoff) until the stream's consumer stops.
    public func subscribe(_ channels: [String]) -> AsyncStream<RedisPubSubEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: RedisPubSubEvent.self, bufferingPolicy: .bufferingNewest(10_000))
        let task = Task {
            var delay = Duration.milliseconds(50)
            while !Task.isCancelled {
                do {
                    let connection = try await connect { push in
                        guard let items = push.array, items.count == 3, let channel = items[1].string, let payload = items[2].bytes else { return }
                        continuation.yield(.message(channel: channel, payload: payload))
                    }
                    defer { connection.close() }
                    let replies = try await connection.send([[.text("SUBSCRIBE")] + channels.map(RESPArgument.text)], replies: channels.count)
                    for reply in replies { try reply.check() }
                    continuation.yield(.subscribed)
                    delay = .milliseconds(50)
                    // Wait for the connection to end (or the consumer to stop, which closes it).
                    try await withTaskCancellationHandler {
                        try await connection.channel.closeFuture.get()
                    } onCancel: {
                        connection.close()
                    }
                } catch is CancellationError {
                    return
                } catch {
                    // Reconnect below.
                }
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(2))
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}
