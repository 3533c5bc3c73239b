import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import StrataCore
import StrataMetadata
import StrataServer
import Synchronization

extension ServerRole: ExpressibleByArgument {}

/// `--role` and `--advertise-url`, with `STRATA_ROLE` / `STRATA_ADVERTISE_URL`.
struct RoleOptions: ParsableArguments {
    @Option(help: "api (stateless replica), worker (elected owner of the event data) or all (env STRATA_ROLE; default all).")
    var role: ServerRole?

    @Option(help: "The URL API replicas reach this worker at (env STRATA_ADVERTISE_URL; default http://<host>:<port>).")
    var advertiseURL: String?

    func resolvedRole() throws -> ServerRole {
        if let role { return role }
        guard let text = ProcessInfo.processInfo.environment["STRATA_ROLE"], !text.isEmpty else { return .all }
        guard let role = ServerRole(rawValue: text) else { throw StrataError.invalid("invalid_role", "STRATA_ROLE '\(text)' is not api, worker or all") }
        return role
    }

    /// Where API replicas forward to: the flag, the environment, or this process's address.
    func advertisedURL(host: String, port: Int) -> String {
        if let url = advertiseURL ?? ProcessInfo.processInfo.environment["STRATA_ADVERTISE_URL"], !url.isEmpty { return url }
        let reachable = ["0.0.0.0", "::", ""].contains(host) ? ProcessInfo.processInfo.hostName : host
        return "http://\(reachable.contains(":") ? "[\(reachable)]" : reachable):\(port)"
    }
}

/// An API replica's view of where the worker is: the address the elected worker published in
/// the metadata store, looked up again when it stops answering.
final class WorkerDirectory: Sendable {
    let store: MetadataStore
    let project: String
    private let cached = Mutex<String?>(nil)

    init(store: MetadataStore, project: String) {
        self.store = store
        self.project = project
    }

    func locate(refresh: Bool) async -> String? {
        if !refresh, let url = cached.withLock({ $0 }) { return url }
        let url = (try? await WorkerLease.current(store: store, project: project))??.url
        cached.withLock { $0 = url }
        return url
    }
}

/// Keeps the worker's lease: when its connection to the metadata store is lost, another
/// process may already have taken over, so this one stops (its supervisor restarts it, as a
/// standby) instead of writing beside the new worker.
struct LeaseKeeper: Service {
    let lease: WorkerLease
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown { await lease.watch() }
        guard !Task.isShuttingDownGracefully, !Task.isCancelled else { return }
        logger.critical("lost the worker lease (the metadata store stopped answering); stopping so that only one worker runs")
        throw StrataError(.unavailable, code: "worker_lease_lost", "the worker lease was lost")
    }
}
