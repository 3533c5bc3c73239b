import Hummingbird
import NIOCore

/// `GET /`: the dashboard, one self-contained page that polls the JSON API.
struct DashboardRoutes {
    func register(on router: Router<BasicRequestContext>) {
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: DashboardPage.html)))
        }
    }
}
