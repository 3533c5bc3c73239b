import StrataCore

/// Avro's binary encoding, read against a writer's schema (JSON, as `strata contract export
/// --format avro` prints it): null, boolean, int/long (zig-zag varints), float, double, bytes,
/// string, record, enum, array, map (both in blocks), union and fixed. A datum decodes to a
/// `JSONValue` (bytes and fixed as text; a union as its branch's value, with the branch index
/// available to the caller that needs it). Malformed input is an `AvroError`, never a crash.
public struct AvroSchema: Sendable {
    indirect enum Node: Sendable {
        case null, boolean, int, long, float, double, bytes, string
        case record(name: String, fields: [(name: String, type: Node)])
        case enumeration(symbols: [String])
        case array(Node)
        case map(Node)
        case union([Node])
        case fixed(size: Int)
    }

    let root: Node

    /// Parses a schema document; named types may be referred to by name after their definition.
    public init(json: JSONValue) throws(AvroError) {
        var named: [String: Node] = [:]
        root = try Self.parse(json, namespace: nil, named: &named)
    }

    public init(text: String) throws(AvroError) {
        guard let json = try? JSONValue.parse(text) else { throw AvroError("the Avro schema is not JSON") }
        try self.init(json: json)
    }

    /// The record names of a union's branches, in order (the event types of Strata's export).
    public var unionRecordNames: [String]? {
        guard case .union(let branches) = root else { return nil }
        return branches.map { if case .record(let name, _) = $0 { name } else { "" } }
    }

    static func parse(_ json: JSONValue, namespace: String?, named: inout [String: Node]) throws(AvroError) -> Node {
        switch json {
        case .string(let name):
            switch name {
            case "null": return .null
            case "boolean": return .boolean
            case "int": return .int
            case "long": return .long
            case "float": return .float
            case "double": return .double
            case "bytes": return .bytes
            case "string": return .string
            default:
                if let node = named[name] ?? namespace.flatMap({ named["\($0).\(name)"] }) { return node }
                throw AvroError("unknown Avro type '\(name)'")
            }
        case .array(let branches):
            var nodes: [Node] = []
            for branch in branches { nodes.append(try parse(branch, namespace: namespace, named: &named)) }
            return .union(nodes)
        case .object(let object):
            guard let type = object["type"] else { throw AvroError("an Avro schema object has no 'type'") }
            guard case .string(let kind) = type else { return try parse(type, namespace: namespace, named: &named) }
            let space = object["namespace"]?.stringValue ?? namespace
            func register(_ node: Node) {
                guard let name = object["name"]?.stringValue else { return }
                named[name] = node
                if let space { named["\(space).\(name)"] = node }
            }
            switch kind {
            case "record", "error":
                var fields: [(name: String, type: Node)] = []
                for field in object["fields"]?.arrayValue ?? [] {
                    guard let name = field["name"]?.stringValue, let fieldType = field["type"] else {
                        throw AvroError("a record field needs a name and a type")
                    }
                    fields.append((name, try parse(fieldType, namespace: space, named: &named)))
                }
                let node = Node.record(name: object["name"]?.stringValue ?? "", fields: fields)
                register(node)
                return node
            case "enum":
                let node = Node.enumeration(symbols: (object["symbols"]?.arrayValue ?? []).compactMap(\.stringValue))
                register(node)
                return node
            case "array":
                guard let items = object["items"] else { throw AvroError("an array schema needs 'items'") }
                return .array(try parse(items, namespace: space, named: &named))
            case "map":
                guard let values = object["values"] else { throw AvroError("a map schema needs 'values'") }
                return .map(try parse(values, namespace: space, named: &named))
            case "fixed":
                guard let size = object["size"]?.intValue, size >= 0 else { throw AvroError("a fixed schema needs a size") }
                let node = Node.fixed(size: Int(size))
                register(node)
                return node
            default:
                // A primitive with attributes (logical types such as timestamp-millis keep their base encoding).
                return try parse(type, namespace: space, named: &named)
            }
        default:
            throw AvroError("not an Avro schema: \(json.serialized)")
        }
    }

    /// Decodes one datum that must fill `bytes` exactly; returns it and, for a union at the
    /// root, the branch taken.
    public func decode(_ bytes: some Collection<UInt8>) throws(AvroError) -> (value: JSONValue, branch: Int?) {
        var reader = AvroReader(bytes: Array(bytes))
        var branch: Int?
        let value: JSONValue
        if case .union(let branches) = root {
            let index = try reader.long()
            guard index >= 0, index < branches.count else { throw AvroError("union branch \(index) does not exist (\(branches.count) branches)") }
            branch = Int(index)
            value = try reader.datum(branches[Int(index)])
        } else {
            value = try reader.datum(root)
        }
        guard reader.position == reader.bytes.count else { throw AvroError("\(reader.bytes.count - reader.position) bytes left after the datum") }
        return (value, branch)
    }
}

public struct AvroError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

struct AvroReader {
    let bytes: [UInt8]
    var position = 0

    mutating func byte() throws(AvroError) -> UInt8 {
        guard position < bytes.count else { throw AvroError("the datum ends early (at byte \(position))") }
        defer { position += 1 }
        return bytes[position]
    }

    /// A zig-zag varint (int and long share it).
    mutating func long() throws(AvroError) -> Int64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64 else { throw AvroError("a varint is longer than 10 bytes") }
            value |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { break }
            shift += 7
        }
        return Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }

    mutating func take(_ count: Int) throws(AvroError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= bytes.count - position else { throw AvroError("a length of \(count) runs past the datum's end") }
        defer { position += count }
        return bytes[position..<(position + count)]
    }

    mutating func datum(_ node: AvroSchema.Node) throws(AvroError) -> JSONValue {
        switch node {
        case .null: return .null
        case .boolean: return .bool(try byte() != 0)
        case .int, .long: return .int(try long())
        case .float:
            let raw = try take(4).reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            return .double(Double(Float(bitPattern: raw)))
        case .double:
            let raw = try take(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            return .double(Double(bitPattern: raw))
        case .bytes, .string:
            let length = try long()
            guard length <= Int64(Int.max) else { throw AvroError("a string of \(length) bytes") }
            let slice = try take(Int(length))
            guard let text = String(validating: slice, as: UTF8.self) else { throw AvroError("a string is not valid UTF-8") }
            return .string(text)
        case .fixed(let size):
            return .string(String(decoding: try take(size), as: UTF8.self))
        case .enumeration(let symbols):
            let index = try long()
            guard index >= 0, index < symbols.count else { throw AvroError("enum index \(index) out of range") }
            return .string(symbols[Int(index)])
        case .union(let branches):
            let index = try long()
            guard index >= 0, index < branches.count else { throw AvroError("union branch \(index) does not exist") }
            return try datum(branches[Int(index)])
        case .record(_, let fields):
            var object: [String: JSONValue] = [:]
            for field in fields { object[field.name] = try datum(field.type) }
            return .object(object)
        case .array(let items):
            var values: [JSONValue] = []
            try blocks { (reader: inout AvroReader) throws(AvroError) in values.append(try reader.datum(items)) }
            return .array(values)
        case .map(let valueType):
            var object: [String: JSONValue] = [:]
            try blocks { (reader: inout AvroReader) throws(AvroError) in
                guard case .string(let key) = try reader.datum(.string) else { return }
                object[key] = try reader.datum(valueType)
            }
            return .object(object)
        }
    }

    /// Arrays and maps come in blocks: a count (negative: followed by the block's byte size),
    /// the items, until a zero count.
    mutating func blocks(_ item: (inout AvroReader) throws(AvroError) -> Void) throws(AvroError) {
        while true {
            var count = try long()
            if count == 0 { return }
            if count < 0 {
                count = -count
                _ = try long()
            }
            guard count <= Int64(bytes.count - position) else { throw AvroError("a block of \(count) items runs past the datum's end") }
            for _ in 0..<count { try item(&self) }
        }
    }
}
