import ArgumentParser
import Foundation
import StrataCore

/// `strata deploy ...`: deployments of a running server (variants, canaries, rollback, the
/// cache, A/B reports).
struct DeployCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy", abstract: "Deployments of a running server: variants and A/B tests, canaries, instant rollback, the precomputed cache.",
        subcommands: [Status.self, Set.self, Rollback.self, Canary.self, Precompute.self, Experiment.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status", abstract: "A deployment's variants, models, cache, statistics and history (JSON).")
        @OptionGroup var server: ServerOptions
        @Argument(help: "The deployment (default: every one, briefly).") var name: String?

        func run() async throws {
            try await runReportingErrors {
                let json = try await server.call("GET", name.map { "/v1/deployments/\($0)" } ?? "/v1/deployments")
                output(json.prettySerialized)
            }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set", abstract: "Set a deployment's variants: --variant A=als-main@production:50 --variant B=als-main@4:50 [--shadow bpr@2].")
        @OptionGroup var server: ServerOptions
        @Argument var name: String
        @Option(name: .customLong("variant"), help: "NAME=MODEL@VERSION:WEIGHT (VERSION may be production); 1 to 3, the first is the control.")
        var variants: [String] = []
        @Option(help: "A model version that scores the same requests without being shown.") var shadow: String?
        @Option(help: "A new salt (re-randomises which users get which variant).") var salt: String?

        func run() async throws {
            try await runReportingErrors {
                var specs: [JSONValue] = []
                for text in variants {
                    let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
                    let modelAndWeight = parts.count == 2 ? parts[1].split(separator: ":", maxSplits: 1).map(String.init) : []
                    guard parts.count == 2, let weight = modelAndWeight.count == 2 ? Double(modelAndWeight[1]) : 100 else {
                        throw StrataError.invalid("invalid_variant", "write a variant as NAME=MODEL@VERSION:WEIGHT, e.g. B=als-main@4:50")
                    }
                    specs.append(["name": .string(parts[0]), "model": .string(modelAndWeight[0]), "weight": .double(weight)])
                }
                var body: [String: JSONValue] = ["variants": .array(specs)]
                if let shadow { body["shadow"] = ["name": "shadow", "model": .string(shadow)] }
                if let salt { body["salt"] = .string(salt) }
                output(try await server.call("PUT", "/v1/deployments/\(name)", body: .object(body)).prettySerialized)
            }
        }
    }

    struct Rollback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rollback", abstract: "Stop a running canary, or put the previous production version back (takes effect at once).")
        @OptionGroup var server: ServerOptions
        @Argument(help: "The deployment.") var name = "default"

        func run() async throws {
            try await runReportingErrors {
                let outcome = try await server.call("POST", "/v1/deployments/\(name)/rollback")
                output(
                    "\(outcome["action"]?.stringValue ?? "rolled back"); now serving \(outcome["serving"]?.arrayValue?.compactMap(\.stringValue).joined(separator: ", ") ?? "?") (\(String(format: "%.1f", outcome["ms"]?.doubleValue ?? 0)) ms)"
                )
            }
        }
    }

    struct Canary: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "canary", abstract: "Ramp an approved version up step by step, rolling back automatically on a breached guardrail.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "The version, NAME@VERSION.") var reference: String
        @Option(help: "Traffic percentages, in order.") var steps = "5,25,50,100"
        @Option(help: "How long each step runs before the next.") var interval = "10m"
        @Option(help: "The deployment.") var deployment = "default"

        func run() async throws {
            try await runReportingErrors {
                let percentages = steps.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
                let body: JSONValue = ["model": .string(reference), "steps": .array(percentages.map(JSONValue.double)), "interval": .string(interval)]
                let json = try await server.call("POST", "/v1/deployments/\(deployment)/canary", body: body)
                output("canary started on \(deployment): \(reference) at \(steps)% every \(interval)\n\(json["canary"]?.prettySerialized ?? "")")
            }
        }
    }

    struct Precompute: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "precompute", abstract: "Run the batch job now: top-N per known user for every variant's model.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "The deployment.") var name = "default"

        func run() async throws {
            try await runReportingErrors {
                output(try await server.call("POST", "/v1/deployments/\(name)/precompute").prettySerialized)
            }
        }
    }

    struct Experiment: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "experiment", abstract: "The A/B report: CTR with 95% intervals, conversion, revenue per user, p-values and a verdict.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "The deployment.") var name = "default"
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await runReportingErrors {
                let report = try await server.call("GET", "/v1/experiments/\(name)")
                if json {
                    output(report.prettySerialized)
                    return
                }
                var lines = ["variant  model              impressions  clicks  CTR (95% interval)        conversion  revenue/user  p-value"]
                for row in report["variants"]?.arrayValue ?? [] {
                    let interval = row["ctr_95"]?.arrayValue?.compactMap(\.doubleValue) ?? [0, 0]
                    lines.append(
                        [
                            (row["variant"]?.stringValue ?? "").padding(toLength: 8, withPad: " ", startingAt: 0),
                            (row["model"]?.stringValue ?? "").padding(toLength: 18, withPad: " ", startingAt: 0),
                            String(row["impressions"]?.intValue ?? 0).padding(toLength: 12, withPad: " ", startingAt: 0),
                            String(row["clicks"]?.intValue ?? 0).padding(toLength: 7, withPad: " ", startingAt: 0),
                            String(
                                format: "%.2f%% [%.2f, %.2f]", (row["ctr"]?.doubleValue ?? 0) * 100, interval.first.map { $0 * 100 } ?? 0,
                                interval.last.map { $0 * 100 } ?? 0
                            ).padding(toLength: 25, withPad: " ", startingAt: 0),
                            String(format: "%.2f%%", (row["conversion"]?.doubleValue ?? 0) * 100).padding(toLength: 11, withPad: " ", startingAt: 0),
                            String(format: "%.2f", row["revenue_per_user"]?.doubleValue ?? 0).padding(toLength: 13, withPad: " ", startingAt: 0),
                            row["p_value"]?.doubleValue.map { String(format: "%.4f", $0) } ?? "control",
                        ].joined(separator: " "))
                }
                lines.append("")
                lines.append(report["verdict"]?.stringValue ?? "")
                output(lines.joined(separator: "\n"))
            }
        }
    }
}
