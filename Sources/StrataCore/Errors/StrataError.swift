/// The broad class of a user-caused or environmental failure. The server maps each kind to one
/// HTTP status, so handlers never choose statuses by hand.
public enum ErrorKind: String, Sendable, Codable {
    /// The input breaks the contract or a documented rule (400).
    case invalidInput
    /// The caller named something that does not exist (404).
    case notFound
    /// The request conflicts with current state (409).
    case conflict
    /// No valid API key was presented (401).
    case unauthorized
    /// The key is valid but lacks the role, or a governance rule forbids the action (403).
    case forbidden
    /// The body or a batch exceeds a configured limit (413).
    case tooLarge
    /// The content type is not one Strata reads (415).
    case unsupportedMediaType
    /// The disk is full; nothing was acknowledged (507).
    case insufficientStorage
    /// The component is starting, stopping or temporarily unable to serve (503).
    case unavailable
    /// A bug or an unexpected environment failure (500).
    case `internal`
}

/// An error with a stable machine-readable code and a message that says what to fix.
///
/// Modelled as a struct rather than a growing enum: the `code` is the stable contract with API
/// clients (it appears in JSON bodies), the `message` is for people, `field` points at the part of
/// the input at fault, and `cause` keeps the underlying error for logs.
public struct StrataError: Error, Sendable, CustomStringConvertible {
    public var kind: ErrorKind
    /// Stable snake_case code, e.g. `missing_field`, `body_too_large`.
    public var code: String
    public var message: String
    /// Path of the offending input (a JSON field, a YAML key path), when there is one.
    public var field: String?
    public var cause: (any Error)?

    public init(_ kind: ErrorKind, code: String, _ message: String, field: String? = nil, cause: (any Error)? = nil) {
        self.kind = kind
        self.code = code
        self.message = message
        self.field = field
        self.cause = cause
    }

    public var description: String {
        var text = "\(code): \(message)"
        if let field { text = "\(field): " + text }
        if let cause { text += " (cause: \(cause))" }
        return text
    }

    public static func invalid(_ code: String, _ message: String, field: String? = nil) -> StrataError {
        StrataError(.invalidInput, code: code, message, field: field)
    }

    public static func notFound(_ code: String, _ message: String) -> StrataError {
        StrataError(.notFound, code: code, message)
    }

    public static func `internal`(_ message: String, cause: (any Error)? = nil) -> StrataError {
        StrataError(.internal, code: "internal_error", message, cause: cause)
    }
}
