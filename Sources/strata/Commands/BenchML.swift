import ArgumentParser
import Foundation
import StrataCore
import StrataML

/// `strata bench als`: ALS fit speed and memory on the anchor's datasets.
struct BenchALS: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "als",
        abstract: "ALS fit time (per iteration on the synthetic 10M set, whole fit on a split) and peak memory.",
        discussion: """
            Same data as the anchor: --synthetic regenerates synthetic_als_bench.py's dataset bit for bit (its checksum is printed); \
            --split DIR reads the anchor's train.tsv. Same model as the anchor's: implicit's alpha=1 is Strata's alpha=0 \
            (confidence 1 + alpha·r).
            """)

    @Flag(help: "The anchor's synthetic dataset (200,000 users × 50,000 items, ~10M interactions).") var synthetic = false
    @Option(help: "A split folder (train.tsv); default when --synthetic is not given: ../shared/datasets/ml-latest-small/split_temporal.") var split: String?
    @Option(help: "Synthetic users.") var users = 200_000
    @Option(help: "Synthetic items.") var items = 50_000
    @Option(help: "Synthetic target interactions.") var target = 10_000_000
    @Option(parsing: .upToNextOption, help: "Thread counts to measure.") var threads: [Int] = [1, 2]
    @Option(help: "ALS iterations per fit (default: 5 synthetic, 15 split).") var iterations: Int?
    @Option(help: "Fits per thread count; medians are reported.") var repeats = 3
    @Option(help: "ALS alpha (Strata's convention).") var alpha: Double = 0
    @Option(help: "Factors.") var factors = 64
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let data: InteractionData
        var dataset: [String: JSONValue] = [:]
        let start = MonotonicClock.nanoseconds()
        if synthetic {
            let generated = SyntheticInteractions.generate(users: users, items: items, target: target)
            data = InteractionData(users: IDMap((0..<users).map(String.init)), items: IDMap((0..<items).map(String.init)), matrix: generated.matrix)
            dataset = ["name": "synthetic", "checksum": .string(String(generated.checksum, radix: 16)), "interactions": .int(generated.matrix.nonZeros)]
        } else {
            let folder = split ?? "../shared/datasets/ml-latest-small/split_temporal"
            data = try EvaluationData.splitFolder(folder).train
            dataset = ["name": .string(folder), "interactions": .int(data.matrix.nonZeros)]
        }
        dataset["load_seconds"] = .double(Double(MonotonicClock.nanoseconds() - start) / 1e9)
        dataset["users"] = .int(data.users.count)
        dataset["items"] = .int(data.items.count)
        if !json {
            print(
                "dataset \(dataset["name"]!.stringValue!): \(data.users.count) users × \(data.items.count) items, \(data.matrix.nonZeros) interactions\(synthetic ? ", checksum \(dataset["checksum"]!.stringValue!)" : "")"
            )
        }
        let iterationCount = iterations ?? (synthetic ? 5 : 15)
        let spec = try ModelSpec(name: "als", algorithm: .als, parameters: ["factors": Double(factors), "alpha": alpha, "iterations": Double(iterationCount)])
        var results: [JSONValue] = []
        for threadCount in threads {
            var fits: [Double] = []
            var iterationMedians: [Double] = []
            var peaks: [Int] = []
            for _ in 0..<repeats {
                let baseline = MemoryProbe.resetPeak()
                var perIteration: [Double] = []
                let fitStart = MonotonicClock.nanoseconds()
                _ = try ModelTrainer.fit(spec, data: data, threads: threadCount) { perIteration.append($0.seconds) }
                fits.append(Double(MonotonicClock.nanoseconds() - fitStart) / 1e9)
                iterationMedians.append(perIteration.sorted()[perIteration.count / 2])
                peaks.append(MemoryProbe.peakBytes() - baseline)
            }
            let median = { (values: [Double]) in values.sorted()[values.count / 2] }
            let inputBytes = data.matrix.byteSize + (data.users.count + data.items.count) * factors * 4
            let row: JSONValue = [
                "threads": .int(threadCount), "fit_seconds_median": .double(median(fits)), "fit_seconds": .array(fits.map { .double($0) }),
                "iteration_seconds_median": .double(median(iterationMedians)), "peak_extra_bytes": .int(peaks.max() ?? 0),
                "csr_plus_factors_bytes": .int(inputBytes),
            ]
            results.append(row)
            if !json {
                print(
                    String(
                        format:
                            "threads %d: fit %.3f s (median of %d), per iteration %.3f s; peak memory during fit +%.0f MB beyond the loaded data (CSR + factors = %.0f MB)",
                        threadCount, median(fits), repeats, median(iterationMedians), Double(peaks.max() ?? 0) / 1e6, Double(inputBytes) / 1e6))
            }
        }
        if json {
            print(
                JSONValue.object(["dataset": .object(dataset), "iterations": .int(iterationCount), "alpha": .double(alpha), "runs": .array(results)]).serialized
            )
        }
    }
}

/// `strata bench serving`: fold-in and top-10 recommendation latency at 64 factors.
struct BenchServing: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serving", abstract: "Fold-in of a 20-interaction user and top-10 over a 50,000-item catalog, one core.")

    @Option(help: "Catalog size.") var items = 50_000
    @Option(help: "Factors.") var factors = 64
    @Option(help: "Interactions per folded-in user.") var history = 20
    @Option(help: "Measurements (the median is reported).") var samples = 2000

    func run() async throws {
        // An ALS model on synthetic data of the requested catalog size (trained briefly: the
        // latency depends on the shapes, not on the quality).
        let generated = SyntheticInteractions.generate(users: 20_000, items: items, target: 1_000_000)
        let data = InteractionData(users: IDMap((0..<20_000).map(String.init)), items: IDMap((0..<items).map(String.init)), matrix: generated.matrix)
        let model = try ALSModel.fit(data, parameters: ALSParameters(factors: factors, alpha: 1, iterations: 3), threads: Parallel.coreCount)
        var rng = SplitMix64(seed: 7)
        var foldIn: [Double] = []
        var recommend: [Double] = []
        var sink: Float = 0
        for _ in 0..<samples {
            let picked = (0..<history).map { _ in Int32(rng.nextInt(below: items)) }
            let weights = [Float](repeating: 1, count: history)
            let start = MonotonicClock.nanoseconds()
            let vector = model.foldIn(items: picked, weights: weights)
            let folded = MonotonicClock.nanoseconds()
            let top = model.recommend(UserQuery(items: picked, weights: weights), n: 10, precomputedVector: vector)
            let done = MonotonicClock.nanoseconds()
            foldIn.append(Double(folded - start) / 1e3)
            recommend.append(Double(done - folded) / 1e3)
            sink += top.first?.score ?? 0
        }
        let median = { (values: [Double]) in values.sorted()[values.count / 2] }
        let p99 = { (values: [Double]) in values.sorted()[values.count * 99 / 100] }
        print(String(format: "fold-in (%d interactions, %d factors): median %.1f µs, p99 %.1f µs", history, factors, median(foldIn), p99(foldIn)))
        print(
            String(
                format: "top-10 over %d items (%d factors, one core): median %.3f ms, p99 %.3f ms", items, factors, median(recommend) / 1000,
                p99(recommend) / 1000))
        if sink.isNaN { print("") }
    }
}

/// Peak resident memory through /proc (Linux): reset the high-water mark, read it later.
enum MemoryProbe {
    /// Resets the peak and returns the current resident size.
    static func resetPeak() -> Int {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
        return read("VmRSS")
    }

    static func peakBytes() -> Int { read("VmHWM") }

    static func residentBytes() -> Int { read("VmRSS") }

    private static func read(_ key: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix(key + ":") }),
            let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kilobytes * 1024
    }
}
