import ArgumentParser
import Foundation
import Logging
import StrataCore
import StrataLake
import StrataServer

/// `strata bench ...`: release-mode benchmarks of the hot paths.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks (build with -c release).",
        subcommands: [
            Ingest.self, BenchALS.self, BenchServing.self, BenchRecommendations.self, BenchFeatures.self, BenchHTTP.self, BenchKafka.self, BenchS3.self,
            BenchExperiments.self, BenchScale.self, BenchMemory.self,
        ])

    struct Ingest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ingestion throughput: NDJSON batches over HTTP with fsync, single events over keep-alive, and the in-process path.")

        @Option(help: "Events per repeat in the batch and in-process modes.") var events = 100_000
        @Option(help: "Events per NDJSON batch.") var batch = 1000
        @Option(help: "Requests per repeat in the single-event mode.") var singleEvents = 20_000
        @Option(help: "Concurrent keep-alive connections (and in-process writers).") var connections = 4
        @Option(help: "Concurrent connections in the single-event mode (group commit lets them share flushes).") var singleConnections = 32
        @Option(help: "Repeats per mode; the median is reported.") var repeats = 5
        @Option(help: "Benchmark a running server at host:port instead of an in-process one (HTTP modes only).") var target: String?
        @Option(help: "Modes to run: http-batch, http-single, in-process (comma-separated).") var modes = "http-batch,http-single,in-process"

        func run() async throws {
            LoggingSetup.bootstrap(format: "text")
            var logger = Logger(label: "strata-bench")
            logger.logLevel = .warning
            let selected = Set(modes.split(separator: ",").map(String.init))
            let config = StrataConfig.example()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("strata-bench-\(getpid())").path
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let lake = try Lake(config: config, dataDirectory: directory, logger: logger)
            var host = "127.0.0.1"
            var port = 0
            var serverTask: Task<Void, any Error>?
            let stop = StopHandle()
            if let target {
                let parts = target.split(separator: ":")
                host = String(parts[0])
                port = parts.count > 1 ? Int(parts[1]) ?? 8080 : 8080
            } else if !selected.isDisjoint(with: ["http-batch", "http-single"]) {
                let bound = AsyncStream<Int>.makeStream()
                let server = StrataHTTPServer(lake: lake, config: config, logger: logger)
                serverTask = Task { try await server.run(host: host, port: 0, stop: stop) { bound.continuation.yield($0) } }
                for await value in bound.stream {
                    port = value
                    break
                }
            }
            print(
                "strata bench ingest: \(events) events, batches of \(batch), \(connections) connections, \(repeats) repeats, fsync on; machine: \(ProcessInfo.processInfo.activeProcessorCount) cores"
            )

            var generatorConfig = GeneratorConfig(endMillis: SystemClock().nowMillis())
            generatorConfig.days = 2
            var generator = SyntheticGenerator(contract: config.contract, config: generatorConfig)
            let template = generator.history(limit: events)

            func lines(repeat round: Int, count: Int) -> [String] {
                (0..<count).map { index in
                    var event = template[index % template.count]
                    event.eventID = "bench-\(getpid())-\(round)-\(index)"
                    return event.json.serialized
                }
            }

            var results: [(String, [Double])] = []
            if selected.contains("http-batch") {
                var rates: [Double] = []
                for round in 0..<repeats {
                    let all = lines(repeat: round, count: events)
                    let requests = stride(from: 0, to: all.count, by: batch).map { start in
                        LoadClient.request(
                            path: "/v1/events", contentType: "application/x-ndjson",
                            body: Array(all[start..<min(start + batch, all.count)].joined(separator: "\n").utf8))
                    }
                    let outcome = LoadClient.run(host: host, port: port, requests: requests, connections: connections)
                    guard outcome.failures == 0 else { throw ValidationError("http-batch: \(outcome.failures) failed requests: \(outcome.firstFailure ?? "")") }
                    rates.append(Double(events) / outcome.seconds)
                }
                results.append(("http-batch (NDJSON x\(batch), fsync)", rates))
            }
            if selected.contains("http-single") {
                var rates: [Double] = []
                for round in 0..<repeats {
                    let requests = lines(repeat: 1000 + round, count: singleEvents).map {
                        LoadClient.request(path: "/v1/events", contentType: "application/json", body: Array($0.utf8))
                    }
                    let outcome = LoadClient.run(host: host, port: port, requests: requests, connections: singleConnections)
                    guard outcome.failures == 0 else {
                        throw ValidationError("http-single: \(outcome.failures) failed requests: \(outcome.firstFailure ?? "")")
                    }
                    rates.append(Double(singleEvents) / outcome.seconds)
                }
                results.append(("http-single (\(singleConnections) keep-alive conns, fsync)", rates))
            }
            if selected.contains("in-process") && target == nil {
                var rates: [Double] = []
                for round in 0..<repeats {
                    let all = lines(repeat: 2000 + round, count: events)
                    let bodies = stride(from: 0, to: all.count, by: batch).map { Array(all[$0..<min($0 + batch, all.count)].joined(separator: "\n").utf8) }
                    let start = MonotonicClock.nanoseconds()
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for worker in 0..<connections {
                            group.addTask {
                                for index in stride(from: worker, to: bodies.count, by: connections) {
                                    _ = try await lake.ingestor.ingest(body: bodies[index], format: .ndjson, source: "bench")
                                }
                            }
                        }
                        try await group.waitForAll()
                    }
                    rates.append(Double(events) * 1e9 / Double(MonotonicClock.nanoseconds() - start))
                }
                results.append(("in-process (validate + log append, fsync)", rates))
            }
            print("mode                                         median events/s      min        max")
            for (name, rates) in results {
                let sorted = rates.sorted()
                print(
                    name.padding(toLength: 44, withPad: " ", startingAt: 0),
                    String(format: "%16.0f %10.0f %10.0f", sorted[sorted.count / 2], sorted.first!, sorted.last!))
            }
            if let serverTask {
                stop.stop()
                try await serverTask.value  // closes the lake
            } else {
                await lake.close()
            }
        }
    }
}
