import Foundation
import Yams

/// A node of `strata.yaml` that knows where it came from, so that every validation error names
/// the file, the line and the key path, and says what is wrong.
public struct ConfigNode {
    public let node: Yams.Node
    public let path: [String]
    public let file: String

    public init(node: Yams.Node, path: [String] = [], file: String) {
        self.node = node
        self.path = path
        self.file = file
    }

    /// Parses YAML text; a syntax error names the file and line.
    public static func parse(yaml: String, file: String) throws(StrataError) -> ConfigNode? {
        do {
            guard let node = try Yams.compose(yaml: yaml) else { return nil }
            return ConfigNode(node: node, file: file)
        } catch let error as YamlError {
            throw StrataError.invalid("config_syntax", "\(file): YAML syntax error: \(error)")
        } catch {
            throw StrataError.invalid("config_syntax", "\(file): YAML syntax error: \(error)")
        }
    }

    public var keyPath: String { path.isEmpty ? "(root)" : path.joined(separator: ".") }
    public var line: Int? { node.mark?.line }

    /// An error located at this node.
    public func error(_ message: String, code: String = "invalid_config") -> StrataError {
        let location = line.map { "\(file):\($0)" } ?? file
        return StrataError.invalid(code, "\(location): \(keyPath): \(message)", field: keyPath)
    }

    // MARK: - Mappings

    /// The entries of a mapping, in document order.
    public func entries() throws(StrataError) -> [(key: String, value: ConfigNode)] {
        guard case .mapping(let mapping) = node else { throw error("expected a mapping (key: value lines)") }
        var result: [(String, ConfigNode)] = []
        var seen = Set<String>()
        for (keyNode, valueNode) in mapping {
            guard let key = keyNode.string else { throw error("keys must be strings") }
            guard seen.insert(key).inserted else { throw child(key, valueNode).error("duplicate key '\(key)'") }
            result.append((key, child(key, valueNode)))
        }
        return result
    }

    /// Fails on a key outside `allowed`, naming the allowed ones (catches typos in configuration).
    public func checkKeys(_ allowed: [String]) throws(StrataError) {
        for (key, value) in try entries() where !allowed.contains(key) {
            throw value.error("unknown key '\(key)'; expected one of: \(allowed.joined(separator: ", "))", code: "unknown_config_key")
        }
    }

    public subscript(key: String) -> ConfigNode? {
        guard case .mapping(let mapping) = node, let value = mapping[key] else { return nil }
        if case .scalar(let scalar) = value, scalar.string == "~" || (scalar.style == .plain && scalar.string == "null") {
            return nil
        }
        return child(key, value)
    }

    private func child(_ key: String, _ value: Yams.Node) -> ConfigNode {
        ConfigNode(node: value, path: path + [key], file: file)
    }

    // MARK: - Sequences

    public func items() throws(StrataError) -> [ConfigNode] {
        guard case .sequence(let sequence) = node else { throw error("expected a list") }
        return sequence.enumerated().map { ConfigNode(node: $1, path: path + ["[\($0)]"], file: file) }
    }

    // MARK: - Scalars

    public func string() throws(StrataError) -> String {
        guard case .scalar(let scalar) = node else { throw error("expected a text value") }
        return scalar.string
    }

    public func int() throws(StrataError) -> Int {
        guard case .scalar(let scalar) = node, let value = Int(scalar.string.replacingOccurrences(of: "_", with: "")) else {
            throw error("expected an integer")
        }
        return value
    }

    public func double() throws(StrataError) -> Double {
        guard case .scalar(let scalar) = node, let value = Double(scalar.string.replacingOccurrences(of: "_", with: "")) else {
            throw error("expected a number")
        }
        return value
    }

    public func bool() throws(StrataError) -> Bool {
        guard case .scalar(let scalar) = node else { throw error("expected true or false") }
        switch scalar.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error("expected true or false, found '\(scalar.string)'")
        }
    }

    /// A duration such as `30s`, `5m`, `7d`, in milliseconds.
    public func durationMillis() throws(StrataError) -> Int64 {
        let text = try string()
        guard let millis = DurationText.parseMillis(text) else {
            throw error("expected a duration such as 500ms, 30s, 5m, 1h, 7d; found '\(text)'")
        }
        return millis
    }

    /// A size such as `1048576`, `512KB`, `16MB` or `1GB`, in bytes.
    public func byteSize() throws(StrataError) -> Int {
        let text = try string().replacingOccurrences(of: "_", with: "").uppercased()
        let units: [(String, Int)] = [("GIB", 1 << 30), ("GB", 1 << 30), ("MIB", 1 << 20), ("MB", 1 << 20), ("KIB", 1 << 10), ("KB", 1 << 10), ("B", 1)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            if let amount = Int(text.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), amount >= 0 {
                return amount * scale
            }
        }
        if let amount = Int(text), amount >= 0 { return amount }
        throw error("expected a size such as 1048576, 512KB or 16MB; found '\(text)'")
    }

    public func stringList() throws(StrataError) -> [String] {
        var result: [String] = []
        for item in try items() { result.append(try item.string()) }
        return result
    }

    public func oneOf(_ allowed: [String]) throws(StrataError) -> String {
        let value = try string()
        guard allowed.contains(value) else {
            throw error("'\(value)' is not one of: \(allowed.joined(separator: ", "))")
        }
        return value
    }
}
