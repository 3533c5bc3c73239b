import StrataCore

/// The OpenAPI 3 document served at `/openapi.json`: `Resources/openapi.json` (written by
/// `scripts/openapi.py` from routes.json and its own schemas; `docs/openapi.json` links to it),
/// embedded in the binary as a SwiftPM resource, with the route table laid over it: every
/// declared operation appears with the role the server enforces, even one the file does not
/// describe yet (until the script is run again, which `scripts/openapi.py --check` in the test
/// command insists on).
enum OpenAPIDocument {
    /// The file as shipped.
    static let file = String(decoding: PackageResources.openapi_json, as: UTF8.self)

    /// What `/openapi.json` answers.
    static let served: String = {
        do {
            return try merged(JSONValue.parse(file), operations: RouteTable.operations).serialized
        } catch {
            fatalError("Resources/openapi.json is not JSON: \(error)")
        }
    }()

    /// `document` with each of `operations` present under its path and method, carrying its
    /// role (`x-strata-role`) and security; an operation the document lacks gets its summary,
    /// path parameters and the error answers its role implies.
    static func merged(_ document: JSONValue, operations: [APIOperation]) -> JSONValue {
        guard var root = document.objectValue else { return document }
        var paths = root["paths"]?.objectValue ?? [:]
        for operation in operations {
            var item = paths[operation.path]?.objectValue ?? [:]
            let method = operation.method.rawValue.lowercased()
            var described = item[method]?.objectValue ?? minimal(operation)
            described["x-strata-role"] = operation.role.map { .string($0.rawValue) } ?? .null
            described["security"] = operation.role == nil ? .array([]) : .array([.object(["bearerAuth": .array([])])])
            item[method] = .object(described)
            paths[operation.path] = .object(item)
        }
        root["paths"] = .object(paths)
        return .object(root)
    }

    /// An operation the document does not describe yet: what the route table knows of it.
    static func minimal(_ operation: APIOperation) -> [String: JSONValue] {
        let parameters: [JSONValue] = operation.segments.filter { $0.first == "{" }.map { segment in
            ["name": .string(String(segment.dropFirst().dropLast())), "in": "path", "required": true, "schema": ["type": "string"]]
        }
        var responses: [String: JSONValue] = ["200": ["description": "OK"]]
        let errors = (operation.role == nil ? [] : ["401", "403", "429"]) + (operation.forwarded ? ["503"] : [])
        for code in errors { responses[code] = ["$ref": "#/components/responses/Error"] }
        return [
            "operationId": .string(operation.operationID), "summary": .string(operation.summary), "parameters": .array(parameters),
            "responses": .object(responses),
        ]
    }
}
