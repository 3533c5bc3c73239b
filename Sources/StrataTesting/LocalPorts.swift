import Foundation

/// Loopback ports for tests that start servers.
public enum LocalPorts {
    /// Whether something accepts connections on the loopback port.
    public static func accepts(port: Int) -> Bool {
        guard let socket = try? connect(port: port) else { return false }
        close(socket)
        return true
    }

    /// Waits until something accepts connections on the loopback port; throws, naming `peer`, when
    /// `process` exits first or `timeout` passes. The limit only bounds a hang: a machine busy
    /// with other work may take many times longer than usual to start a server.
    public static func waitUntilAccepting(port: Int, peer: String, process: Process? = nil, timeout: Duration = .seconds(120)) throws {
        let deadline = ContinuousClock.now + timeout
        while !accepts(port: port) {
            if let process, !process.isRunning {
                throw WaitFailed("\(peer) exited (status \(process.terminationStatus)) before accepting connections on 127.0.0.1:\(port)")
            }
            guard ContinuousClock.now < deadline else {
                throw WaitFailed("\(peer) did not accept connections on 127.0.0.1:\(port) within \(timeout)")
            }
            usleep(50_000)
        }
    }

    /// A connected TCP socket to the loopback port (the caller closes it).
    public static func connect(port: Int) throws -> Int32 {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else {
            close(socket)
            throw NSError(domain: "nothing accepts connections on 127.0.0.1:\(port)", code: Int(errno))
        }
        return socket
    }

    /// A port nothing listens on (bound and released).
    public static func free() -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
