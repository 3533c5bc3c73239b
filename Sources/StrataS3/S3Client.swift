import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
#if canImport(FoundationXML)
    import FoundationXML
#endif

/// What can go wrong talking to S3.
public enum S3Error: Error, Sendable, CustomStringConvertible {
    /// The service answered with an error (`code` from its XML body, e.g. NoSuchBucket).
    case service(status: Int, code: String, message: String)
    /// No answer after the retries.
    case unreachable(String)
    case invalidLocation(String)

    public var description: String {
        switch self {
        case .service(let status, let code, let message): "s3: \(status) \(code): \(message)"
        case .unreachable(let detail): "s3 unreachable: \(detail)"
        case .invalidLocation(let text): "not an S3 location (s3://bucket[/prefix][?endpoint=URL&region=R]): \(text)"
        }
    }
}

/// Where objects go: a bucket, a key prefix, the service's endpoint (path-style addressing, so
/// S3-compatible servers work) and region, and the credentials (from the environment).
public struct S3Location: Sendable {
    public var bucket: String
    public var prefix: String
    public var endpoint: URL
    public var signer: SigV4Signer

    /// `s3://bucket[/prefix][?endpoint=URL&region=R]`; AWS_ENDPOINT_URL, AWS_REGION,
    /// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN from the environment.
    public init(url: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard let components = URLComponents(string: url), components.scheme == "s3", let bucket = components.host, !bucket.isEmpty else {
            throw S3Error.invalidLocation(url)
        }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }) { a, _ in a }
        let region = query["region"] ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
        guard let endpoint = URL(string: query["endpoint"] ?? environment["AWS_ENDPOINT_URL"] ?? "https://s3.\(region).amazonaws.com") else {
            throw S3Error.invalidLocation(url)
        }
        guard let accessKey = environment["AWS_ACCESS_KEY_ID"], let secretKey = environment["AWS_SECRET_ACCESS_KEY"] else {
            throw S3Error.invalidLocation("\(url): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        }
        self.bucket = bucket
        let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        self.prefix = path.isEmpty ? "" : path + "/"
        self.endpoint = endpoint
        self.signer = SigV4Signer(accessKey: accessKey, secretKey: secretKey, sessionToken: environment["AWS_SESSION_TOKEN"], region: region)
    }
}

/// A small S3 client: objects up, down, listed and deleted, large uploads in parts, every
/// request signed (SigV4) and retried with backoff on throttling, server errors and lost
/// connections.
public final class S3Client: Sendable {
    public let location: S3Location
    /// Objects larger than this are uploaded in parts of this size (S3's minimum part is 5 MiB).
    public let partSize: Int
    let attempts: Int
    let session: URLSession

    public init(location: S3Location, partSize: Int = 8 << 20, attempts: Int = 4) {
        self.location = location
        self.partSize = max(5 << 20, partSize)
        self.attempts = max(1, attempts)
        let configuration = URLSessionConfiguration.uncached
        configuration.timeoutIntervalForRequest = 60
        self.session = URLSession(configuration: configuration)
    }

    func url(_ key: String?, query: [(String, String)] = []) -> URL {
        var components = URLComponents(url: location.endpoint, resolvingAgainstBaseURL: false)!
        let base = components.percentEncodedPath.hasSuffix("/") ? String(components.percentEncodedPath.dropLast()) : components.percentEncodedPath
        let objectPath = key.map { "/" + SigV4Signer.encode(location.prefix + $0, keepSlash: true) } ?? ""
        components.percentEncodedPath = base + "/" + SigV4Signer.encode(location.bucket, keepSlash: false) + objectPath
        if !query.isEmpty {
            components.percentEncodedQuery = query.map { "\(SigV4Signer.encode($0.0, keepSlash: false))=\(SigV4Signer.encode($0.1, keepSlash: false))" }
                .joined(separator: "&")
        }
        return components.url!
    }

    /// Sends a signed request, retrying what may succeed on a second try; returns status,
    /// headers and body of the final answer (errors as `S3Error.service`, 404 included only when
    /// `allowNotFound` is false).
    func send(_ method: String, _ url: URL, body: Data = Data(), headers: [String: String] = [:], allowNotFound: Bool = false) async throws -> (
        Int, [String: String], Data
    ) {
        var delay = Duration.milliseconds(100)
        var lastProblem = ""
        for attempt in 0..<attempts {
            if attempt > 0 {
                try await Task.sleep(for: delay)
                delay *= 2
            }
            var request = URLRequest(url: url)
            request.httpMethod = method
            // Without a type, the HTTP stack would label a body as a form, which a server may parse as one.
            var headers = headers
            if headers["content-type"] == nil, method == "PUT" || method == "POST" { headers["content-type"] = "application/octet-stream" }
            for (name, value) in location.signer.sign(method: method, url: url, headers: headers, payloadSHA256: SigV4Signer.sha256Hex(body)) {
                if name != "host" { request.setValue(value, forHTTPHeaderField: name) }
            }
            if !body.isEmpty || method == "PUT" || method == "POST" { request.httpBody = body }
            let data: Data
            let response: URLResponse
            do {
                (data, response) = try await session.data(for: request)
            } catch {
                lastProblem = "\(error)"
                continue
            }
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            let responseHeaders = ((response as? HTTPURLResponse)?.allHeaderFields ?? [:]).reduce(into: [String: String]()) {
                $0[String(describing: $1.key).lowercased()] = String(describing: $1.value)
            }
            if (200..<300).contains(status) || (allowNotFound && status == 404) { return (status, responseHeaders, data) }
            if status == 429 || status >= 500 {
                lastProblem = "\(status)"
                continue
            }
            let error = S3XML.error(data)
            throw S3Error.service(status: status, code: error.code, message: error.message)
        }
        throw S3Error.unreachable("\(method) \(url.path): \(lastProblem) after \(attempts) attempts")
    }

    /// Stores an object (in parts when it is larger than `partSize`).
    public func put(_ key: String, _ data: Data) async throws {
        guard data.count > partSize else {
            _ = try await send("PUT", url(key), body: data)
            return
        }
        let (_, _, created) = try await send("POST", url(key, query: [("uploads", "")]))
        guard let uploadID = S3XML.values(created, element: "UploadId").first else {
            throw S3Error.service(status: 200, code: "NoUploadId", message: "CreateMultipartUpload returned no UploadId")
        }
        do {
            var parts: [(Int, String)] = []
            for (index, start) in stride(from: 0, to: data.count, by: partSize).enumerated() {
                let part = data.subdata(in: start..<min(data.count, start + partSize))
                let (_, headers, _) = try await send("PUT", url(key, query: [("partNumber", String(index + 1)), ("uploadId", uploadID)]), body: part)
                parts.append((index + 1, headers["etag"] ?? ""))
            }
            let xml =
                "<CompleteMultipartUpload>"
                + parts.map { "<Part><PartNumber>\($0.0)</PartNumber><ETag>\($0.1.replacingOccurrences(of: "\"", with: "&quot;"))</ETag></Part>" }.joined()
                + "</CompleteMultipartUpload>"
            let (_, _, completed) = try await send(
                "POST", url(key, query: [("uploadId", uploadID)]), body: Data(xml.utf8), headers: ["content-type": "application/xml"])
            // S3 may answer 200 with an error in the body.
            if let code = S3XML.values(completed, element: "Code").first {
                throw S3Error.service(status: 200, code: code, message: S3XML.values(completed, element: "Message").first ?? "")
            }
        } catch {
            _ = try? await send("DELETE", url(key, query: [("uploadId", uploadID)]))
            throw error
        }
    }

    /// An object's bytes; nil when there is no such object.
    public func get(_ key: String) async throws -> Data? {
        let (status, _, data) = try await send("GET", url(key), allowNotFound: true)
        return status == 404 ? nil : data
    }

    public func delete(_ key: String) async throws {
        _ = try await send("DELETE", url(key), allowNotFound: true)
    }

    /// Keys under `prefix` (relative to the location's prefix), every page of the listing
    /// (`pageSize` keys a page, at most 1,000).
    public func list(prefix: String = "", pageSize: Int = 1000) async throws -> [String] {
        var keys: [String] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("max-keys", String(pageSize)), ("prefix", location.prefix + prefix)]
            if let token { query.append(("continuation-token", token)) }
            let (_, _, data) = try await send("GET", url(nil, query: query))
            keys += S3XML.values(data, element: "Key").map { String($0.dropFirst(location.prefix.count)) }
            token = S3XML.values(data, element: "IsTruncated").first == "true" ? S3XML.values(data, element: "NextContinuationToken").first : nil
        } while token != nil
        return keys
    }

    /// Creates the bucket (for tests and first runs; an existing bucket of ours is fine).
    public func createBucket() async throws {
        do {
            _ = try await send("PUT", url(nil))
        } catch S3Error.service(_, let code, _) where code == "BucketAlreadyOwnedByYou" {}
    }
}

/// The few things read from S3's XML answers.
enum S3XML {
    /// The text of every `element`, in document order.
    static func values(_ data: Data, element: String) -> [String] {
        let collector = Collector(element: element)
        let parser = XMLParser(data: data)
        parser.delegate = collector
        parser.parse()
        return collector.values
    }

    static func error(_ data: Data) -> (code: String, message: String) {
        (values(data, element: "Code").first ?? "Unknown", values(data, element: "Message").first ?? String(decoding: data.prefix(200), as: UTF8.self))
    }

    final class Collector: NSObject, XMLParserDelegate {
        let element: String
        var values: [String] = []
        var current: String?

        init(element: String) { self.element = element }

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            if name == element { current = "" }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { current? += string }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if name == element, let value = current { values.append(value) }
            if name == element { current = nil }
        }
    }
}
