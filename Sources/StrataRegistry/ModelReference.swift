/// A model reference as written: `NAME`, `NAME@VERSION` or `NAME@ALIAS` (production, previous).
public struct ModelReference: Sendable, Equatable {
    public var model: String
    /// What follows the `@`: a version number or an alias; nil for a bare name.
    public var qualifier: String?
    public var version: Int64? { qualifier.flatMap { Int64($0) } }

    /// nil when the text is none of these (an empty name, or nothing after the `@`).
    public init?(_ text: String) {
        let parts = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let model = parts.first, !model.isEmpty, parts.count == 1 || !parts[1].isEmpty else { return nil }
        self.model = model
        self.qualifier = parts.count == 2 ? parts[1] : nil
    }
}
