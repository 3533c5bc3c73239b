import ArgumentParser
import Foundation
import StrataCore
import StrataServer

/// `strata serve`: the HTTP API on the configured backends.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server (SIGTERM or Ctrl-C stops it cleanly).")

    @OptionGroup var data: DataOptions
    @OptionGroup var listen: ListenOptions
    @OptionGroup var auth: AuthOptions

    func run() async throws {
        let logger = data.bootstrapLogging()
        try await runReportingErrors {
            let (config, lake) = try data.openLake(logger: logger)
            let (host, port) = listen.resolve(config)
            let (server, governance, firstKey) = try await data.makeServer(lake, auth: auth, logger: logger)
            if let firstKey { printFirstAdminKey(firstKey) }
            do {
                try await server.run(host: host, port: port) { bound in
                    logger.info(
                        "serving",
                        metadata: [
                            "url": "http://\(host):\(bound)", "data_dir": "\(lake.directory.projectRoot)", "contract_version": "\(config.contract.version)",
                        ])
                }
            } catch {
                await governance.close()
                throw error
            }
            await governance.close()
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

/// The first admin key goes to standard output once; it is stored only as a hash.
func printFirstAdminKey(_ key: String) {
    print(
        """

        First start: an admin API key was created. It is shown only this once; keep it.
          \(key)
        Send it as `Authorization: Bearer <key>`; `strata keys create --name NAME --roles ROLES` makes more.

        """)
    fflush(nil)
}
