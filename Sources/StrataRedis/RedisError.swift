/// What can go wrong talking to Redis.
public enum RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server answered with an error reply (wrong type, unknown command, auth...).
    case server(String)
    /// The connection could not be made (after the configured attempts).
    case unreachable(String)
    /// The connection closed with commands in flight; they may or may not have run.
    case connectionLost
    /// No reply within the timeout; the connection was closed (later replies would be misread).
    case timeout
    /// The server sent bytes that are not RESP.
    case protocolViolation(String)
    /// The URL is not `redis://[user:password@]host[:port][/db]`.
    case invalidURL(String)

    public var description: String {
        switch self {
        case .server(let message): "redis: \(message)"
        case .unreachable(let detail): "redis unreachable: \(detail)"
        case .connectionLost: "redis: the connection closed before the reply"
        case .timeout: "redis: no reply within the timeout"
        case .protocolViolation(let detail): "redis protocol violation: \(detail)"
        case .invalidURL(let url): "not a redis URL (redis://[user:password@]host[:port][/db]): \(url)"
        }
    }
}
