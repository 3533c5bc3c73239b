import ArgumentParser
import Foundation
import StrataCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Commands that change a running server (deployments live in its memory as well as in the
/// metadata store) call its API: `--url` (env STRATA_URL) with the key in STRATA_API_KEY.
struct ServerOptions: ParsableArguments {
    @Option(help: "The running server (env STRATA_URL; default http://127.0.0.1:8080).")
    var url: String?

    var baseURL: String { url ?? ProcessInfo.processInfo.environment["STRATA_URL"] ?? "http://127.0.0.1:8080" }

    /// Calls the API; a non-2xx answer becomes the server's error message.
    func call(_ method: String, _ path: String, body: JSONValue? = nil) async throws -> JSONValue {
        guard let url = URL(string: baseURL + path) else { throw StrataError.invalid("invalid_url", "cannot form a URL from \(baseURL)") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.timeoutInterval = 120
        if let key = ProcessInfo.processInfo.environment["STRATA_API_KEY"], !key.isEmpty {
            request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        }
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(body.serializedBytes)
        }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.uncached.data(for: request)
        } catch {
            throw StrataError(.unavailable, code: "server_unreachable", "no Strata server answers at \(baseURL) (start one with strata serve, or pass --url)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let json = (try? JSONValue.parse(String(decoding: data, as: UTF8.self))) ?? .null
        guard (200..<300).contains(status) else {
            let message = json["error"]?["message"]?.stringValue ?? String(decoding: data.prefix(300), as: UTF8.self)
            throw StrataError(
                status == 401 ? .unauthorized : status == 403 ? .forbidden : .conflict, code: json["error"]?["code"]?.stringValue ?? "http_\(status)",
                "\(status): \(message)")
        }
        return json
    }
}
