import Hummingbird
import NIOCore

/// `GET /`: the dashboard, one self-contained page, and `GET /dashboard.js`, its script, which
/// polls the JSON API with the key the browser holds.
struct DashboardRoutes {
    func register(on router: RouteRegistrar) {
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: DashboardPage.html)))
        }
        router.get("/dashboard.js") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/javascript; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: DashboardScript.javascript)))
        }
    }
}
