import Foundation

/// A real `redis-server` (Debian's package, installed by `scripts/install-deps.sh
/// --with-test-peers`) on a free port, with persistence off; nil where it is not installed.
public final class RedisServer: @unchecked Sendable {
    public static let binary = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first { FileManager.default.isExecutableFile(atPath: $0) }
    public static var skipMessage: String {
        "SKIPPED (Redis): install Debian's redis-server (scripts/install-deps.sh --with-test-peers) to run the Redis suite"
    }

    public let port: Int
    let extraArguments: [String]
    private var process: Process?

    public init?(extraArguments: [String] = []) throws {
        guard Self.binary != nil else { return nil }
        port = LocalPorts.free()
        self.extraArguments = extraArguments
        try start()
    }

    public var url: String { "redis://127.0.0.1:\(port)" }

    public func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary!)
        process.arguments =
            [
                "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--enable-debug-command", "local",
                "--dir", NSTemporaryDirectory(),
            ] + extraArguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        // Ready once it accepts connections.
        try LocalPorts.waitUntilAccepting(port: port, peer: "redis-server", process: process)
    }

    /// SIGKILL: the server vanishes mid-conversation.
    public func kill() {
        guard let process else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    deinit { kill() }
}
