/// What changed between the feature sections of two contracts (canonical JSON of each).
public enum FeatureDiff {
    public struct Change: Sendable, Equatable {
        public enum Kind: String, Sendable { case added, removed, changed }
        public var feature: String
        public var kind: Kind
        /// For changes: key → (old, new).
        public var details: [String: (old: JSONValue?, new: JSONValue?)]

        public static func == (lhs: Change, rhs: Change) -> Bool {
            lhs.feature == rhs.feature && lhs.kind == rhs.kind && lhs.details.keys.sorted() == rhs.details.keys.sorted()
        }
    }

    /// Changes from `old` to `new` (canonical contract JSON), by feature name.
    public static func compare(old: JSONValue, new: JSONValue) -> [Change] {
        func features(_ contract: JSONValue) -> [String: [String: JSONValue]] {
            var result: [String: [String: JSONValue]] = [:]
            for feature in contract["features"]?.arrayValue ?? [] {
                if let object = feature.objectValue, let name = object["name"]?.stringValue { result[name] = object }
            }
            return result
        }
        let before = features(old)
        let after = features(new)
        var changes: [Change] = []
        for name in Set(before.keys).union(after.keys).sorted() {
            switch (before[name], after[name]) {
            case (nil, _?): changes.append(Change(feature: name, kind: .added, details: [:]))
            case (_?, nil): changes.append(Change(feature: name, kind: .removed, details: [:]))
            case (let a?, let b?):
                var details: [String: (old: JSONValue?, new: JSONValue?)] = [:]
                for key in Set(a.keys).union(b.keys) where a[key] != b[key] { details[key] = (a[key], b[key]) }
                if !details.isEmpty { changes.append(Change(feature: name, kind: .changed, details: details)) }
            default: break
            }
        }
        return changes
    }

    /// Human-readable lines.
    public static func describe(_ changes: [Change]) -> String {
        guard !changes.isEmpty else { return "no feature changed" }
        return changes.map { change in
            switch change.kind {
            case .added: return "+ \(change.feature)"
            case .removed: return "- \(change.feature)"
            case .changed:
                let details = change.details.keys.sorted().map { key in
                    "    \(key): \(change.details[key]!.old?.serialized ?? "(none)") → \(change.details[key]!.new?.serialized ?? "(none)")"
                }
                return (["~ \(change.feature)"] + details).joined(separator: "\n")
            }
        }.joined(separator: "\n")
    }
}
