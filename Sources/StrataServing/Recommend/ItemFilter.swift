import StrataCore
import StrataLake

/// Business filters on catalog fields, applied before the top-n is cut: categories, in stock,
/// a price range, and equality on any other item property.
public struct ItemFilter: Sendable, Equatable {
    public var categories: Set<String>?
    public var inStock: Bool?
    public var minPrice: Double?
    public var maxPrice: Double?
    /// property → required value (as text).
    public var equals: [String: String] = [:]

    public init(categories: Set<String>? = nil, inStock: Bool? = nil, minPrice: Double? = nil, maxPrice: Double? = nil, equals: [String: String] = [:]) {
        self.categories = categories
        self.inStock = inStock
        self.minPrice = minPrice
        self.maxPrice = maxPrice
        self.equals = equals
    }

    public var isEmpty: Bool { categories == nil && inStock == nil && minPrice == nil && maxPrice == nil && equals.isEmpty }

    /// Whether an item (nil: not in the catalog, so nothing to test) passes.
    public func matches(_ entry: CatalogEntry?) -> Bool {
        guard let entry else { return false }
        if let categories {
            guard let category = entry.properties["category"]?.stringValue, categories.contains(category) else { return false }
        }
        if let inStock, (entry.properties["in_stock"]?.boolValue ?? false) != inStock { return false }
        if minPrice != nil || maxPrice != nil {
            guard let price = entry.properties["price"]?.numericValue else { return false }
            if let minPrice, price < minPrice { return false }
            if let maxPrice, price > maxPrice { return false }
        }
        for (name, expected) in equals {
            guard let value = entry.properties[name], Self.text(value) == expected else { return false }
        }
        return true
    }

    static func text(_ value: FieldValue) -> String {
        switch value {
        case .string(let v): v
        case .bool(let v): v ? "true" : "false"
        case .int(let v): String(v)
        default: value.jsonValue.serialized
        }
    }

    public var json: JSONValue {
        var object: [String: JSONValue] = [:]
        if let categories { object["category"] = .array(categories.sorted().map(JSONValue.string)) }
        if let inStock { object["in_stock"] = .bool(inStock) }
        if let minPrice { object["min_price"] = .double(minPrice) }
        if let maxPrice { object["max_price"] = .double(maxPrice) }
        for (name, value) in equals { object[name] = .string(value) }
        return .object(object)
    }
}

/// Where the next page starts: the rank already served, pinned to the model version that
/// ranked it (a page never repeats an item of the pages before it).
public struct PageCursor: Sendable, Equatable {
    public var offset: Int
    public var model: String
    public var variant: String

    public init(offset: Int, model: String, variant: String) {
        self.offset = offset
        self.model = model
        self.variant = variant
    }

    /// URL-safe text: `OFFSET.VARIANT.MODEL@VERSION` in base64url.
    public var token: String {
        let bytes = Array("\(offset)|\(variant)|\(model)".utf8)
        return Base64URL.encode(bytes)
    }

    public init(token: String) throws(StrataError) {
        guard let bytes = Base64URL.decode(token), let text = String(validating: bytes, as: UTF8.self) else {
            throw StrataError.invalid("invalid_cursor", "cursor is not one this server handed out; use next_cursor from the previous page", field: "cursor")
        }
        let parts = text.split(separator: "|", maxSplits: 2).map(String.init)
        guard parts.count == 3, let offset = Int(parts[0]), offset >= 0, offset <= 10_000 else {
            throw StrataError.invalid("invalid_cursor", "cursor is not one this server handed out; use next_cursor from the previous page", field: "cursor")
        }
        self.init(offset: offset, model: parts[2], variant: parts[1])
    }
}

/// base64url without padding.
enum Base64URL {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var value: UInt32 = 0
            for (offset, byte) in chunk.enumerated() { value |= UInt32(byte) << (16 - 8 * UInt32(offset)) }
            for position in 0..<(chunk.count + 1) { output.append(alphabet[Int((value >> (18 - 6 * UInt32(position))) & 63)]) }
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        var lookup = [Int16](repeating: -1, count: 256)
        for (index, byte) in alphabet.enumerated() { lookup[Int(byte)] = Int16(index) }
        var output: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for byte in text.utf8 {
            let value = lookup[Int(byte)]
            guard value >= 0 else { return nil }
            buffer = buffer << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8((buffer >> UInt32(bits)) & 0xFF))
            }
        }
        return output
    }
}
