import Hummingbird
import NIOCore
import StrataCore
import StrataLake

/// The contract and the schemas it exports for producers.
struct ContractRoutes {
    let contract: Contract
    let project: String

    func register(on router: RouteRegistrar) {
        router.get("/v1/contract") { _, _ in
            JSONResponse.make(["version": .string(contract.version), "contract": contract.canonicalJSON])
        }
        router.get("/v1/contract/export") { request, _ -> Response in
            let name = request.uri.queryParameters["format"].map(String.init) ?? "json-schema"
            guard let format = ContractExportFormat(rawValue: name) else {
                throw StrataError.invalid(
                    "invalid_parameter", "format must be one of: \(ContractExportFormat.allCases.map(\.rawValue).joined(separator: ", "))", field: "format")
            }
            let text = contract.export(format, project: project)
            let type = format == .proto ? "text/plain; charset=utf-8" : "application/json"
            return Response(status: .ok, headers: [.contentType: type], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
    }
}
