import Hummingbird
import StrataCore
import Synchronization

/// The latest offline evaluation of the configured models (what `strata evaluate` prints),
/// when one has run in this process: the demo evaluates its models on the demo snapshot.
public final class EvaluationBoard: Sendable {
    private let latest = Mutex<JSONValue?>(nil)

    public init() {}

    public func publish(_ report: JSONValue) { latest.withLock { $0 = report } }
    public var report: JSONValue? { latest.withLock { $0 } }
}

/// `GET /v1/evaluation`: the latest offline evaluation, or 404 until one has run.
struct EvaluationRoutes {
    let board: EvaluationBoard

    func register(on router: RouteRegistrar) {
        router.get("/v1/evaluation") { _, _ -> Response in
            guard let report = board.report else {
                throw StrataError.notFound("no_evaluation", "no evaluation has run in this server yet; `strata evaluate` evaluates from the command line")
            }
            return JSONResponse.make(report)
        }
    }
}
