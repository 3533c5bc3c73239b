import Foundation
import Prometheus
import Synchronization

/// Prometheus metrics of every layer (`GET /metrics`): request latency histograms recorded as
/// requests finish, and the other layers' figures read at scrape time through collectors the
/// server registers (so this module imports no other layer). Running totals the layers keep
/// (events accepted, requests served) become Prometheus counters by adding what grew since the
/// last scrape.
public final class PrometheusExporter: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let collectors = Mutex<[@Sendable (MetricsSink) -> Void]>([])
    /// Collectors that read a database (run before the others, one after another).
    private let asyncCollectors = Mutex<[@Sendable (MetricsSink) async -> Void]>([])
    /// The last total seen per counter series.
    fileprivate let totals = Mutex<[String: Double]>([:])
    static let latencyBuckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]

    public init() {}

    /// Adds a collector, run at every scrape.
    public func addCollector(_ collector: @escaping @Sendable (MetricsSink) -> Void) {
        collectors.withLock { $0.append(collector) }
    }

    /// Adds a collector that awaits (a metadata query), run at every scrape.
    public func addAsyncCollector(_ collector: @escaping @Sendable (MetricsSink) async -> Void) {
        asyncCollectors.withLock { $0.append(collector) }
    }

    /// One finished HTTP request (`route` is the route's pattern, not the raw path).
    public func recordRequest(route: String, method: String, status: Int, nanoseconds: UInt64) {
        registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "strata", metricName: "http_request_duration", unitName: "seconds", helpText: "HTTP request latency by route, method and status"),
            labels: [("route", route), ("method", method), ("status", String(status))], buckets: Self.latencyBuckets
        ).recordNanoseconds(Int64(clamping: nanoseconds))
    }

    /// Every metric now, in Prometheus's text format.
    public func scrape() async -> String {
        let sink = MetricsSink(exporter: self)
        for collector in asyncCollectors.withLock({ $0 }) { await collector(sink) }
        for collector in collectors.withLock({ $0 }) { collector(sink) }
        sink.gauge("process_resident_memory", unit: "bytes", help: "Resident memory of the process", value: Double(Self.residentBytes()))
        return registry.emitToString()
    }

    static func residentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kilobytes * 1024
    }
}

/// What a collector writes into: gauges (values now) and counters (running totals).
public struct MetricsSink: Sendable {
    let exporter: PrometheusExporter

    /// A value now. The full name is `strata_<name>_<unit>`.
    public func gauge(_ name: String, unit: String, help: String, labels: [(String, String)] = [], value: Double) {
        guard value.isFinite else { return }
        exporter.registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "strata", metricName: name, unitName: unit, helpText: help), labels: labels)
            .set(value)
    }

    /// A running total kept elsewhere (monotonic since the process started): the counter grows
    /// by what the total grew since the last scrape. The full name is `strata_<name>_total`.
    public func counter(_ name: String, help: String, labels: [(String, String)] = [], total: Double) {
        // Length-prefixed parts: no two label sets share a key, whatever their values hold.
        let key = ([name] + labels.flatMap { [$0.0, $0.1] }).map { "\($0.utf8.count):\($0)" }.joined()
        let delta = exporter.totals.withLock { totals -> Double in
            let grown = max(0, total - (totals[key] ?? 0))
            totals[key] = max(total, totals[key] ?? 0)
            return grown
        }
        let counter = exporter.registry.makeCounter(
            descriptor: MetricNameDescriptor(namespace: "strata", metricName: name, unitName: "total", helpText: help), labels: labels)
        if delta > 0 { counter.increment(by: delta) }
    }
}
