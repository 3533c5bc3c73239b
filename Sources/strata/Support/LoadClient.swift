import Dispatch
import Foundation
import Synchronization

/// A minimal HTTP/1.1 load generator over keep-alive connections: each connection is a thread
/// that sends prepared requests and reads each response before the next. Deliberately simple
/// so that it costs the machine little beside the server it measures.
enum LoadClient {
    struct Outcome: Sendable {
        var requests = 0
        var failures = 0
        var firstFailure: String?
        var seconds = 0.0
        /// Per request, microseconds from when it was due to when its response was read (paced
        /// runs only).
        var latencies: [Double] = []

        mutating func merge(_ other: Outcome) {
            requests += other.requests
            failures += other.failures
            if firstFailure == nil { firstFailure = other.firstFailure }
            latencies += other.latencies
        }
    }

    /// Sends `requests` (full HTTP request bytes) over `connections` connections to
    /// host:port, round-robin, as fast as the server answers, and times the whole run.
    static func run(host: String, port: Int, requests: [[UInt8]], connections: Int) -> Outcome {
        onThreads(connections) { connection in
            let mine = stride(from: connection, to: requests.count, by: connections).map { requests[$0] }
            return exchangeAll(host: host, port: port, requests: mine, schedule: nil)
        }
    }

    /// Open loop: sends `rate` requests per second in total for `seconds`, spread evenly over
    /// the connections, cycling through `requests`. Latency counts from when each request was
    /// due, so a slow answer that delays the next request is charged to it too (no
    /// coordinated omission).
    static func runPaced(host: String, port: Int, requests: [[UInt8]], connections: Int, rate: Double, seconds: Double) -> Outcome {
        let interval = Double(connections) / rate * 1e9
        let perConnection = Int(seconds * rate) / connections
        let start = DispatchTime.now().uptimeNanoseconds + 50_000_000
        return onThreads(connections) { connection in
            let mine = (0..<perConnection).map { requests[($0 * connections + connection) % requests.count] }
            // Connections start staggered so that requests arrive evenly.
            let first = Double(start) + interval * Double(connection) / Double(connections)
            return exchangeAll(host: host, port: port, requests: mine) { UInt64(first + interval * Double($0)) }
        }
    }

    static func request(path: String, contentType: String, body: [UInt8]) -> [UInt8] {
        Array("POST \(path) HTTP/1.1\r\nHost: bench\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
    }

    /// `headers`: extra header lines, each ending in CRLF (e.g. an API key).
    static func get(path: String, headers: String = "") -> [UInt8] {
        Array("GET \(path) HTTP/1.1\r\nHost: bench\r\n\(headers)\r\n".utf8)
    }

    private static func onThreads(_ count: Int, _ work: @escaping @Sendable (Int) -> Outcome) -> Outcome {
        let total = Mutex(Outcome())
        let group = DispatchGroup()
        let start = DispatchTime.now().uptimeNanoseconds
        for index in 0..<count {
            group.enter()
            let thread = Thread {
                let result = work(index)
                total.withLock { $0.merge(result) }
                group.leave()
            }
            thread.start()
        }
        group.wait()
        var outcome = total.withLock { $0 }
        outcome.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return outcome
    }

    /// One connection's requests in order; with a schedule (request index → due time in
    /// uptime nanoseconds) each waits until it is due and its latency is recorded.
    private static func exchangeAll(host: String, port: Int, requests: [[UInt8]], schedule: ((Int) -> UInt64)?) -> Outcome {
        var outcome = Outcome()
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return Outcome(failures: requests.count, firstFailure: "socket() failed") }
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &address.sin_addr)
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return Outcome(failures: requests.count, firstFailure: "connect to \(host):\(port) failed") }
        if schedule != nil { outcome.latencies.reserveCapacity(requests.count) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        for (index, request) in requests.enumerated() {
            var due: UInt64 = 0
            if let schedule {
                due = schedule(index)
                let now = DispatchTime.now().uptimeNanoseconds
                if due > now { usleep(useconds_t((due - now) / 1000)) }
            }
            var sent = 0
            while sent < request.count {
                let n = request.withUnsafeBytes { Foundation.send(fd, $0.baseAddress! + sent, request.count - sent, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { return Outcome(requests: outcome.requests, failures: outcome.failures + 1, firstFailure: "send failed") }
                sent += n
            }
            // Read the head, then Content-Length bytes of body.
            var received: [UInt8] = []
            var headEnd: Int?
            var bodyLength = 0
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
                if n <= 0 { return Outcome(requests: outcome.requests, failures: outcome.failures + 1, firstFailure: "connection closed") }
                received += buffer[0..<n]
                if headEnd == nil, let end = find(received, [13, 10, 13, 10]) {
                    headEnd = end + 4
                    let head = String(decoding: received[0..<end], as: UTF8.self).lowercased()
                    if let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }) {
                        bodyLength = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
                    }
                }
                if let headEnd, received.count >= headEnd + bodyLength { break }
            }
            if schedule != nil { outcome.latencies.append(Double(DispatchTime.now().uptimeNanoseconds &- due) / 1000) }
            let status = String(decoding: received.prefix(12), as: UTF8.self)
            outcome.requests += 1
            if !(status.hasSuffix("200") || status.hasSuffix("202")) {
                outcome.failures += 1
                if outcome.firstFailure == nil { outcome.firstFailure = String(decoding: received.prefix(300), as: UTF8.self) }
            }
        }
        return outcome
    }

    private static func find(_ haystack: [UInt8], _ needle: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for index in 0...(haystack.count - needle.count) where haystack[index] == needle[0] && Array(haystack[index..<(index + needle.count)]) == needle {
            return index
        }
        return nil
    }
}
