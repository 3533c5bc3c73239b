import Hummingbird
import NIOCore
import StrataCore
import StrataLake

/// The contract and the schemas it exports for producers.
struct ContractRoutes {
    let lake: Lake

    func register(on router: Router<BasicRequestContext>) {
        router.get("/v1/contract") { _, _ in
            JSONResponse.make(["version": .string(lake.config.contract.version), "contract": lake.config.contract.canonicalJSON])
        }
        router.get("/v1/contract/export") { request, _ -> Response in
            let name = request.uri.queryParameters["format"].map(String.init) ?? "json-schema"
            guard let format = ContractExportFormat(rawValue: name) else {
                throw StrataError.invalid(
                    "invalid_parameter", "format must be one of: \(ContractExportFormat.allCases.map(\.rawValue).joined(separator: ", "))", field: "format")
            }
            let text = lake.config.contract.export(format, project: lake.config.project)
            let type = format == .proto ? "text/plain; charset=utf-8" : "application/json"
            return Response(status: .ok, headers: [.contentType: type], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
    }
}
