import ArgumentParser
import Foundation
import StrataCore

/// `strata monitor ...`: what layer 6 sees in a running server.
struct MonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor", abstract: "Monitoring of a running server: drift against training baselines, quality per variant, alerts.",
        subcommands: [Status.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract:
                "Drift (PSI, KS) of each served model's features and scores against its training baseline; CTR per variant in the window against before; alerts."
        )
        @OptionGroup var server: ServerOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await runReportingErrors {
                let answer = try await server.call("GET", "/v1/monitoring/drift")
                let quality = try await server.call("GET", "/v1/monitoring/quality")
                let alerts = try await server.call("GET", "/v1/monitoring/alerts")
                if json {
                    output(JSONValue.object(["drift": answer, "quality": quality, "alerts": alerts]).prettySerialized)
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
                for deployment in quality["deployments"]?.arrayValue ?? [] {
                    for variant in deployment["variants"]?.arrayValue ?? [] {
                        let window = variant["window"]?["ctr"]?.doubleValue.map { String(format: "%.2f%%", $0 * 100) } ?? "–"
                        let before = variant["baseline"]?["ctr"]?.doubleValue.map { String(format: "%.2f%%", $0 * 100) } ?? "–"
                        lines.append(
                            "quality \(deployment["deployment"]?.stringValue ?? "")/\(variant["variant"]?.stringValue ?? ""): CTR \(window) in the window vs \(before) before"
                                + (variant["judged"]?.boolValue == true
                                    ? (variant["degraded"]?.boolValue == true ? "  DEGRADED" : "") : "  (not enough impressions yet)"))
                    }
                }
                for alert in alerts["alerts"]?.arrayValue ?? [] {
                    lines.append(
                        "alert \(alert["name"]?.stringValue ?? ""): \(alert["state"]?.stringValue ?? "")"
                            + (alert["value"]?.doubleValue.map { String(format: " (value %.4g, threshold %.4g)", $0, alert["threshold"]?.doubleValue ?? 0) }
                                ?? "")
                            + ", fired \(alert["firings"]?.intValue ?? 0) times")
                }
                output(lines.joined(separator: "\n"))
            }
        }
    }
}
