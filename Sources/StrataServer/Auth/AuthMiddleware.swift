import Foundation
import Hummingbird
import StrataCore
import StrataRegistry
import Synchronization

/// Checks every request's API key against the role its route needs (401 without a valid key,
/// 403 without the role) and audits the access or the refusal. Keys come as
/// `Authorization: Bearer strata_...` or `X-API-Key: strata_...`.
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let keys: APIKeys
    let audit: AuditLog
    /// Requests per key (nil: unlimited).
    var limiter: RateLimiter?
    /// When each key's throttling was last audited (one entry per key per 10 s, not per request).
    let throttled: ThrottleLog

    init(keys: APIKeys, audit: AuditLog, limiter: RateLimiter?) {
        self.keys = keys
        self.audit = audit
        self.limiter = limiter
        self.throttled = ThrottleLog(clock: limiter?.clock ?? SystemClock())
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        // The declared operation's role (routes.json); an undeclared route needs admin, so a
        // new route is closed until it is declared.
        let rule = RouteTable.match(request.method, path)
        guard let role = rule?.role ?? (rule == nil ? .admin : nil) else { return try await next(request, context) }
        let action = rule?.action ?? "http"
        let target = "\(request.method) \(path)"
        guard let presented = Self.presentedKey(request) else {
            audit.record(principal: "anonymous", action: action, target: target, outcome: "denied", detail: "no API key")
            throw StrataError(.unauthorized, code: "missing_key", "send an API key: Authorization: Bearer strata_... (strata keys create)")
        }
        guard let principal = keys.authenticate(presented) else {
            audit.record(principal: "anonymous", action: action, target: target, outcome: "denied", detail: "invalid or revoked key")
            throw StrataError(.unauthorized, code: "invalid_key", "the API key is not valid (unknown, revoked or mistyped)")
        }
        if let wait = limiter?.take(principal.id) {
            if throttled.shouldRecord(principal.id) {
                audit.record(principal: principal.label, action: action, target: target, outcome: "denied", detail: "rate limited")
            }
            let seconds = max(1, Int(wait.rounded(.up)))
            let limit = "server.rate_limit: \(String(format: "%g", limiter!.rate))/s, burst \(String(format: "%g", limiter!.burst))"
            let body: JSONValue = ["error": ["code": "rate_limited", "message": .string("this key is over its rate limit (\(limit)); retry in \(seconds) s")]]
            return JSONResponse.make(body, status: .tooManyRequests, headers: [.retryAfter: String(seconds)])
        }
        guard principal.has(role) else {
            audit.record(principal: principal.label, action: action, target: target, outcome: "denied", detail: "needs the \(role.rawValue) role")
            throw StrataError(.forbidden, code: "role_required", "\(request.method) \(path) needs a key with the \(role.rawValue) role")
        }
        guard rule?.auditsAccess ?? true else { return try await next(request, context) }
        do {
            let response = try await next(request, context)
            audit.record(principal: principal.label, action: action, target: target, outcome: response.status.code < 400 ? "ok" : "failed")
            return response
        } catch {
            audit.record(principal: principal.label, action: action, target: target, outcome: "failed", detail: "\(error)".prefix(200).description)
            throw error
        }
    }

    static func presentedKey(_ request: Request) -> String? {
        if let header = request.headers[.authorization], header.hasPrefix("Bearer ") { return String(header.dropFirst(7)) }
        return request.headers.first { $0.name.canonicalName == "x-api-key" }?.value
    }
}

extension Request {
    /// The caller, for handlers that record who acted (auth off: a development principal).
    func principal(_ keys: APIKeys?) -> Principal {
        guard let keys else { return Principal(id: "dev", name: "no-auth", roles: Set(Role.allCases)) }
        return AuthMiddleware<BasicRequestContext>.presentedKey(self).flatMap(keys.authenticate) ?? Principal(id: "anonymous", name: "anonymous", roles: [])
    }
}
