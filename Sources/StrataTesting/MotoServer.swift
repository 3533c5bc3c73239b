import Foundation

/// An S3-compatible server (moto_server from PyPI, installed by `scripts/install-deps.sh
/// --with-test-peers`) on a free port; nil where it is not installed.
public final class MotoServer: @unchecked Sendable {
    public static var skipMessage: String {
        "SKIPPED (S3): pip install 'moto[server]' awscli (scripts/install-deps.sh --with-test-peers) to run the S3 suites"
    }
    /// Credentials moto accepts (any), for clients' environments.
    public static let credentials = ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"]

    let process = Process()
    public let port = LocalPorts.free()
    public var endpoint: String { "http://127.0.0.1:\(port)" }

    public init?() throws {
        guard let binary = executableInPath("moto_server") else { return nil }
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["-H", "127.0.0.1", "-p", String(port)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Python starts slowly on a busy machine; a server that never listens fails the test here
        // (deinit stops the process) rather than as a confusing S3 error later.
        try LocalPorts.waitUntilAccepting(port: port, peer: "moto_server", process: process, timeout: .seconds(300))
    }

    deinit {
        // The pip entry point may be a shim that runs Python as its child: stop that first.
        _ = try? runProcess("/usr/bin/env", ["pkill", "-KILL", "-f", "moto_server -H 127.0.0.1 -p \(port)"])
        process.terminate()
        process.waitUntilExit()
    }
}

/// The first executable called `name` on PATH.
public func executableInPath(_ name: String) -> String? {
    let candidates = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/\(name)" } + ["/usr/sbin/\(name)"]
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
}
