import StrataCore
import Testing

@testable import StrataLake
@testable import StrataServing

/// Business filters on catalog properties, and the page cursor a paged answer hands back.
@Suite struct ItemFilterTests {
    static func item(_ properties: [String: FieldValue], hidden: Bool = false) -> CatalogEntry {
        CatalogEntry(id: "i1", properties: properties, hidden: hidden, updatedAt: 0, offset: 0)
    }

    @Test func eachConditionMustHold() {
        let shoe = Self.item(["category": .string("shoes"), "in_stock": .bool(true), "price": .double(59.5), "brand": .string("acme"), "size": .int(42)])
        #expect(ItemFilter().isEmpty && ItemFilter().matches(shoe))
        #expect(ItemFilter(categories: ["shoes", "hats"]).matches(shoe))
        #expect(!ItemFilter(categories: ["hats"]).matches(shoe))
        #expect(ItemFilter(inStock: true).matches(shoe) && !ItemFilter(inStock: false).matches(shoe))
        #expect(ItemFilter(minPrice: 59.5, maxPrice: 59.5).matches(shoe), "bounds are inclusive")
        #expect(!ItemFilter(minPrice: 60).matches(shoe) && !ItemFilter(maxPrice: 59).matches(shoe))
        #expect(ItemFilter(equals: ["brand": "acme", "size": "42"]).matches(shoe), "equality compares text, integers included")
        #expect(!ItemFilter(equals: ["brand": "other"]).matches(shoe))
        #expect(!ItemFilter(categories: ["shoes"], inStock: false).matches(shoe), "all conditions, not any")
    }

    @Test func missingPropertiesAndUnknownItemsFail() {
        let bare = Self.item([:])
        #expect(!ItemFilter(categories: ["shoes"]).matches(bare))
        #expect(!ItemFilter(minPrice: 0).matches(bare), "no price: fails any price bound")
        #expect(ItemFilter(inStock: false).matches(bare), "in_stock absent counts as false")
        #expect(!ItemFilter(inStock: true).matches(bare))
        #expect(!ItemFilter(equals: ["brand": "acme"]).matches(bare))
        #expect(!ItemFilter().matches(nil), "an item the catalog never heard of passes no filter")
        #expect(ItemFilter(equals: ["on_sale": "true"]).matches(Self.item(["on_sale": .bool(true)])))
    }

    @Test func theFilterEchoesAsJSON() {
        let filter = ItemFilter(categories: ["b", "a"], inStock: true, minPrice: 1, maxPrice: 2, equals: ["brand": "acme"])
        #expect(filter.json == ["category": ["a", "b"], "in_stock": true, "min_price": 1.0, "max_price": 2.0, "brand": "acme"])
    }

    @Test func cursorsRoundTripAndRefuseAnythingElse() throws {
        let cursor = PageCursor(offset: 20, model: "als@3", variant: "b")
        #expect(cursor.token == "MjB8YnxhbHNAMw", "base64url without padding")
        #expect(try PageCursor(token: cursor.token) == cursor)
        // A model name may hold the separator: the split stops at the third part.
        let odd = PageCursor(offset: 0, model: "a|b@1", variant: "v")
        #expect(try PageCursor(token: odd.token) == odd)
        for bad in ["", "!!!", Base64URL.encode(Array("x|v|m".utf8)), Base64URL.encode(Array("-1|v|m".utf8)), Base64URL.encode(Array("10001|v|m".utf8))] {
            #expect(throws: StrataError.self, "\(bad)") { _ = try PageCursor(token: bad) }
        }
        // Every byte length encodes and decodes back.
        for length in 0..<10 {
            let bytes = (0..<length).map { UInt8(($0 * 97 + 13) & 0xFF) }
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
        }
    }
}
