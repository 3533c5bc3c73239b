import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import StrataCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// On an API replica, requests about the event data go to the elected worker, which owns it:
/// ingestion (acknowledged only once the worker has made the events durable), the lake,
/// features, training and monitoring. The worker authenticates and audits them itself. While
/// no worker answers (fail-over), a request is retried until `patience` runs out, then refused
/// with 503 `worker_unavailable`: nothing is acknowledged that the worker did not store, and
/// retrying an event batch is safe (event ids are deduplicated).
public struct WorkerForwarding<Context: RequestContext>: RouterMiddleware {
    let locate: @Sendable (_ refresh: Bool) async -> String?
    let maxBodyBytes: Int
    let patience: Duration
    let session: URLSession

    /// `locate` returns the worker's base URL (`refresh`: look it up again, the last one failed).
    public init(maxBodyBytes: Int, patience: Duration = .seconds(15), locate: @escaping @Sendable (_ refresh: Bool) async -> String?) {
        self.locate = locate
        self.maxBodyBytes = maxBodyBytes
        self.patience = patience
        let configuration = URLSessionConfiguration.uncached
        configuration.timeoutIntervalForRequest = 60
        configuration.httpMaximumConnectionsPerHost = 64
        self.session = URLSession(configuration: configuration)
    }

    static var hopByHop: Set<String> { ["content-length", "connection", "transfer-encoding", "expect", "keep-alive", "upgrade", "te"] }

    /// Whether the operation a request names is one routes.json marks `forwarded`.
    static func isForwarded(_ method: HTTPRequest.Method, _ path: String) -> Bool {
        RouteTable.match(method, path)?.forwarded ?? false
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard Self.isForwarded(request.method, request.uri.path) else { return try await next(request, context) }
        var request = request
        let body = try await request.collectBody(upTo: maxBodyBytes)
        let deadline = ContinuousClock.now + patience
        var refresh = false
        var problem = "no worker has registered yet"
        while true {
            if let base = await locate(refresh), let url = URL(string: base + request.uri.description) {
                var forwarded = URLRequest(url: url)
                forwarded.httpMethod = request.method.rawValue
                // The body is forwarded whole: its framing headers are the new request's own.
                for field in request.headers where !Self.hopByHop.contains(field.name.canonicalName) {
                    forwarded.addValue(field.value, forHTTPHeaderField: field.name.rawName)
                }
                if body.readableBytes > 0 { forwarded.httpBody = Data(buffer: body) }
                do {
                    let (data, response) = try await session.data(for: forwarded)
                    if let http = response as? HTTPURLResponse { return Self.response(http, data) }
                    problem = "the worker at \(base) gave no HTTP answer"
                } catch {
                    problem = "the worker at \(base) did not answer (\(error.localizedDescription))"
                }
            }
            refresh = true
            guard ContinuousClock.now < deadline else {
                throw StrataError(
                    .unavailable, code: "worker_unavailable", "no worker took the request: \(problem); retry (events already acknowledged are kept)")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    static func response(_ http: HTTPURLResponse, _ data: Data) -> Response {
        var headers = HTTPFields()
        for (name, value) in http.allHeaderFields {
            guard let name = HTTPField.Name(String(describing: name)), name != .contentLength, name != .transferEncoding, name != .connection else { continue }
            headers[name] = String(describing: value)
        }
        headers[HTTPField.Name("X-Strata-Forwarded")!] = "worker"
        return Response(
            status: HTTPResponse.Status(code: http.statusCode), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
