import ArgumentParser
import Foundation
import StrataCore
import StrataServer

/// `strata serve`: the HTTP API on the configured backends.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server (SIGTERM or Ctrl-C stops it cleanly).")

    @OptionGroup var data: DataOptions
    @OptionGroup var listen: ListenOptions

    func run() async throws {
        let logger = data.bootstrapLogging()
        try await runReportingErrors {
            let (config, lake) = try data.openLake(logger: logger)
            let (host, port) = listen.resolve(config)
            let server = StrataHTTPServer(lake: lake, features: try data.openFeatureStore(lake, logger: logger), logger: logger)
            try await server.run(host: host, port: port) { bound in
                logger.info(
                    "serving",
                    metadata: ["url": "http://\(host):\(bound)", "data_dir": "\(lake.directory.projectRoot)", "contract_version": "\(config.contract.version)"])
            }
        }
    }
}

/// `--host` and `--port`, with `STRATA_HOST` / `STRATA_PORT` and the file's `server` section.
struct ListenOptions: ParsableArguments {
    @Option(help: "Address to listen on (env STRATA_HOST; default from strata.yaml, 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on; 0 picks a free one (env STRATA_PORT; default from strata.yaml, 8080).")
    var port: Int?

    func resolve(_ config: StrataCore.StrataConfig) -> (String, Int) {
        let environment = ProcessInfo.processInfo.environment
        return (
            host ?? environment["STRATA_HOST"] ?? config.server.host,
            port ?? environment["STRATA_PORT"].flatMap(Int.init) ?? config.server.port
        )
    }
}
