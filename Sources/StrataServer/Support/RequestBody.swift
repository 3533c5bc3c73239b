import Hummingbird
import NIOCore
import StrataCore

extension Request {
    /// The whole body, or 413 `body_too_large` past `limit` bytes.
    func collectBody(limit: Int) async throws -> ByteBuffer {
        do {
            return try await body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw StrataError(.tooLarge, code: "body_too_large", "the request body exceeds \(limit) bytes (ingest.max_body_size); send smaller batches")
        }
    }

    /// The body parsed as one JSON document.
    func jsonBody(limit: Int) async throws -> JSONValue {
        let buffer = try await collectBody(limit: limit)
        guard buffer.readableBytes > 0 else { throw StrataError.invalid("empty_body", "the request body is empty; send JSON") }
        do {
            return try buffer.withUnsafeReadableBytes { raw in try JSONValue.parse(raw) }
        } catch {
            throw StrataError.invalid("malformed_json", "the body is not valid JSON: \(error)")
        }
    }

    /// An integer query parameter, with a default and bounds.
    func queryInt(_ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = uri.queryParameters[Substring(name)] else { return value }
        guard let number = Int(String(text)), range.contains(number) else {
            throw StrataError.invalid(
                "invalid_parameter", "query parameter '\(name)' must be an integer in \(range.lowerBound)...\(range.upperBound)", field: name)
        }
        return number
    }
}
