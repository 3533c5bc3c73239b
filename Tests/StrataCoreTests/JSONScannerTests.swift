import Foundation
import StrataCore
import Testing

@Suite struct JSONScannerTests {
    @Test func parsesEveryKindOfValue() throws {
        let value = try JSONValue.parse(#"{"a": [1, -2, 3.5, 1e3, true, false, null], "b": {"c": "d\n\"e\" \u00e9 \ud83d\ude00"}}"#)
        #expect(value["a"] == [1, -2, 3.5, 1000.0, true, false, nil])
        #expect(value["b"]?["c"]?.stringValue == "d\n\"e\" é 😀")
    }

    @Test func canonicalSerializationSortsKeysAndRoundTrips() throws {
        let value = try JSONValue.parse(#"{"z": 1, "a": {"y": [true], "b": "x"}}"#)
        #expect(value.serialized == #"{"a":{"b":"x","y":[true]},"z":1}"#)
        #expect(try JSONValue.parse(value.serialized) == value)
    }

    @Test(arguments: [
        #"{"a": }"#, #"{"a" 1}"#, #"[1, 2"#, #""unterminated"#, #"{"a": tru}"#, #"01"#, #"1."#, #"{"a": "\x"}"#, #"[1] 2"#,
        #""\ud800""#, "\"bad \u{01} control\"",
    ])
    func rejectsMalformedJSON(text: String) {
        #expect(throws: JSONScanError.self) { try JSONValue.parse(text) }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONScanError.self) { try JSONValue.parse(bytes: [0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSONScanError.self) { try JSONValue.parse(bytes: [0x22, 0xED, 0xA0, 0x80, 0x22]) }  // encoded surrogate
        #expect(throws: JSONScanError.self) { try JSONValue.parse(bytes: [0x22, 0xC0, 0xAF, 0x22]) }  // overlong
    }

    @Test func limitsNestingInsteadOfOverflowingTheStack() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONScanError.self) { try JSONValue.parse(deep) }
    }

    @Test func integersStayExactAndLargeNumbersBecomeDoubles() throws {
        #expect(try JSONValue.parse("9223372036854775807") == .int(Int64.max))
        #expect(try JSONValue.parse("-9223372036854775808") == .int(Int64.min))
        #expect(try JSONValue.parse("9223372036854775808") == .double(9_223_372_036_854_775_808))
    }

    @Test func randomDocumentsRoundTrip() throws {
        var rng = SplitMix64(seed: 1)
        func random(_ depth: Int) -> JSONValue {
            switch rng.nextInt(below: depth > 3 ? 5 : 7) {
            case 0: return .null
            case 1: return .bool(rng.chance(0.5))
            case 2: return .int(Int64(bitPattern: rng.next()))
            case 3: return .double(Double(rng.nextInt(below: 1_000_000)) / 7)
            case 4: return .string(String((0..<rng.nextInt(below: 12)).map { _ in "aé\"\\\n😀x/".randomElement(using: &rng)! }))
            case 5: return .array((0..<rng.nextInt(below: 4)).map { _ in random(depth + 1) })
            default: return .object(Dictionary(uniqueKeysWithValues: (0..<rng.nextInt(below: 4)).map { ("k\($0)", random(depth + 1)) }))
            }
        }
        for _ in 0..<500 {
            let value = random(0)
            #expect(try JSONValue.parse(value.serialized) == value)
        }
    }
}
