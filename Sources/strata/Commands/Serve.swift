import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import StrataCore
import StrataKafka
import StrataLake
import StrataMetadata
import StrataRedis
import StrataS3
import StrataServer

/// `strata serve`: the HTTP API on the configured backends.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server (SIGTERM or Ctrl-C stops it cleanly).")

    @OptionGroup var data: DataOptions
    @OptionGroup var listen: ListenOptions
    @OptionGroup var auth: AuthOptions
    @OptionGroup var cluster: RoleOptions

    func run() async throws {
        let logger = data.bootstrapLogging()
        try await runReportingErrors {
            let role = try cluster.resolvedRole()
            let lease = role == .worker ? try await electWorker(logger: logger) : nil
            let (config, lake) = try await openLake(waiting: lease != nil, logger: logger)
            let (host, port) = listen.resolve(config)
            let (server, governance, firstKey) = try await data.makeServer(lake, config: config, auth: auth, role: role, logger: logger)
            if let firstKey { printFirstAdminKey(firstKey) }
            let cluster = self.cluster
            var background: [any Service] = lease.map { [LeaseKeeper(lease: $0, logger: logger)] } ?? []
            if role.runsBackgroundWork, let bucket = try Backends.lakeBucket(config, logger: logger) {
                background.append(
                    LakeMirrorService(
                        mirror: LakeMirror(client: bucket, directory: lake.directory, logger: logger), lake: lake,
                        intervalMillis: config.lake.compactIntervalMillis))
            }
            if role.runsBackgroundWork, let features = server.features, let redis = try Backends.onlineRedis(config) {
                background.append(
                    RedisFeaturePublisher(store: features, client: redis, namespace: config.project, definitions: config.contract.features, logger: logger))
            }
            if role.runsBackgroundWork, let kafka = Backends.kafka(config) {
                background.append(try KafkaSource(config: kafka, lake: lake, logger: logger))
            }
            do {
                try await server.run(host: host, port: port, extraServices: background) { bound in
                    if let lease {
                        do {
                            try await lease.advertise(url: cluster.advertisedURL(host: host, port: bound))
                        } catch {
                            logger.error("could not publish the worker's address", metadata: ["error": "\(error)"])
                        }
                    }
                    logger.info(
                        "serving",
                        metadata: [
                            "url": "http://\(host):\(bound)", "data_dir": "\(lake.directory.projectRoot)", "contract_version": "\(config.contract.version)",
                            "role": "\(role.rawValue)",
                        ])
                }
            } catch {
                await governance.close()
                await lease?.release()
                throw error
            }
            await governance.close()
            await lease?.release()
        }
    }

    /// Waits (as a standby) until this process is the project's worker.
    func electWorker(logger: Logger) async throws -> WorkerLease {
        let config = try data.loadConfig()
        let directory = DataDirectory(root: data.dataDirectory(config), project: config.project)
        let lease = try await WorkerLease.acquire(
            url: config.backends.metadata, defaultSQLitePath: Backends.metadataSQLitePath(directory), project: config.project, logger: logger
        ) { logger.info("standby: another worker holds the lease; taking over when it stops") }
        logger.info("elected the project's worker", metadata: ["project": "\(config.project)"])
        return lease
    }

    /// Opens the lake; a newly elected worker waits (up to 30 s) for a predecessor that lost its
    /// lease to let go of a shared data folder.
    func openLake(waiting: Bool, logger: Logger) async throws -> (StrataConfig, Lake) {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            do {
                return try data.openLake(logger: logger)
            } catch let error as StrataError where error.code == "data_dir_locked" && waiting && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(250))
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

    /// The flags, else the configuration (where STRATA_HOST / STRATA_PORT were applied).
    func resolve(_ config: StrataCore.StrataConfig) -> (String, Int) {
        (host ?? config.server.host, port ?? config.server.port)
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
