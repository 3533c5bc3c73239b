import ArgumentParser
import Foundation
import StrataCore
import StrataRegistry
import StrataTraining

/// `strata runs ls|show|compare`: experiment tracking.
struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "Training runs: their inputs, metrics and artifacts.", subcommands: [List.self, Show.self, Compare.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "Recent runs, newest first.")
        @OptionGroup var data: DataOptions
        @Option(help: "Only this model's runs.") var model: String?
        @Option(help: "How many.") var limit = 50

        func run() async throws {
            try await withGovernance(data) { governance in
                for run in try await governance.runs.list(model: model, limit: limit) {
                    print(
                        [
                            run.id, run.status.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0), run.model, EventTime.format(millis: run.startedAt),
                            "ndcg@10 " + (run.metrics["ndcg@10"].map { String(format: "%.4f", $0) } ?? "–"), "data " + run.dataVersion.prefix(12),
                        ].joined(separator: "  "))
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "One run as JSON, with its per-iteration metrics.")
        @OptionGroup var data: DataOptions
        @Argument(help: "Run id (or a unique prefix).") var id: String

        func run() async throws {
            try await withGovernance(data) { governance in
                let run = try await governance.runs.get(id)
                var object = run.json.objectValue!
                object["iterations"] = .array(
                    try await governance.runs.iterationMetrics(run.id).map {
                        ["step": .int(Int64($0.step)), "name": .string($0.name), "value": .double($0.value)]
                    })
                print(JSONValue.object(object).prettySerialized)
            }
        }
    }

    struct Compare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "compare", abstract: "Parameter and metric differences between two runs.")
        @OptionGroup var data: DataOptions
        @Argument(help: "First run.") var a: String
        @Argument(help: "Second run.") var b: String

        func run() async throws {
            try await withGovernance(data) { governance in
                print(RunComparison.text(try await governance.runs.get(a), try await governance.runs.get(b)))
            }
        }
    }
}

/// The differences between two runs, for people.
enum RunComparison {
    static func text(_ a: RunRecord, _ b: RunRecord) -> String {
        var lines = ["\(a.id) → \(b.id)"]
        for (label, x, y) in [
            ("model", a.model, b.model), ("algorithm", a.algorithm.rawValue, b.algorithm.rawValue), ("data version", a.dataVersion, b.dataVersion),
            ("contract version", a.contractVersion, b.contractVersion), ("code version", a.codeVersion, b.codeVersion),
            ("artifact", a.artifactHash ?? "–", b.artifactHash ?? "–"),
        ] where x != y {
            lines.append("  \(label): \(x) → \(y)")
        }
        let parameters = Set(a.parameters.keys).union(b.parameters.keys).sorted().filter { a.parameters[$0] != b.parameters[$0] }
        if !parameters.isEmpty { lines.append("parameters:") }
        for key in parameters { lines.append("  \(key): \(a.parameters[key].map { "\($0)" } ?? "–") → \(b.parameters[key].map { "\($0)" } ?? "–")") }
        lines.append("metrics:")
        for key in Set(a.metrics.keys).union(b.metrics.keys).sorted() {
            let x = a.metrics[key]
            let y = b.metrics[key]
            let delta = x.flatMap { x in y.map { String(format: " (%+.4f)", $0 - x) } } ?? ""
            lines.append("  \(key): \(x.map { String(format: "%.4f", $0) } ?? "–") → \(y.map { String(format: "%.4f", $0) } ?? "–")\(delta)")
        }
        return lines.joined(separator: "\n")
    }
}
