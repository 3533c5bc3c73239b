import StrataCore

/// How a Kafka message's bytes become one event (a JSON object with its `type`), following
/// `kafka.format`: JSON as the HTTP API takes it, Avro binary in the union schema that
/// `strata contract export --format avro` prints (the branch names the type), or Avro with the
/// Confluent wire framing (magic byte 0, a 4-byte big-endian schema id mapped in
/// `kafka.schema_ids` to `union` or to one event type's record). `auto` tells them apart by
/// the first byte.
public struct KafkaMessageDecoder: Sendable {
    public enum Format: String, Sendable, CaseIterable {
        case auto, json, avro, confluent
    }

    public struct Failure: Error, Sendable {
        public let code: String
        public let message: String
    }

    let format: Format
    let union: AvroSchema
    let typeNames: [String]
    /// Confluent schema id → the schema it names.
    let framed: [Int: (schema: AvroSchema, type: String?)]

    public init(contract: Contract, project: String, format: Format, schemaIDs: [Int: String]) throws(StrataError) {
        self.format = format
        let exported = contract.avroSchema(project: project)
        do {
            union = try AvroSchema(json: exported)
        } catch {
            throw StrataError.internal("the contract's Avro schema does not parse: \(error)")
        }
        typeNames = union.unionRecordNames ?? []
        var framed: [Int: (schema: AvroSchema, type: String?)] = [:]
        for (id, target) in schemaIDs {
            if target == "union" {
                framed[id] = (union, nil)
                continue
            }
            guard let index = typeNames.firstIndex(of: target), let branch = exported.arrayValue?[index], let schema = try? AvroSchema(json: branch) else {
                throw StrataError.invalid(
                    "unknown_event_type", "kafka.schema_ids maps \(id) to '\(target)', which is neither 'union' nor an event type of the contract",
                    field: "kafka.schema_ids")
            }
            framed[id] = (schema, target)
        }
        self.framed = framed
    }

    /// The event in `bytes`, as a JSON object the ingestor validates against the contract.
    public func decode(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> JSONValue {
        let first = bytes.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }
        switch format {
        case .json: return try json(bytes)
        case .avro: return try avro(bytes, schema: union, type: nil)
        case .confluent: return try confluent(bytes)
        case .auto:
            if looksFramed(bytes) { return try confluent(bytes) }
            if first == UInt8(ascii: "{") { return try json(bytes) }
            return try avro(bytes, schema: union, type: nil)
        }
    }

    /// Plain Avro of the union's first branch also starts with a zero byte, so `auto` takes a
    /// message for Confluent-framed when its id is mapped, or small (registries number schemas
    /// from 1; a plain record there would need an empty user_id, which no event has).
    func looksFramed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= 5, bytes[0] == 0 else { return false }
        return framed[schemaID(bytes)] != nil || (bytes[1] == 0 && bytes[2] == 0)
    }

    func schemaID(_ bytes: UnsafeRawBufferPointer) -> Int { Int(bytes[1]) << 24 | Int(bytes[2]) << 16 | Int(bytes[3]) << 8 | Int(bytes[4]) }

    /// The same reason codes as `POST /v1/events` gives the same bytes.
    func json(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> JSONValue {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            throw Failure(code: "malformed_json", message: "the message is not valid JSON: \(error)")
        }
        guard case .object = value else { throw Failure(code: "not_an_object", message: "each event must be a JSON object") }
        return value
    }

    func confluent(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> JSONValue {
        guard bytes.count >= 5, bytes[0] == 0 else {
            throw Failure(code: "invalid_avro", message: "the message lacks the Confluent framing (a zero byte and a 4-byte schema id)")
        }
        let id = schemaID(bytes)
        guard let (schema, type) = framed[id] else {
            throw Failure(code: "unknown_schema_id", message: "schema id \(id) is not mapped in kafka.schema_ids (map it to 'union' or an event type)")
        }
        return try avro(UnsafeRawBufferPointer(rebasing: bytes[5...]), schema: schema, type: type)
    }

    func avro(_ bytes: UnsafeRawBufferPointer, schema: AvroSchema, type: String?) throws(Failure) -> JSONValue {
        let decoded: (value: JSONValue, branch: Int?)
        do {
            decoded = try schema.decode(bytes)
        } catch {
            throw Failure(code: "invalid_avro", message: "the message is not Avro of the contract's schema: \(error.description)")
        }
        guard case .object(var object) = decoded.value, let name = type ?? decoded.branch.map({ typeNames[$0] }) else {
            throw Failure(code: "invalid_avro", message: "the message is not an event record")
        }
        object = object.filter { $0.value != .null }
        object["type"] = .string(name)
        return .object(object)
    }
}
