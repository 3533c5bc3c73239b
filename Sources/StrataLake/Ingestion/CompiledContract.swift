import Foundation
import StrataCore

/// The contract prepared for the ingestion hot path: names as bytes, limits resolved, so that
/// validating an event compares bytes and never builds strings.
public struct CompiledContract: Sendable {
    public let contract: Contract
    public let version: String
    let types: [CompiledType]

    public init(_ contract: Contract) {
        self.contract = contract
        self.version = contract.version
        let policy = contract.policy
        self.types = contract.allStoredSchemas.map { schema in
            CompiledType(
                name: schema.name, nameBytes: Array(schema.name.utf8), requiresUser: schema.requiresUser,
                isCatalog: CatalogEventType.all.contains(schema.name),
                fields: schema.fields.map { field in
                    CompiledField(
                        name: field.name, nameBytes: Array(field.name.utf8), schema: field,
                        maxLength: field.maxLength ?? policy.defaultMaxStringLength, maxItems: field.maxItems ?? policy.defaultMaxItems,
                        allowed: field.allowedValues.map { $0.map { Array($0.utf8) } })
                })
        }
    }

    func typeIndex(matching bytes: UnsafeRawBufferPointer) -> Int? {
        types.firstIndex { $0.nameBytes.count == bytes.count && $0.nameBytes.withUnsafeBytes { memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 } }
    }

    /// Names of the event types clients may send, for error messages.
    var declaredTypeNames: String { types.filter { !$0.isCatalog }.map(\.name).joined(separator: ", ") }
}

struct CompiledType: Sendable {
    var name: String
    var nameBytes: [UInt8]
    var requiresUser: Bool
    var isCatalog: Bool
    var fields: [CompiledField]

    func fieldIndex(matching bytes: UnsafeRawBufferPointer) -> Int? {
        fields.firstIndex { field in
            field.nameBytes.count == bytes.count && field.nameBytes.withUnsafeBytes { memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 }
        }
    }
}

struct CompiledField: Sendable {
    var name: String
    var nameBytes: [UInt8]
    var schema: FieldSchema
    var maxLength: Int
    var maxItems: Int
    var allowed: [[UInt8]]?
}
