import Hummingbird
import NIOCore
import StrataCore
import StrataLake

/// `POST /v1/events`: one JSON event, a JSON array, NDJSON or a Protobuf `EventBatch`.
struct EventRoutes {
    let lake: Lake
    /// `ingest`: the body limit.
    let ingest: IngestConfig

    func register(on router: RouteRegistrar) {
        router.post("/v1/events") { request, _ -> Response in
            guard let contentType = request.headers[.contentType], let format = BatchFormat(contentType: contentType) else {
                throw StrataError(
                    .unsupportedMediaType, code: "unsupported_media_type",
                    "send Content-Type \(BatchFormat.acceptedContentTypes) (got \(request.headers[.contentType] ?? "none"))")
            }
            let body = try await request.collectBody(limit: ingest.maxBodyBytes)
            let prepared = try body.withUnsafeReadableBytes { (raw) throws(StrataError) -> PreparedBatch in
                try lake.ingestor.prepare(body: raw, format: format, source: "http")
            }
            let result = try await lake.ingestor.commit(prepared)
            if result.isSingleEvent {
                if let rejection = result.rejected.first {
                    var body = StrataError.invalid(rejection.code, rejection.message, field: rejection.field).errorBody.objectValue!
                    for (key, value) in result.json.objectValue! { body[key] = value }
                    return JSONResponse.make(.object(body), status: .badRequest)
                }
                return JSONResponse.make(result.json, status: .accepted)
            }
            return JSONResponse.make(result.json)
        }
    }
}
