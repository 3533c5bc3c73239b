import Hummingbird
import StrataCore
import StrataTraining

extension GovernanceRoutes {
    /// `POST /v1/training/retrain`: what the schedule does, now.
    func registerRetraining(on router: RouteRegistrar, retrainer: Retrainer) {
        router.post("/v1/training/retrain") { request, _ -> Response in
            let body = try? await request.jsonBody(limit: 1 << 16)  // optional: {"models": [...], "reason": "..."}
            let models = body?["models"]?.arrayValue?.compactMap(\.stringValue)
            let results = try await retrainer.retrain(models: models, reason: body?["reason"]?.stringValue ?? "requested", by: request.principal(keys))
            return JSONResponse.make(["results": .array(results)], status: .created)
        }
    }
}
