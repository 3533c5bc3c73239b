import ArgumentParser
import Foundation
import StrataCore

/// `strata monitor ...`: what layer 6 sees in a running server.
struct MonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor", abstract: "Monitoring of a running server: drift against training baselines.", subcommands: [Status.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status", abstract: "Drift (PSI, KS) of each served model's features and scores against its training baseline.")
        @OptionGroup var server: ServerOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await runReportingErrors {
                let answer = try await server.call("GET", "/v1/monitoring/drift")
                if json {
                    output(answer.prettySerialized)
                    return
                }
                var lines: [String] = []
                for report in answer["deployments"]?.arrayValue ?? [] {
                    let drifting = report["drifting"]?.arrayValue?.compactMap(\.stringValue) ?? []
                    lines.append(
                        "deployment \(report["deployment"]?.stringValue ?? "?"): \(report["model"]?.stringValue ?? "no model")"
                            + (drifting.isEmpty ? ", no drift" : ", DRIFTING: \(drifting.joined(separator: ", "))")
                            + (report["note"]?.stringValue.map { " (\($0))" } ?? ""))
                    let measures = (report["features"]?.arrayValue ?? []) + (report["scores"].map { $0 == .null ? [] : [$0] } ?? [])
                    for measure in measures {
                        lines.append(
                            "  \((measure["name"]?.stringValue ?? "").padding(toLength: 24, withPad: " ", startingAt: 0)) "
                                + String(
                                    format: "PSI %6.3f  KS %5.3f  (%lld samples, threshold %.2f)", measure["psi"]?.doubleValue ?? 0,
                                    measure["ks"]?.doubleValue ?? 0,
                                    measure["samples"]?.intValue ?? 0, measure["threshold"]?.doubleValue ?? 0)
                                + (measure["drifting"]?.boolValue == true ? "  drifting" : ""))
                    }
                }
                output(lines.joined(separator: "\n"))
            }
        }
    }
}
