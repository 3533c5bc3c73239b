import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import StrataCore
import StrataLake
import StrataServer

/// `strata up`: the whole platform on the embedded default, optionally with demo data.
struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start Strata on the embedded default (one folder, no services); --demo adds generated history, a live event stream and the dashboard's data."
    )

    @OptionGroup var data: DataOptions
    @OptionGroup var listen: ListenOptions
    @OptionGroup var auth: AuthOptions

    @Flag(help: "Ingest a generated history (catalog and events) if the data directory is empty, and stream generated live events.")
    var demo = false

    @Option(help: "Seed of the generated data.")
    var seed: UInt64 = 42

    @Option(help: "Live events per second in demo mode (0 turns the stream off).")
    var rate: Double = 20

    @Option(help: "Generated users.")
    var users = 500

    @Option(help: "Generated items.")
    var items = 2000

    @Option(help: "Days of generated history.")
    var days = 14

    @Option(help: "In demo mode, plant a shift in user tastes this long after start (e.g. 2m; off: never).")
    var shiftAfter = "2m"

    /// Simulated visitors' recommendation requests per second in demo mode.
    static let demoRequestsPerSecond = 8.0

    func run() async throws {
        let logger = data.bootstrapLogging()
        try await runReportingErrors {
            var config = try data.loadConfig()
            if demo {
                DemoTempo.apply(to: &config)
                logger.info("\(DemoTempo.summary)")
            }
            let lake = try Lake(config: config, dataDirectory: data.dataDirectory(config), logger: logger)
            let (host, port) = listen.resolve(config)
            var extra: [any Service] = []
            // The demo's history ends now, so that live traffic continues it.
            var generatorConfig = GeneratorConfig(endMillis: SystemClock().nowMillis())
            generatorConfig.seed = seed
            generatorConfig.users = users
            generatorConfig.items = items
            generatorConfig.days = days
            var shift = DemoShift()
            if demo {
                if shiftAfter != "off" {
                    guard let delay = DurationText.parseMillis(shiftAfter) else {
                        throw StrataError.invalid("invalid_duration", "--shift-after takes a duration such as 4m, or off")
                    }
                    shift.at = SystemClock().nowMillis() + delay
                }
                try await DemoData.loadHistoryIfEmpty(
                    lake: lake, contract: config.contract, config: generatorConfig, sessionsPerSecond: rate / LiveEventStream.eventsPerSession,
                    slatesPerSecond: Self.demoRequestsPerSecond, logger: logger)
                if rate > 0 {
                    extra.append(
                        LiveEventStream(lake: lake, contract: config.contract, config: generatorConfig, eventsPerSecond: rate, shift: shift, logger: logger))
                }
            }
            let (server, governance, firstKey) = try await data.makeServer(lake, config: config, auth: auth, logger: logger)
            if demo, let trainer = server.governance?.trainer {
                extra.append(DemoEvaluation(lake: lake, strata: config, board: server.evaluations, trainer: trainer, logger: logger))
                if let registry = server.governance?.registry, let serving = server.serving {
                    extra.append(
                        DemoServing(
                            lake: lake, strata: config, registry: registry, controller: serving, generator: generatorConfig,
                            requestsPerSecond: Self.demoRequestsPerSecond,
                            shift: shift, logger: logger))
                }
            }
            let project = config.project
            try await server.run(host: host, port: port, extraServices: extra) { bound in
                let url = "http://\(host == "0.0.0.0" ? "127.0.0.1" : host):\(bound)"
                logger.info("serving", metadata: ["url": "\(url)", "data_dir": "\(lake.directory.projectRoot)", "demo": "\(demo)"])
                // The dashboard link carries the first key (in the fragment: never sent to the server).
                let dashboard = firstKey.map { "\(url)/#key=\($0)" } ?? "\(url)/"
                let keyLine =
                    firstKey.map {
                        "  admin API key  \($0)\n                 (shown only this once; send it as Authorization: Bearer <key>)"
                    }
                    ?? (auth.noAuth
                        ? "  API keys       OFF (--no-auth)" : "  API keys       on: use your key (strata keys create --name NAME --roles admin makes one)")
                output(
                    """

                    Strata is up: project '\(project)', data in \(lake.directory.projectRoot)
                      dashboard      \(dashboard)
                    \(keyLine)
                      health         \(url)/healthz
                      lake status    \(url)/v1/lake
                      send an event  curl -X POST \(url)/v1/events -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \\
                                       -d '{"type":"view","user_id":"u1","item_id":"i7","timestamp":"\(EventTime.format(millis: SystemClock().nowMillis()))"}'
                      recommend      curl \(url)/v1/recommendations/u1?n=10 -H "Authorization: Bearer $KEY"
                      A/B report     strata deploy experiment default --url \(url)
                      query the lake duckdb -c "SELECT type, count(*) FROM read_parquet('\(lake.directory.lakeEvents)/**/*.parquet', hive_partitioning=true, union_by_name=true) GROUP BY type"
                    \(demo && rate > 0 ? "Streaming about \(Int(rate)) generated events per second. " : "")Ctrl-C stops it cleanly.

                    """)
            }
            await governance.close()
        }
    }
}
