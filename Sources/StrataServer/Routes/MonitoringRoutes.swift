import Hummingbird
import StrataCore
import StrataMonitoring

/// Layer 6 over HTTP: drift of each deployment's model against its training baseline, CTR and
/// conversion per variant against its own history, and the alert rules' states.
struct MonitoringRoutes {
    /// nil: this process watches no drift (no serving or no registry, or an API replica).
    let drift: DriftWatcher?
    /// nil: this process serves nothing.
    let quality: QualityMonitor?
    /// nil: strata.yaml has no alert rules (the route answers an empty list).
    let alerts: AlertService?

    func register(on router: RouteRegistrar) {
        if let drift {
            router.get("/v1/monitoring/drift") { _, _ -> Response in
                JSONResponse.make(["deployments": .array(await drift.refresh().map(\.json))])
            }
        }
        if let quality {
            router.get("/v1/monitoring/quality") { _, _ -> Response in JSONResponse.make(quality.report()) }
        }
        let alerts = self.alerts
        router.get("/v1/monitoring/alerts") { _, _ -> Response in
            JSONResponse.make(["alerts": .array((alerts?.engine.current ?? []).map(\.json))])
        }
    }
}
