import Hummingbird
import StrataCore
import StrataFeatures
import StrataLake
import StrataMonitoring
import StrataRegistry
import StrataServing
import StrataTraining

/// Records every request's latency by route pattern, method and status.
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let exporter: PrometheusExporter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = MonotonicClock.nanoseconds()
        do {
            let response = try await next(request, context)
            exporter.recordRequest(
                route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: response.status.code,
                nanoseconds: MonotonicClock.nanoseconds() - start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            exporter.recordRequest(
                route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: status, nanoseconds: MonotonicClock.nanoseconds() - start)
            throw error
        }
    }
}

/// `GET /metrics`, and the collectors that read each layer at scrape time.
struct MetricsRoutes {
    let exporter: PrometheusExporter

    func register(on router: RouteRegistrar) {
        let exporter = self.exporter
        router.get("/metrics") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: await exporter.scrape())))
        }
    }

    /// Layer 1: ingestion by type and outcome, the log, consumers' lag.
    static func lake(_ lake: Lake, consumers: @escaping @Sendable () -> [(String, Int64)]) -> @Sendable (MetricsSink) -> Void {
        { sink in
            let counts = lake.ingestor.counts
            for (type, accepted) in counts.acceptedByType {
                sink.counter("ingest_events_accepted", help: "Events accepted, by type", labels: [("type", type)], total: Double(accepted))
            }
            for (code, rejected) in counts.rejectedByCode {
                sink.counter("ingest_events_rejected", help: "Events rejected, by reason", labels: [("code", code)], total: Double(rejected))
            }
            sink.counter("ingest_events_duplicate", help: "Retried events acknowledged without storing again", total: Double(counts.duplicates))
            let end = lake.log.endOffset
            sink.gauge("event_log_end", unit: "offset", help: "Durable end of the event log", value: Double(end))
            for (name, applied) in consumers() + [("catalog", lake.catalog.appliedThrough)] {
                sink.gauge(
                    "consumer_lag", unit: "events", help: "Events in the log a consumer has not applied yet", labels: [("consumer", name)],
                    value: Double(max(0, end - applied)))
            }
            sink.gauge("catalog_items", unit: "", help: "Items in the catalog", value: Double(lake.catalog.itemCount))
        }
    }

    /// Layer 2: freshness per feature, entities in the online store.
    static func features(_ store: FeatureStore, clock: any WallClock) -> @Sendable (MetricsSink) -> Void {
        { sink in
            for entry in store.engine.freshness(now: clock.nowMillis()) {
                guard let name = entry["feature"]?.stringValue, let lag = entry["lag_seconds"]?.doubleValue else { continue }
                sink.gauge(
                    "feature_freshness_lag", unit: "seconds", help: "Age of the newest event applied to a feature", labels: [("feature", name)], value: lag)
            }
            for definition in store.engine.features.map(\.definition) {
                guard let sla = definition.freshnessMillis else { continue }
                sink.gauge(
                    "feature_freshness_sla", unit: "seconds", help: "How stale a feature's newest event may be", labels: [("feature", definition.name)],
                    value: Double(sla) / 1000)
            }
            for (entity, count) in store.engine.entityCounts {
                sink.gauge(
                    "online_store_entities", unit: "", help: "Entities in the online feature store", labels: [("entity", entity.rawValue)],
                    value: Double(count))
            }
        }
    }

    /// Layer 5: per deployment and variant, the model version served, requests by source,
    /// errors, live latency quantiles, and attributed impressions and clicks.
    static func serving(_ controller: DeploymentController) -> @Sendable (MetricsSink) -> Void {
        { sink in
            let service = controller.service
            for state in service.allStates {
                let deployment = state.deployment.name
                let arms = service.activity.arms(deployment: deployment)
                for variant in state.variants {
                    let labels = [("deployment", deployment), ("variant", variant.spec.name)]
                    sink.gauge(
                        "serving_model_version", unit: "info", help: "The model version each variant serves (0: none)",
                        labels: labels + [("model", variant.spec.model)], value: Double(variant.model?.version.version ?? 0))
                    let stats = service.metrics.variant(deployment: deployment, variant: variant.spec.name)
                    for (source, count) in [("cache", stats.cache), ("live", stats.live), ("trending", stats.trending)] {
                        sink.counter(
                            "recommendations", help: "Recommendation requests answered, by source", labels: labels + [("source", source)],
                            total: Double(count))
                    }
                    sink.counter("recommendation_errors", help: "Requests a variant failed (the control answered)", labels: labels, total: Double(stats.errors))
                    for reason in CacheMissReason.allCases {
                        sink.counter(
                            "cache_misses", help: "Requests whose precomputed list did not answer, by why", labels: labels + [("reason", reason.rawValue)],
                            total: Double(stats.misses[reason] ?? 0))
                    }
                    let total = max(1, stats.cache + stats.live + stats.trending)
                    sink.gauge(
                        "cache_hit", unit: "ratio", help: "Share of a variant's answers that came from the precomputed cache", labels: labels,
                        value: Double(stats.cache) / Double(total))
                    sink.gauge(
                        "recommendation_latency_p99", unit: "seconds", help: "99th percentile latency of a variant's answers since start", labels: labels,
                        value: stats.latency.quantileMillis(0.99) / 1000)
                    let arm = arms[variant.spec.name] ?? ArmSummary(impressions: 0, clicks: 0)
                    sink.counter("impressions", help: "Impressions attributed to a variant", labels: labels, total: Double(arm.impressions))
                    sink.counter("clicks", help: "Clicks attributed to a variant", labels: labels, total: Double(arm.clicks))
                    sink.gauge(
                        "ctr", unit: "ratio", help: "Clicks per impression of a variant since start", labels: labels,
                        value: arm.impressions > 0 ? Double(arm.clicks) / Double(arm.impressions) : 0)
                }
            }
        }
    }

    /// The batch job's latest run per model version: how far it got and how fast.
    static func precompute(_ controller: DeploymentController) -> @Sendable (MetricsSink) -> Void {
        { sink in
            for progress in controller.precomputeProgress {
                let labels = [("model", progress.model)]
                sink.gauge(
                    "precompute_running", unit: "", help: "Whether the batch job is computing a model version's table", labels: labels,
                    value: progress.running ? 1 : 0)
                sink.gauge(
                    "precompute_active_users", unit: "", help: "Trained users active within the window (the table's size)", labels: labels,
                    value: Double(progress.activeUsers))
                sink.gauge(
                    "precompute_users_reused", unit: "", help: "Lists of the latest run kept fresh from an earlier one", labels: labels,
                    value: Double(progress.reused))
                sink.gauge(
                    "precompute_users_to_compute", unit: "", help: "Stale or missing lists the latest run computes", labels: labels,
                    value: Double(progress.toCompute))
                sink.gauge(
                    "precompute_users_computed", unit: "", help: "Lists the latest run has computed so far", labels: labels, value: Double(progress.computed))
                sink.gauge(
                    "precompute_users_per_second", unit: "", help: "Lists computed per second by the latest run", labels: labels, value: progress.usersPerSecond
                )
            }
        }
    }

    /// Layer 4: training runs per model and outcome, and how long the latest of each took
    /// (runs started from the command line included: they are read from the metadata store).
    static func training(_ runs: RunStore) -> @Sendable (MetricsSink) async -> Void {
        { sink in
            guard let summary = try? await runs.summary() else { return }
            for entry in summary {
                let labels = [("model", entry.model)]
                if entry.status == .running {
                    sink.gauge("training_runs_running", unit: "", help: "Training runs in progress", labels: labels, value: Double(entry.runs))
                    continue
                }
                let outcome = labels + [("outcome", entry.status.rawValue)]
                sink.counter("training_runs", help: "Training runs ended, by model and outcome", labels: outcome, total: Double(entry.runs))
                if let duration = entry.lastDurationMillis {
                    sink.gauge(
                        "training_run_last_duration", unit: "seconds", help: "Duration of the latest training run that ended this way", labels: outcome,
                        value: Double(duration) / 1000)
                }
                if let end = entry.lastFinishedAt {
                    sink.gauge(
                        "training_run_last_end", unit: "timestamp_seconds", help: "When the latest training run that ended this way ended", labels: outcome,
                        value: Double(end) / 1000)
                }
            }
        }
    }

    /// Layer 6: the latest drift scores per deployment and feature (and model score).
    static func drift(_ watcher: DriftWatcher) -> @Sendable (MetricsSink) -> Void {
        { sink in
            for report in watcher.reports {
                for measure in report.features + (report.scores.map { [$0] } ?? []) {
                    let labels = [("deployment", report.deployment), ("feature", measure.name)]
                    sink.gauge(
                        "drift_psi", unit: "", help: "Population stability index of a feature (or model_score) against the training baseline", labels: labels,
                        value: measure.psi)
                    sink.gauge(
                        "drift_ks", unit: "", help: "Kolmogorov-Smirnov distance of a feature (or model_score) from the training baseline", labels: labels,
                        value: measure.ks)
                }
            }
        }
    }
}
