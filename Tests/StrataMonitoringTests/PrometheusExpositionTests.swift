import Foundation
import StrataCore
import Synchronization
import Testing

@testable import StrataMonitoring

/// `/metrics` in Prometheus's text format: what collectors write comes out named, labelled,
/// escaped and typed; counters follow running totals; request latencies are histograms.
@Suite struct PrometheusExpositionTests {
    /// The sample lines (not comments) of an exposition, by series (name and labels).
    static func samples(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            result[String(line[..<space])] = String(line[line.index(after: space)...])
        }
        return result
    }

    @Test func gaugesAreNamedWithNamespaceAndUnitAndCarryHelpAndType() async {
        let exporter = PrometheusExporter()
        exporter.addCollector { sink in
            sink.gauge("feature_store_users", unit: "count", help: "Users with feature state", value: 42)
            sink.gauge("lake_bytes", unit: "bytes", help: "Bytes in the lake", labels: [("project", "shop"), ("tier", "hot")], value: 1.5e9)
        }
        let text = await exporter.scrape()
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.contains("# HELP strata_feature_store_users_count Users with feature state"))
        #expect(lines.contains("# TYPE strata_feature_store_users_count gauge"))
        #expect(lines.contains("strata_feature_store_users_count 42.0"))
        #expect(lines.contains(#"strata_lake_bytes_bytes{project="shop",tier="hot"} 1500000000.0"#))
        // HELP and TYPE come before the samples of their metric.
        let help = lines.firstIndex(of: "# HELP strata_feature_store_users_count Users with feature state")!
        let type = lines.firstIndex(of: "# TYPE strata_feature_store_users_count gauge")!
        let sample = lines.firstIndex(of: "strata_feature_store_users_count 42.0")!
        #expect(help < type && type < sample)
        // Every scrape reports the process's memory.
        let memory = Self.samples(text)["strata_process_resident_memory_bytes"].flatMap(Double.init)
        #expect((memory ?? 0) > 0)
    }

    @Test func aGaugeTakesTheLatestValueAndNonFiniteValuesAreLeftOut() async {
        let exporter = PrometheusExporter()
        let value = Mutex(3.0)
        exporter.addCollector { sink in
            sink.gauge("queue", unit: "events", help: "Queued events", value: value.withLock { $0 })
            sink.gauge("ratio", unit: "ratio", help: "A ratio with nothing to divide", value: .nan)
            sink.gauge("rate", unit: "per_second", help: "An infinite rate", value: .infinity)
        }
        #expect(Self.samples(await exporter.scrape())["strata_queue_events"] == "3.0")
        value.withLock { $0 = 1 }
        let text = await exporter.scrape()
        #expect(Self.samples(text)["strata_queue_events"] == "1.0", "a gauge is the value now, not a sum")
        #expect(!text.contains("strata_ratio_ratio"))
        #expect(!text.contains("strata_rate_per_second"))
    }

    @Test func labelValuesAreEscaped() async {
        let exporter = PrometheusExporter()
        exporter.addCollector { sink in
            sink.gauge(
                "model_info", unit: "flag", help: "Served model", labels: [("model", #"als "main" \ v2"#), ("note", "two\nlines")], value: 1)
        }
        let text = await exporter.scrape()
        #expect(text.contains(#"strata_model_info_flag{model="als \"main\" \\ v2",note="two\nlines"} 1.0"#))
        #expect(!text.contains("two\nlines"), "no raw line break inside a sample")
    }

    @Test func countersGrowByWhatTheirTotalsGrew() async {
        let exporter = PrometheusExporter()
        let totals = Mutex<[String: Double]>(["accepted": 5, "rejected": 0])
        exporter.addCollector { sink in
            for (outcome, total) in totals.withLock({ $0 }) {
                sink.counter("ingest_events", help: "Events by outcome", labels: [("outcome", outcome)], total: total)
            }
        }
        var series = Self.samples(await exporter.scrape())
        #expect(series[#"strata_ingest_events_total{outcome="accepted"}"#] == "5.0")
        #expect(series[#"strata_ingest_events_total{outcome="rejected"}"#] == "0", "a counter that never grew reads 0")
        #expect(await exporter.scrape().contains("# TYPE strata_ingest_events_total counter"))
        totals.withLock { $0 = ["accepted": 8, "rejected": 2] }
        series = Self.samples(await exporter.scrape())
        #expect(series[#"strata_ingest_events_total{outcome="accepted"}"#] == "8.0")
        #expect(series[#"strata_ingest_events_total{outcome="rejected"}"#] == "2.0")
        // The same totals again: nothing grew.
        series = Self.samples(await exporter.scrape())
        #expect(series[#"strata_ingest_events_total{outcome="accepted"}"#] == "8.0")
        // A total that went down (a component restarted its count) never makes the counter
        // go back; it grows again once the total passes what was counted.
        totals.withLock { $0["accepted"] = 3 }
        series = Self.samples(await exporter.scrape())
        #expect(series[#"strata_ingest_events_total{outcome="accepted"}"#] == "8.0")
        totals.withLock { $0["accepted"] = 10 }
        series = Self.samples(await exporter.scrape())
        #expect(series[#"strata_ingest_events_total{outcome="accepted"}"#] == "10.0")
    }

    @Test func requestLatenciesAreCumulativeHistograms() async {
        let exporter = PrometheusExporter()
        exporter.recordRequest(route: "/v1/recommendations/{user}", method: "GET", status: 200, nanoseconds: 300_000)  // 0.3 ms
        exporter.recordRequest(route: "/v1/recommendations/{user}", method: "GET", status: 200, nanoseconds: 7_000_000)  // 7 ms
        exporter.recordRequest(route: "/v1/recommendations/{user}", method: "GET", status: 200, nanoseconds: 30_000_000_000)  // 30 s
        exporter.recordRequest(route: "/v1/events", method: "POST", status: 413, nanoseconds: 100_000)
        let text = await exporter.scrape()
        #expect(text.contains("# TYPE strata_http_request_duration_seconds histogram"))
        #expect(text.contains("# HELP strata_http_request_duration_seconds HTTP request latency by route, method and status"))
        let series = Self.samples(text)
        let labels = #"route="/v1/recommendations/{user}",method="GET",status="200""#
        func bucket(_ le: String) -> String? { series["strata_http_request_duration_seconds_bucket{\(labels),le=\"\(le)\"}"] }
        #expect(bucket("0.00025") == "0")
        #expect(bucket("0.0005") == "1")
        #expect(bucket("0.005") == "1")
        #expect(bucket("0.01") == "2")
        #expect(bucket("1.0") == "2")
        #expect(bucket("10.0") == "2", "30 s is beyond the last bucket")
        #expect(bucket("+Inf") == "3")
        #expect(series["strata_http_request_duration_seconds_count{\(labels)}"] == "3")
        let sum = series["strata_http_request_duration_seconds_sum{\(labels)}"].flatMap(Double.init)
        #expect(abs((sum ?? 0) - 30.0073) < 1e-9)
        // Every configured bucket is there, in order, for each series.
        let bounds = text.split(separator: "\n").filter { $0.hasPrefix("strata_http_request_duration_seconds_bucket{\(labels)") }
        #expect(bounds.count == PrometheusExporter.latencyBuckets.count + 1)
        let counts = bounds.compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }
        #expect(counts == counts.sorted(), "buckets are cumulative")
        #expect(series[#"strata_http_request_duration_seconds_count{route="/v1/events",method="POST",status="413"}"#] == "1")
    }

    @Test func collectorsRunAtEveryScrapeAsyncOnesFirst() async {
        let exporter = PrometheusExporter()
        let order = Mutex<[String]>([])
        exporter.addCollector { sink in
            order.withLock { $0.append("sync") }
            sink.gauge("runs", unit: "count", help: "Runs", value: Double(order.withLock { $0.count }))
        }
        exporter.addAsyncCollector { _ in
            await Task.yield()
            order.withLock { $0.append("async") }
        }
        _ = await exporter.scrape()
        _ = await exporter.scrape()
        #expect(order.withLock { $0 } == ["async", "sync", "async", "sync"])
        #expect(Self.samples(await exporter.scrape())["strata_runs_count"] == "6.0")
    }
}
