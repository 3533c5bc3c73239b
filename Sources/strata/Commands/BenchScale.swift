import ArgumentParser
import Foundation
import Logging
import StrataCore
import StrataLake
import StrataML
import StrataServing

/// `strata bench scale`: a synthetic shop of the requested size taken through every stage the
/// way a user would, reported as one table. The data stages are child processes of this binary
/// (`generate`, `import`, `lake compact`, `lake snapshot`, `train`), each timed with its own
/// peak resident memory; training adds its stages from the run record. Then the project is
/// opened in this process — start-up, the batch job over every active user, and the request
/// paths alone (cached answers, live answers for users known only by recent events, similar
/// items) — and finally `strata serve` with the production settings (API keys, rate limits,
/// metrics) is started and measured from start to ready and over HTTP at a fixed rate. Any
/// failed or refused request fails the benchmark.
struct BenchScale: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale", abstract: "A synthetic shop of a given size through every stage: wall time, peak memory and latency, as one table.")

    @Option(help: "Users of the synthetic shop.") var users = 200_000
    @Option(help: "Items of its catalogue.") var items = 50_000
    @Option(help: "Events of its history.") var events = 5_000_000
    @Option(help: "Work in this folder and keep it (default: a temporary one, removed at the end).") var directory: String?
    @Option(help: "Users known only by recent events (answered live).") var liveUsers = 1000
    @Option(help: "In-process samples per path.") var samples = 2000
    @Option(help: "Requests per second of each HTTP run.") var rate = 1000.0
    @Option(help: "Seconds per HTTP run.") var seconds = 10.0
    @Option(help: "Keep-alive connections of the HTTP runs.") var connections = 8

    struct Row {
        var stage: String
        var seconds: Double?
        var peakRSS: Int?
        var note: String
    }

    func run() async throws {
        let root = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("strata-bench-scale-\(getpid())").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { if directory == nil { try? FileManager.default.removeItem(atPath: root) } }
        let configPath = "\(root)/strata.yaml"
        // The example's settings, but the bench approves its own version, the batch job uses
        // every core (it runs before the server takes requests), and the key's rate limit
        // (still on) leaves room above the measured rate.
        let yaml = ExampleConfig.yaml
            .replacingOccurrences(of: "allow_self_approval: false", with: "allow_self_approval: true")
            .replacingOccurrences(of: "    threads: 1 ", with: "    threads: \(Parallel.coreCount) ")
            .replacingOccurrences(of: "rate_limit: { per_key: 1000, burst: 2000 }", with: "rate_limit: { per_key: \(Int(rate * 5)), burst: \(Int(rate * 10)) }")
        try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
        let data = ["--data-dir", "\(root)/data", "--config", configPath, "--log-format", "json"]
        let eventsFile = "\(root)/events.ndjson"
        print("strata bench scale: \(users) users × \(items) items × \(events) events in \(root); \(Parallel.coreCount) cores")
        fflush(nil)

        var rows: [Row] = []
        func stage(_ name: String, _ arguments: [String], note: (String) -> String = { _ in "" }) throws -> String {
            let (exit, output) = try ChildProcess.run(arguments, in: root, name: name.replacingOccurrences(of: " ", with: "-"))
            rows.append(Row(stage: name, seconds: exit.seconds, peakRSS: exit.peakRSS, note: note(output)))
            print(String(format: "  %@: %.1f s, peak %.0f MB", name, exit.seconds, Double(exit.peakRSS) / 1e6))
            fflush(nil)
            return output
        }
        _ = try stage(
            "generate", ["generate", "--users", "\(users)", "--items", "\(items)", "--events", "\(events)", "--out", eventsFile, "--config", configPath])
        _ = try stage("import", ["import", eventsFile] + data)
        _ = try stage("compact", ["lake", "compact"] + data)
        _ = try stage("snapshot", ["lake", "snapshot"] + data)
        let trained = try stage("train", ["train", "--model", "als-main", "--json"] + data)
        let answer = try JSONValue.parse(trained.split(separator: "\n").last.map(String.init) ?? "")
        let metrics = answer["run"]?["metrics"]
        for name in ["read", "fit", "index", "evaluate", "baseline", "artifact", "gate"] {
            guard let value = metrics?["seconds_\(name)"]?.doubleValue else { continue }
            rows.append(Row(stage: "  train: \(name)", seconds: value, peakRSS: nil, note: name == "index" ? recallNote(metrics) : ""))
        }
        if let fit = metrics?["seconds_fit"]?.doubleValue, let total = metrics?["seconds_total"]?.doubleValue, fit > 0 {
            rows[rows.firstIndex { $0.stage == "train" }!].note = String(format: "run %.1f s = %.2f × its fit", total, total / fit)
        }
        guard let reference = answer["version"]?["reference"]?.stringValue else {
            throw ValidationError("training produced no version: \(trained.suffix(500))")
        }
        _ = try ChildProcess.run(["models", "approve", reference, "--reason", "benchmark"] + data, in: root, name: "approve")
        _ = try ChildProcess.run(["models", "promote", reference] + data, in: root, name: "promote")

        let ids = try await inProcess(root: root, configPath: configPath, rows: &rows)
        try httpRuns(root: root, data: data, ids: ids, rows: &rows)

        print("")
        print("stage".padding(toLength: 34, withPad: " ", startingAt: 0) + "      wall    peak RSS   notes")
        for row in rows {
            let wall = row.seconds.map { String(format: "%8.1f s", $0) } ?? "          "
            let rss = row.peakRSS.map { String(format: "%8.0f MB", Double($0) / 1e6) } ?? "           "
            print(row.stage.padding(toLength: 34, withPad: " ", startingAt: 0) + "\(wall) \(rss)   \(row.note)")
        }
    }

    func recallNote(_ metrics: JSONValue?) -> String {
        guard let recall = metrics?["ann_recall@10"]?.doubleValue else { return "exact search (below serving.ann.exact_below)" }
        return String(format: "HNSW recall@10 %.4f", recall)
    }

    /// What the HTTP runs ask for.
    struct IDs {
        var known: [String]
        var live: [String]
        var items: [String]
    }

    /// The project opened in this process: start-up, the batch job, and each request path alone.
    func inProcess(root: String, configPath: String, rows: inout [Row]) async throws -> IDs {
        var logger = Logger(label: "strata-bench")
        logger.logLevel = .warning
        let options = try DataOptions.parse(["--data-dir", "\(root)/data", "--config", configPath])
        let opening = MonotonicClock.nanoseconds()
        let (config, lake) = try options.openLake(logger: logger)
        let governance = try await ProjectMetadata.open(config: config, dataDirectory: options.dataDirectory(config), logger: logger)
        let features = try options.openFeatureStore(lake, config: config, logger: logger)
        let controller = try governance.deploymentController(lake: lake, features: features, logger: logger)
        try await controller.start()
        let opened = Double(MonotonicClock.nanoseconds() - opening) / 1e9
        rows.append(Row(stage: "open the project (in-process)", seconds: opened, peakRSS: nil, note: "lake, feature store replay, model load"))
        _ = try await controller.precompute()
        guard let progress = controller.precomputeProgress.first else { throw ValidationError("the batch job did not run") }
        rows.append(
            Row(
                stage: "precompute", seconds: progress.seconds, peakRSS: Self.peakRSS(),
                note: String(
                    format: "%d active users, %.0f users/s on %d threads", progress.activeUsers, progress.usersPerSecond, config.serving.precompute.threads)
            ))

        guard let model = controller.service.state(config.serving.deployment)?.variants.first?.model else { throw ValidationError("no model is served") }
        let recommender = model.recommender
        // Users known only by recent views: their answers come from the live path.
        var rng = SplitMix64(seed: 5)
        let now = lake.clock.nowMillis()
        let live = (0..<liveUsers).map { "bench-live-\($0)" }
        var incoming: [IncomingEvent] = []
        for user in live {
            for step in 0..<20 {
                let item = recommender.items.id(at: Int32(rng.nextInt(below: recommender.items.count)))
                incoming.append(IncomingEvent(type: "view", userID: user, time: .millis(now - Int64(20 - step) * 1000), fields: [("item_id", .string(item))]))
            }
        }
        for start in stride(from: 0, to: incoming.count, by: 10_000) {
            _ = try await lake.ingestor.ingest(events: Array(incoming[start..<min(start + 10_000, incoming.count)]), source: "bench")
        }
        try features.catchUp()
        await controller.service.activity.waitUntilApplied(through: lake.log.endOffset)

        let known = recommender.users.ids
        let active = Set(controller.service.activity.activeUsers(since: now - config.serving.precompute.activeWindowMillis))
        let cachedUsers = known.filter { active.contains($0) }
        let service = controller.service
        for (label, expected, pick) in [
            ("cached", RecommendationSource.cache, { (r: inout SplitMix64) in cachedUsers[r.nextInt(below: cachedUsers.count)] }),
            ("live", RecommendationSource.live, { (r: inout SplitMix64) in live[r.nextInt(below: live.count)] }),
        ] {
            var times: [Double] = []
            for _ in 0..<samples {
                let user = pick(&rng)
                let begin = MonotonicClock.nanoseconds()
                let answer = try await service.recommend(RecommendationRequest(user: user, n: 10))
                times.append(Double(MonotonicClock.nanoseconds() - begin) / 1e6)
                guard answer.source == expected, answer.items.count == 10 else {
                    throw ValidationError(
                        "\(user) was answered by \(answer.source.rawValue) with \(answer.items.count) items, not by \(expected.rawValue) with 10")
                }
            }
            rows.append(latencyRow("in-process \(label)", times))
        }
        var times: [Double] = []
        for _ in 0..<samples {
            let item = recommender.items.id(at: Int32(rng.nextInt(below: recommender.items.count)))
            let begin = MonotonicClock.nanoseconds()
            let answer = try service.similar(to: item, n: 10)
            times.append(Double(MonotonicClock.nanoseconds() - begin) / 1e6)
            guard answer.items.count == 10 else { throw ValidationError("similar items answered \(answer.items.count) items for \(item)") }
        }
        rows.append(latencyRow("in-process similar items", times))
        await lake.close()
        await governance.close()
        return IDs(known: cachedUsers, live: live, items: recommender.items.ids)
    }

    /// `strata serve` with keys on: start to ready, then each path over HTTP at a fixed rate.
    func httpRuns(root: String, data: [String], ids: IDs, rows: inout [Row]) throws {
        let created = try ChildProcess.run(["keys", "create", "--name", "bench", "--roles", "serve,ingest"] + data, in: root, name: "key")
        guard let key = created.output.split(separator: "\n").last.map(String.init), !key.isEmpty else { throw ValidationError("no key was created") }
        let log = "\(root)/serve.log"
        let server = try ChildProcess.start(["serve", "--port", "0"] + data, output: "\(root)/serve.out", errors: log)
        var stopped = false
        defer { if !stopped { kill(server.pid, SIGKILL) } }
        let port = try awaitLine(in: log, containing: "\"msg\":\"serving\"", server: server).flatMap { $0["url"]?.stringValue }
            .flatMap { $0.split(separator: ":").last.flatMap { Int($0) } }
        guard let port else { throw ValidationError("strata serve named no port") }
        let ready = Double(MonotonicClock.nanoseconds() - server.started) / 1e9
        let batch = try awaitLine(in: log, containing: "\"msg\":\"precomputed recommendations\"", server: server)
        rows.append(
            Row(
                stage: "serve: start to ready", seconds: ready, peakRSS: nil,
                note: "cache from the checkpoint: \(batch?["reused"]?.stringValue ?? "?") lists kept, \(batch?["computed"]?.stringValue ?? "?") computed"))

        var rng = SplitMix64(seed: 9)
        let headers = "Authorization: Bearer \(key)\r\n"
        for (label, paths) in [
            ("HTTP cached", (0..<20_000).map { _ in "/v1/recommendations/\(ids.known[rng.nextInt(below: ids.known.count)])?n=10" }),
            ("HTTP live", (0..<20_000).map { _ in "/v1/recommendations/\(ids.live[rng.nextInt(below: ids.live.count)])?n=10" }),
            ("HTTP similar items", (0..<20_000).map { _ in "/v1/items/\(ids.items[rng.nextInt(below: ids.items.count)])/similar?n=10" }),
        ] {
            let requests = paths.map { LoadClient.get(path: $0, headers: headers) }
            let outcome = LoadClient.runPaced(host: "127.0.0.1", port: port, requests: requests, connections: connections, rate: rate, seconds: seconds)
            guard outcome.failures == 0, !outcome.latencies.isEmpty else {
                throw ValidationError("\(label): \(outcome.failures) of \(outcome.requests) requests failed: \(outcome.firstFailure ?? "")")
            }
            var row = latencyRow("\(label) at \(Int(rate))/s", outcome.latencies.map { $0 / 1000 })
            row.note += String(format: ", achieved %.0f/s", Double(outcome.requests) / outcome.seconds)
            rows.append(row)
        }
        kill(server.pid, SIGTERM)
        let exit = server.wait()
        stopped = true
        rows.append(Row(stage: "serve (whole life)", seconds: exit.seconds, peakRSS: exit.peakRSS, note: "exit status \(exit.status)"))
    }

    /// Waits for a JSON log line containing `marker` while the server runs (bounded by 30 min).
    func awaitLine(in path: String, containing marker: String, server: ChildProcess) throws -> JSONValue? {
        let deadline = Date().addingTimeInterval(1800)
        while Date() < deadline {
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.contains(marker) }) { return try? JSONValue.parse(String(line)) }
            var status: Int32 = 0
            if waitpid(server.pid, &status, WNOHANG) == server.pid { throw ValidationError("strata serve exited: \(text.suffix(2000))") }
            usleep(20_000)
        }
        throw ValidationError("no \(marker) in the server's log after 30 minutes")
    }

    func latencyRow(_ label: String, _ millis: [Double]) -> Row {
        let sorted = millis.sorted()
        return Row(
            stage: label, seconds: nil, peakRSS: nil,
            note: String(format: "median %.3f ms, p99 %.3f ms (%d requests)", sorted[sorted.count / 2], sorted[sorted.count * 99 / 100], sorted.count))
    }

    /// This process's peak resident memory so far (VmHWM).
    static func peakRSS() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return nil }
        return kilobytes * 1024
    }
}
