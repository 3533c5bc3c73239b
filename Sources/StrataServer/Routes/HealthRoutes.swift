import Hummingbird
import StrataCore
import Synchronization

/// Whether the server should receive traffic: ready once started, not ready while stopping.
public final class Readiness: Sendable {
    private let ready = Atomic<Bool>(false)
    public init() {}
    public var isReady: Bool { ready.load(ordering: .acquiring) }
    public func set(_ value: Bool) { ready.store(value, ordering: .releasing) }
}

/// `/healthz` (the process is alive) and `/readyz` (it should receive traffic).
struct HealthRoutes {
    let readiness: Readiness

    func register(on router: RouteRegistrar) {
        router.get("/healthz") { _, _ in
            JSONResponse.make(["status": "ok", "version": .string(StrataVersion.current)])
        }
        router.get("/readyz") { _, _ -> Response in
            guard readiness.isReady else {
                return JSONResponse.make(["status": "not_ready"], status: .serviceUnavailable, headers: [.retryAfter: "1"])
            }
            return JSONResponse.make(["status": "ready"])
        }
    }
}
