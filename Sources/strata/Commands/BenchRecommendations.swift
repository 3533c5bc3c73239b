import ArgumentParser
import Foundation
import Logging
import StrataCore
import StrataFeatures
import StrataLake
import StrataML
import StrataMetadata
import StrataRegistry
import StrataServer
import StrataServing
import StrataTraining

/// `strata bench recommendations`: the serving path end to end on a catalog of the requested
/// size. An ALS model is trained, registered, approved and promoted in a scratch project; the
/// batch job precomputes every known user; users with only recent events (in the feature
/// store) exercise the live fallback (fold-in, scoring the whole catalog, top-n). Measured
/// in-process (the path alone) and over HTTP on loopback (closed loop for the ceiling, then a
/// fixed rate for latency), or held open for an external load generator (wrk).
struct BenchRecommendations: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recommendations", abstract: "Recommendation serving: cached path and live fallback, in-process and over HTTP.")

    @Option(help: "Synthetic catalog size.") var items = 50_000
    @Option(help: "Synthetic users (all precomputed).") var users = 50_000
    @Option(help: "Synthetic interactions (target).") var interactions = 2_000_000
    @Option(help: "Train on these interactions instead (user<TAB>item lines, e.g. synthetic_als_bench.py --write-tsv; duplicates count once).")
    var tsv: String?
    @Option(help: "Factors.") var factors = 64
    @Option(help: "ALS iterations (the latency depends on the shapes, not on the quality).") var iterations = 3
    @Option(help: "ALS alpha, Strata's convention (implicit's alpha A is Strata's A − 1).") var alpha: Float = 1
    @Option(help: "Users whose only history is recent events (live fallback).") var liveUsers = 1000
    @Option(help: "In-process samples per path.") var samples = 5000
    @Option(help: "Requests per second of the fixed-rate HTTP runs.") var rate = 15_000.0
    @Option(help: "Requests per second of the fixed-rate HTTP runs of the live fallback.") var liveRate = 1000.0
    @Option(help: "Seconds per HTTP run.") var seconds = 10.0
    @Option(help: "Keep-alive connections of the HTTP runs.") var connections = 16
    @Option(help: "Measured HTTP runs (medians are reported).") var repeats = 3
    @Option(help: "Keep the server up this many seconds after the runs (for wrk); the port is printed.") var hold = 0.0
    @Option(help: "Port (0: any free one).") var port = 0
    @Option(help: "Write the known user ids here, one per line (for wrk's spread_users.lua).") var idsFile: String?
    @Option(help: "Write the live-fallback user ids here, one per line.") var liveIdsFile: String?
    @Option(help: "The recommendation cache: memory: (embedded) or redis://host:port (run both to compare).") var online = "memory:"
    @Option(help: "serving.ann.m (links per item).") var m: Int?
    @Option(help: "serving.ann.ef_construction.") var efConstruction: Int?
    @Option(help: "serving.ann.ef_search; repeat it to also report the recall at other breadths (the first one serves).") var efSearch: [Int] = []

    func run() async throws {
        LoggingSetup.bootstrap(format: "text")
        var logger = Logger(label: "strata-bench")
        logger.logLevel = .warning
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("strata-bench-recs-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }

        // 1. The model.
        let start = MonotonicClock.nanoseconds()
        let data = try loadInteractions()
        let threads = Parallel.coreCount
        let fitted = try ALSModel.fit(
            data, parameters: ALSParameters(factors: factors, regularization: 0.05, alpha: alpha, iterations: iterations), threads: threads)
        print(
            String(
                format: "model: ALS %d factors, %d iterations on %d users × %d items (%d interactions) in %.1f s", factors, iterations, data.users.count,
                data.items.count, data.matrix.indices.count, Double(MonotonicClock.nanoseconds() - start) / 1e9))
        // As training does: above serving.ann.exact_below, the retrieval index and its recall.
        var ann = StrataConfig.example().serving.ann
        if let m { ann.m = m }
        if let efConstruction { ann.efConstruction = efConstruction }
        if let first = efSearch.first { ann.efSearch = first }
        let indexStart = MonotonicClock.nanoseconds()
        let (model, recall) = try await Trainer.attachRetrieval(fitted, settings: ann, seed: 42, seen: data.matrix)
        if let recall {
            print(
                String(
                    format: "retrieval index (HNSW, M %d, ef_construction %d, ef_search %d): built and checked in %.1f s, recall@10 %.4f on %d users",
                    ann.m, ann.efConstruction, ann.efSearch, Double(MonotonicClock.nanoseconds() - indexStart) / 1e9, recall.recall, recall.users))
        }
        if let factor = model as? any FactorRecommender, let retrieval = factor.retrieval, efSearch.count > 1 {
            for breadth in efSearch.dropFirst() {
                retrieval.setSearchBreadth(breadth)
                print(String(format: "  at ef_search %d: recall@10 %.4f", breadth, RetrievalIndex.recall(of: factor, seen: data.matrix).recall))
            }
            retrieval.setSearchBreadth(ann.efSearch)
        }

        // 2. A scratch project serving it.
        var config = StrataConfig.example()
        config.serving.model = "als-main"
        config.serving.precomputeIntervalMillis = 0
        config.serving.cacheTopN = 20
        // Every trained user (the synthetic ones have no activity in this project's log).
        config.serving.precompute.activeWindowMillis = 0
        let lake = try Lake(config: config, dataDirectory: directory, logger: logger)
        let store = try await MetadataStore.open(url: "sqlite:", defaultSQLitePath: "\(directory)/metadata.sqlite", logger: logger)
        let audit = AuditLog(store: store)
        let registry = ModelRegistry(store: store, audit: audit)
        let blobs = FileBlobStore(root: "\(directory)/blobs")
        let hash = try blobs.put(model.artifact().encoded())
        let version = try await registry.register(
            model: "als-main", runID: "bench", artifactHash: hash,
            gate: GateResult(metric: "ndcg@10", margin: 0, candidate: 0, production: nil, productionVersion: nil),
            by: .local())
        let approver = Principal(id: "bench", name: "bench", roles: [.approver])
        _ = try await registry.approve(version.reference, reason: "benchmark", by: approver)
        _ = try await registry.promote(version.reference, by: approver)

        // Live users: twenty recent views each, in the feature store (their recent items).
        var rng = SplitMix64(seed: 3)
        let now = SystemClock().nowMillis()
        var events: [IncomingEvent] = []
        for user in 0..<liveUsers {
            for step in 0..<20 {
                events.append(
                    IncomingEvent(
                        type: "view", userID: "live-\(user)", time: .millis(now - Int64(20 - step) * 1000),
                        fields: [("item_id", .string(data.items.id(at: Int32(rng.nextInt(below: data.items.count)))))]))
            }
        }
        for chunk in stride(from: 0, to: events.count, by: 10_000) {
            _ = try await lake.ingestor.ingest(events: Array(events[chunk..<min(chunk + 10_000, events.count)]), source: "bench")
        }
        let features = try FeatureStore(lake: lake, definitions: config.contract.features, logger: logger)
        let activity = try ServingActivity(lake: lake, settings: ServingSettings(config), logger: logger)
        var cacheConfig = config
        cacheConfig.backends.online = online
        let (cache, _) = try Backends.recommendationCache(cacheConfig, logger: logger)
        print("recommendation cache: \(online)")
        let sources = ServingSources(lake: lake)
        let service = RecommendationService(
            sources: sources, features: features, activity: activity, cache: cache, metrics: ServingMetrics())
        let loader = ModelLoader(registry: registry, runs: RunStore(store: store), blobs: blobs)
        let controller = DeploymentController(
            store: DeploymentStore(records: DeploymentRecords(store: store)), service: service, registry: registry, loader: loader,
            precomputer: Precomputer(sources: sources, activity: activity, cache: cache, topN: config.serving.cacheTopN, threads: threads),
            audit: audit,
            logger: logger)
        try await controller.start()
        let precomputeStart = MonotonicClock.nanoseconds()
        let written = try await controller.precompute()
        let precomputeSeconds = Double(MonotonicClock.nanoseconds() - precomputeStart) / 1e9
        print(
            String(
                format: "precompute: top-%d for %d users in %.1f s, %.0f users/s (%d threads, checkpointed)", config.serving.cacheTopN,
                written.values.reduce(0, +), precomputeSeconds, Double(written.values.reduce(0, +)) / precomputeSeconds, threads))

        // 3. In-process: the request path alone.
        let knownUsers = data.users.ids
        for (label, pick, expected) in [
            ("cached", { (r: inout SplitMix64) in knownUsers[r.nextInt(below: knownUsers.count)] }, RecommendationSource.cache),
            ("live fallback", { (r: inout SplitMix64) in "live-\(r.nextInt(below: liveUsers))" }, RecommendationSource.live),
        ] {
            var times: [Double] = []
            var wrong = 0
            for _ in 0..<samples {
                let user = pick(&rng)
                let begin = MonotonicClock.nanoseconds()
                let answer = try await service.recommend(RecommendationRequest(user: user, n: 10, excludeImpressed: false))
                times.append(Double(MonotonicClock.nanoseconds() - begin) / 1e3)
                if answer.source != expected || answer.items.count != 10 { wrong += 1 }
            }
            times.sort()
            print(
                "in-process \(label) (\(data.items.count) items, \(factors) factors): "
                    + String(
                        format: "median %.1f µs, p99 %.1f µs, p99.9 %.1f µs", times[times.count / 2], times[times.count * 99 / 100],
                        times[times.count * 999 / 1000]) + (wrong > 0 ? " (\(wrong) answers not from the \(expected.rawValue) path)" : ""))
        }

        // Similar items (the cosine index above exact_below items, else a scan).
        var similarTimes: [Double] = []
        for _ in 0..<samples {
            let item = data.items.id(at: Int32(rng.nextInt(below: data.items.count)))
            let begin = MonotonicClock.nanoseconds()
            let answer = try service.similar(to: item, n: 10)
            similarTimes.append(Double(MonotonicClock.nanoseconds() - begin) / 1e3)
            if answer.items.count != 10 { throw ValidationError("similar items answered \(answer.items.count) items for \(item)") }
        }
        similarTimes.sort()
        print(
            "in-process similar items (\(data.items.count) items): "
                + String(
                    format: "median %.1f µs, p99 %.1f µs, p99.9 %.1f µs", similarTimes[similarTimes.count / 2], similarTimes[similarTimes.count * 99 / 100],
                    similarTimes[similarTimes.count * 999 / 1000]))

        // 3b. The live path with the learning-to-rank stage over the example's features: trees
        // of the configured shape fitted on synthetic slates (the latency depends on the trees'
        // shape and the feature reads, not on what they learned).
        if let reranker = config.reranker {
            let names = reranker.features
            var rows: [Float] = []
            var labels: [Float] = []
            for _ in 0..<(200 * 10) {
                for _ in names { rows.append(Float(rng.nextDouble() * 10)) }
                labels.append(rng.chance(0.2) ? 1 : 0)
            }
            let trees = try GradientBoostedRanker.fit(
                rows: rows, features: names, labels: labels, groups: Array(repeating: 10, count: 200), parameters: RankerParameters(reranker.spec))
            var artifact = ModelArtifact(
                algorithm: .gbdtRanker, parameters: reranker.spec.parameters, metadata: ["features": names.count, "candidates": reranker.candidates])
            artifact.idLists = [
                "features": names, "entities": names.map { name in config.contract.features.first { $0.name == name }!.entity.rawValue },
            ]
            artifact.blobs = ["booster": try trees.modelBytes()]
            // Registered under a name of its own and installed directly, so the HTTP runs below
            // (and a held server) serve without it, like the peer.
            let ranker = try await registry.register(
                model: "bench-ranker", runID: "bench", artifactHash: try blobs.put(artifact.encoded()),
                gate: GateResult(metric: "ndcg@10", margin: 0, candidate: 0, production: nil, productionVersion: nil), by: .local())
            service.install(reranker: try await loader.loadReranker(ranker.reference))
            var times: [Double] = []
            for _ in 0..<samples {
                let begin = MonotonicClock.nanoseconds()
                let answer = try await service.recommend(RecommendationRequest(user: "live-\(rng.nextInt(below: liveUsers))", n: 10, excludeImpressed: false))
                times.append(Double(MonotonicClock.nanoseconds() - begin) / 1e3)
                precondition(answer.reranker != nil, "the re-ranker did not answer")
            }
            times.sort()
            print(
                "in-process live fallback + re-rank of \(reranker.candidates) candidates (\(names.count) features, \(reranker.spec.int("rounds")) trees of depth \(reranker.spec.int("max_depth"))): "
                    + String(format: "median %.1f µs, p99 %.1f µs", times[times.count / 2], times[times.count * 99 / 100]))
            service.install(reranker: nil)
        }

        // 4. Over HTTP on loopback.
        if let idsFile { try knownUsers.joined(separator: "\n").write(toFile: idsFile, atomically: true, encoding: .utf8) }
        if let liveIdsFile { try (0..<liveUsers).map { "live-\($0)" }.joined(separator: "\n").write(toFile: liveIdsFile, atomically: true, encoding: .utf8) }
        let server = StrataHTTPServer(lake: lake, config: config, features: features, governance: nil, serving: controller, authenticate: false, logger: logger)
        let stop = StopHandle()
        let bound = AsyncStream<Int>.makeStream()
        let stopped = AsyncStream<Void>.makeStream()
        let serverTask = Task {
            defer { stopped.continuation.finish() }
            try await server.run(host: "127.0.0.1", port: port, stop: stop) { bound.continuation.yield($0) }
        }
        var iterator = bound.stream.makeAsyncIterator()
        guard let boundPort = await iterator.next() else { throw ValidationError("the server did not start") }
        var requestRNG = SplitMix64(seed: 11)
        let requests = (0..<100_000).map { _ in LoadClient.get(path: "/v1/recommendations/\(knownUsers[requestRNG.nextInt(below: knownUsers.count)])?n=10") }
        let ceiling = LoadClient.run(host: "127.0.0.1", port: boundPort, requests: Array(requests.prefix(200_000)), connections: connections)
        print(
            String(
                format: "HTTP cached, closed loop (%d keep-alive connections): %.0f requests/s, %d failures", connections,
                Double(ceiling.requests) / ceiling.seconds, ceiling.failures))
        // Medians over `repeats` open-loop runs at `rate` (latencies in µs).
        func pacedRuns(_ requests: [[UInt8]], rate: Double) throws -> (p50s: [Double], p99s: [Double], achieved: [Double], failures: Int, first: String?) {
            var runs: (p50s: [Double], p99s: [Double], achieved: [Double], failures: Int, first: String?) = ([], [], [], 0, nil)
            for _ in 0..<repeats {
                let outcome = LoadClient.runPaced(
                    host: "127.0.0.1", port: boundPort, requests: requests, connections: connections, rate: rate, seconds: seconds)
                let sorted = outcome.latencies.sorted()
                guard !sorted.isEmpty else { throw ValidationError("no answer: \(outcome.firstFailure ?? "?")") }
                runs.p50s.append(sorted[sorted.count / 2])
                runs.p99s.append(sorted[sorted.count * 99 / 100])
                runs.achieved.append(Double(outcome.requests) / outcome.seconds)
                runs.failures += outcome.failures
                runs.first = runs.first ?? outcome.firstFailure
            }
            return runs
        }
        let median = { (values: [Double]) in values.sorted()[values.count / 2] }
        let perRun = { (p99s: [Double]) in "; p99 per run: \(p99s.map { String(format: "%.2f", $0 / 1000) }.joined(separator: ", ")) ms" }
        let cached = try pacedRuns(requests, rate: rate)
        print(
            String(
                format: "HTTP cached at %.0f requests/s (open loop, %d runs of %.0f s): achieved %.0f/s, p50 %.2f ms, p99 %.2f ms (medians), %d failures",
                rate, repeats, seconds, median(cached.achieved), median(cached.p50s) / 1000, median(cached.p99s) / 1000, cached.failures)
                + perRun(cached.p99s))
        // The live fallback over HTTP (users known only by recent events), at its own rate.
        let liveRequests = (0..<20_000).map { _ in LoadClient.get(path: "/v1/recommendations/live-\(requestRNG.nextInt(below: liveUsers))?n=10") }
        let live = try pacedRuns(liveRequests, rate: liveRate)
        guard live.failures == 0 else { throw ValidationError("live over HTTP: \(live.failures) failures: \(live.first ?? "?")") }
        print(
            String(
                format: "HTTP live fallback at %.0f requests/s (open loop, %d runs of %.0f s): achieved %.0f/s, p50 %.2f ms, p99 %.2f ms (medians)", liveRate,
                repeats, seconds, median(live.achieved), median(live.p50s) / 1000, median(live.p99s) / 1000) + perRun(live.p99s))
        if hold > 0 {
            print("serving on 127.0.0.1:\(boundPort) for \(Int(hold)) s (GET /v1/recommendations/{user}?n=10)")
            fflush(nil)
            // Until the hold ends or a signal (SIGTERM, Ctrl-C) stops the server.
            await withTaskGroup(of: Void.self) { group in
                group.addTask { try? await Task.sleep(for: .seconds(hold)) }
                group.addTask { for await _ in stopped.stream {} }
                await group.next()
                group.cancelAll()
            }
        }
        stop.stop()
        try await serverTask.value
        await store.close()
    }

    func loadInteractions() throws -> InteractionData {
        guard let tsv else {
            let generated = SyntheticInteractions.generate(users: users, items: items, target: interactions)
            return InteractionData(
                users: IDMap((0..<users).map { "u\($0)" }), items: IDMap((0..<items).map { "i\($0)" }), matrix: generated.matrix)
        }
        var builder = InteractionBuilder()
        var seen = Set<Int64>()
        let text = try String(contentsOfFile: tsv, encoding: .utf8)
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "\t")
            guard parts.count >= 2, let user = Int64(parts[0]), let item = Int64(parts[1]) else { continue }
            guard seen.insert(user << 32 | item).inserted else { continue }
            builder.add(user: String(user), item: String(item), weight: 1)
        }
        return builder.build()
    }
}
