import Hummingbird
import StrataCore
import StrataRegistry

/// `POST /v1/lake/forget {"user_id": ...}`: `UserForgetting` for the key's principal.
struct ForgetRoute {
    let forgetting: UserForgetting
    let keys: APIKeys?

    func register(on router: RouteRegistrar) {
        router.post("/v1/lake/forget") { request, _ -> Response in
            let body = try await request.jsonBody(limit: 4096)
            guard let user = body["user_id"]?.stringValue, !user.isEmpty, user.utf8.count <= 256 else {
                throw StrataError.invalid("invalid_user", "send {\"user_id\": \"...\"}: the id of the user to forget, 1 to 256 bytes", field: "user_id")
            }
            return JSONResponse.make(try await forgetting.forget(user: user, by: request.principal(keys)))
        }
    }
}
