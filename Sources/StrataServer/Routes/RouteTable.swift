import Hummingbird
import StrataCore
import StrataRegistry

/// One operation of the HTTP API as `Resources/routes.json` declares it: the only place a route
/// is declared. The role policy, worker forwarding, the router's check and `/openapi.json` all
/// read it (and `scripts/openapi.py` generates the document's paths from it).
struct APIOperation: Sendable, Hashable {
    let method: HTTPRequest.Method
    /// An OpenAPI path template: `/v1/items/{id}/similar`.
    let path: String
    /// The role a key needs (nil: public, no key, not audited).
    let role: Role?
    /// What a use is audited as.
    let action: String
    /// Whether each granted request is audited (refusals always are). The end-user serving
    /// path is not: an entry per page view would dwarf the data it protects; nor are reads of
    /// the status, reports and audit log the dashboard polls every two seconds.
    let auditsAccess: Bool
    /// Whether an API replica forwards it to the elected worker (it needs the worker's state).
    let forwarded: Bool
    let operationID: String
    let summary: String
    /// The template's segments (`{name}` segments match any one segment).
    let segments: [Substring]

    /// Whether `segments` (of a request path) name this operation.
    func matches(_ requested: [Substring]) -> Bool {
        requested.count == segments.count && zip(segments, requested).allSatisfy { $0.first == "{" || $0 == $1 }
    }

    /// The path as Hummingbird's router writes it (`:id` for `{id}`).
    var routerPath: String {
        "/" + segments.map { $0.first == "{" ? ":" + $0.dropFirst().dropLast() : String($0) }.joined(separator: "/")
    }
}

/// A table of operations, indexed for matching requests.
struct RouteIndex: Sendable {
    let operations: [APIOperation]
    /// Operations by method, then by number of path segments: a request looks at a handful.
    private let index: [HTTPRequest.Method: [Int: [APIOperation]]]

    init(_ operations: [APIOperation]) {
        self.operations = operations
        var index: [HTTPRequest.Method: [Int: [APIOperation]]] = [:]
        for operation in operations { index[operation.method, default: [:]][operation.segments.count, default: []].append(operation) }
        self.index = index
    }

    /// The operation a request names (nil: none is declared, so the router answers 404 and the
    /// policy asks for an admin key first).
    func match(_ method: HTTPRequest.Method, _ path: String) -> APIOperation? {
        let requested = path.split(separator: "/")
        return index[method]?[requested.count]?.first { $0.matches(requested) }
    }

    /// The declared operation with this method and router path (`/v1/items/:id`).
    func declared(_ method: HTTPRequest.Method, routerPath: String) -> APIOperation? {
        operations.first { $0.method == method && $0.routerPath == routerPath }
    }
}

enum RouteTable {
    /// Every operation of `Resources/routes.json`, in the file's order, indexed.
    static let shipped: RouteIndex = {
        do {
            return RouteIndex(try parse(PackageResources.routes_json))
        } catch {
            fatalError("Resources/routes.json is invalid: \(error)")
        }
    }()

    static var operations: [APIOperation] { shipped.operations }

    static func match(_ method: HTTPRequest.Method, _ path: String) -> APIOperation? { shipped.match(method, path) }

    static func parse(_ bytes: [UInt8]) throws(StrataError) -> [APIOperation] {
        guard let rows = (try? JSONValue.parse(String(decoding: bytes, as: UTF8.self)))?.arrayValue else {
            throw StrataError.internal("routes.json must be a JSON array of operations")
        }
        var seen = Set<String>()
        return try rows.map { (row) throws(StrataError) -> APIOperation in
            guard let methodName = row["method"]?.stringValue, let method = HTTPRequest.Method(methodName), let path = row["path"]?.stringValue,
                let action = row["action"]?.stringValue, let operationID = row["operation_id"]?.stringValue
            else { throw StrataError.internal("an operation needs method, path, action and operation_id: \(row.serialized)") }
            let role: Role?
            if let name = row["role"]?.stringValue {
                guard let known = Role(rawValue: name) else { throw StrataError.internal("\(methodName) \(path): unknown role \(name)") }
                role = known
            } else {
                role = nil
            }
            guard seen.insert("\(methodName) \(path)").inserted else { throw StrataError.internal("\(methodName) \(path) is declared twice") }
            return APIOperation(
                method: method, path: path, role: role, action: action, auditsAccess: row["audits_access"]?.boolValue ?? true,
                forwarded: row["forwarded"]?.boolValue ?? false, operationID: operationID, summary: row["summary"]?.stringValue ?? "",
                segments: path.split(separator: "/"))
        }
    }
}

/// Registers handlers on a router, each for an operation `routes.json` declares: a handler for
/// an undeclared route stops the server at start-up (and every test), so a route cannot exist
/// without its role, forwarding and documentation.
struct RouteRegistrar {
    let router: Router<BasicRequestContext>
    var table = RouteTable.shipped

    typealias Handler<Output: ResponseGenerator> = @Sendable (Request, BasicRequestContext) async throws -> Output

    func get<Output: ResponseGenerator>(_ path: String, use handler: @escaping Handler<Output>) { add(.get, path, handler) }
    func post<Output: ResponseGenerator>(_ path: String, use handler: @escaping Handler<Output>) { add(.post, path, handler) }
    func put<Output: ResponseGenerator>(_ path: String, use handler: @escaping Handler<Output>) { add(.put, path, handler) }
    func delete<Output: ResponseGenerator>(_ path: String, use handler: @escaping Handler<Output>) { add(.delete, path, handler) }

    private func add<Output: ResponseGenerator>(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Handler<Output>) {
        guard table.declared(method, routerPath: path) != nil else {
            preconditionFailure("\(method) \(path) has a handler but no entry in Sources/StrataServer/Resources/routes.json: declare it there")
        }
        router.on(RouterPath(path), method: method, use: handler)
    }
}
