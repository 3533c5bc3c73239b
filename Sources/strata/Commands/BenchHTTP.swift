import ArgumentParser
import Foundation
import StrataCore

/// `strata bench http`: an open-loop load generator for a running server. Requests go out at
/// a fixed rate whether or not earlier ones were answered, and latency counts from when each
/// was due, so queueing in the server shows in the percentiles. Requests carry the API key the
/// server's production settings require; any answer that is not 2xx fails the benchmark (a
/// refusal measured as an answer would be a false figure).
struct BenchHTTP: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http",
        abstract: "GET requests at a fixed rate over keep-alive connections to a running server; latency percentiles per run and their medians.")

    @Option(help: "Server as host:port.") var target: String
    @Option(help: "Path to request; `{n}` becomes a number below --ids, in a seeded random order (e.g. /v1/features/user/u{n}).")
    var path: String
    @Option(help: "How many numbers `{n}` takes.") var ids = 1000
    @Option(help: "Requests per second, in total.") var rate = 10_000.0
    @Option(help: "Seconds per run.") var seconds = 10.0
    @Option(help: "Keep-alive connections (one thread each).") var connections = 16
    @Option(help: "Measured runs after one warm-up run; medians are reported.") var repeats = 3
    @Option(help: "API key sent as a bearer token (default: STRATA_API_KEY).")
    var apiKey = ProcessInfo.processInfo.environment["STRATA_API_KEY"] ?? ""

    func validate() throws {
        guard rate > 0, seconds > 0, connections > 0, repeats > 0, ids > 0 else {
            throw ValidationError("--rate, --seconds, --connections, --repeats and --ids must be positive")
        }
        guard Int(seconds * rate) >= connections else { throw ValidationError("--rate × --seconds must give each connection at least one request") }
    }

    func run() async throws {
        let parts = target.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]) else { throw ValidationError("--target takes host:port") }
        let host = String(parts[0])
        var rng = SplitMix64(seed: 11)
        let headers = apiKey.isEmpty ? "" : "Authorization: Bearer \(apiKey)\r\n"
        let requests = (0..<min(ids, 100_000)).map { _ in
            LoadClient.get(path: path.replacingOccurrences(of: "{n}", with: String(rng.nextInt(below: ids))), headers: headers)
        }

        print("strata bench http: GET \(path) at \(Int(rate)) requests/s, \(connections) keep-alive connections, \(seconds) s per run")
        print("run        achieved/s   failures    p50 µs    p90 µs    p99 µs  p99.9 µs    max µs")
        var p99s: [Double] = []
        var p50s: [Double] = []
        var failed = 0
        for round in 0...repeats {
            let outcome = LoadClient.runPaced(
                host: host, port: port, requests: requests, connections: connections, rate: rate, seconds: round == 0 ? min(seconds, 3) : seconds)
            let sorted = outcome.latencies.sorted()
            guard !sorted.isEmpty else { throw ValidationError("no request to \(target) was answered: \(outcome.firstFailure ?? "unknown failure")") }
            func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
            print(
                (round == 0 ? "warm-up" : "\(round)").padding(toLength: 8, withPad: " ", startingAt: 0),
                String(
                    format: "%12.0f %10d %9.0f %9.0f %9.0f %9.0f %9.0f", Double(outcome.requests) / outcome.seconds, outcome.failures, percentile(0.5),
                    percentile(0.9),
                    percentile(0.99), percentile(0.999), sorted.last!))
            if let failure = outcome.firstFailure { print("  first failure: \(failure.prefix(200))") }
            failed += outcome.failures
            if round > 0 {
                p99s.append(percentile(0.99))
                p50s.append(percentile(0.5))
            }
        }
        p99s.sort()
        p50s.sort()
        guard failed == 0 else {
            throw ValidationError("\(failed) requests were not answered 2xx (see each run's first failure): these figures are not valid")
        }
        print(String(format: "median over %d runs: p50 %.0f µs, p99 %.0f µs", repeats, p50s[p50s.count / 2], p99s[p99s.count / 2]))
    }
}
