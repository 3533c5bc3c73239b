import Hummingbird
import NIOCore
import StrataCore

/// Every error a client can cause reaches it as JSON: `{"error": {"code", "message", "field"}}`
/// with the status its kind implies. Handlers throw; nothing maps statuses by hand.
extension StrataError: HTTPResponseError {
    public var status: HTTPResponse.Status {
        switch kind {
        case .invalidInput: .badRequest
        case .notFound: .notFound
        case .conflict: .conflict
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .tooLarge: .contentTooLarge
        case .unsupportedMediaType: .unsupportedMediaType
        case .insufficientStorage: .init(code: 507, reasonPhrase: "Insufficient Storage")
        case .unavailable: .serviceUnavailable
        case .internal: .internalServerError
        }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [:]
        if kind == .unavailable || kind == .insufficientStorage { headers[.retryAfter] = "5" }
        return JSONResponse.make(errorBody, status: status, headers: headers)
    }

    /// The JSON error body.
    public var errorBody: JSONValue {
        var error: [String: JSONValue] = ["code": .string(code), "message": .string(message)]
        if let field { error["field"] = .string(field) }
        return ["error": .object(error)]
    }
}

/// JSON responses with canonical serialization.
public enum JSONResponse {
    public static func make(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        make(serialized: value.serialized, status: status, headers: headers)
    }

    /// A document already serialized.
    public static func make(serialized: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        var text = serialized
        text += "\n"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// Turns the framework's own errors (unknown route, wrong method, oversized body) and any
/// unexpected error into the same JSON error body, and logs server errors.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as StrataError {
            if error.kind == .internal { context.logger.error("request failed", metadata: ["error": "\(error)"]) }
            return try error.response(from: request, context: context)
        } catch let error as HTTPError {
            let code: String
            switch error.status {
            case .notFound: code = "route_not_found"
            case .methodNotAllowed: code = "method_not_allowed"
            case .contentTooLarge: code = "body_too_large"
            default: code = "http_\(error.status.code)"
            }
            let message =
                error.body
                ?? (error.status == .notFound ? "no route \(request.method) \(request.uri.path); see the README's API reference" : error.status.reasonPhrase)
            return JSONResponse.make(StrataError(.invalidInput, code: code, message).errorBody, status: error.status)
        } catch is NIOTooManyBytesError {
            return JSONResponse.make(
                StrataError(.tooLarge, code: "body_too_large", "the request body exceeds the configured limit").errorBody, status: .contentTooLarge)
        } catch let error as any HTTPResponseError {
            return try error.response(from: request, context: context)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            return JSONResponse.make(StrataError.internal("unexpected error; see the server log").errorBody, status: .internalServerError)
        }
    }
}
