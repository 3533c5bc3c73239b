import Foundation
import StrataCore
import Testing

@Suite struct JSONValueCanonicalTests {
    @Test func objectKeysAreSortedWhateverTheInsertionOrder() throws {
        let a: JSONValue = ["zeta": 1, "alpha": 2, "mid": ["b": true, "a": false]]
        let b = try JSONValue.parse(#"{"mid": {"a": false, "b": true}, "alpha": 2, "zeta": 1}"#)
        #expect(a == b)
        #expect(a.serialized == #"{"alpha":2,"mid":{"a":false,"b":true},"zeta":1}"#)
        #expect(b.serialized == a.serialized)
    }

    @Test func keysSortByUnicodeOrderNotLocale() {
        let value: JSONValue = ["b": 1, "B": 2, "a": 3, "_": 4, "10": 5, "9": 6]
        #expect(value.serialized == #"{"10":5,"9":6,"B":2,"_":4,"a":3,"b":1}"#)
    }

    @Test func scalarsSerializeCanonically() {
        #expect(JSONValue.null.serialized == "null")
        #expect(JSONValue.bool(true).serialized == "true")
        #expect(JSONValue.bool(false).serialized == "false")
        #expect(JSONValue.int(-42).serialized == "-42")
        #expect(JSONValue.int(Int64.max).serialized == "9223372036854775807")
        #expect(JSONValue.double(0.1).serialized == "0.1")
        #expect(JSONValue.double(2.5).serialized == "2.5")
        #expect(JSONValue.double(1).serialized == "1.0")
        #expect(JSONValue.double(.nan).serialized == "null")
        #expect(JSONValue.double(.infinity).serialized == "null")
        #expect(JSONValue.array([]).serialized == "[]")
        #expect(JSONValue.object([:]).serialized == "{}")
    }

    @Test func noInsignificantWhitespace() throws {
        let parsed = try JSONValue.parse(" [ 1 , { \"a\" : [ ] } , \"x y\" ]\n")
        #expect(parsed.serialized == #"[1,{"a":[]},"x y"]"#)
    }

    @Test func stringsAreEscaped() {
        #expect(JSONValue.string("plain").serialized == #""plain""#)
        #expect(JSONValue.string("a\"b").serialized == #""a\"b""#)
        #expect(JSONValue.string("a\\b").serialized == #""a\\b""#)
        #expect(JSONValue.string("line\nnext\ttab\rcr").serialized == #""line\nnext\ttab\rcr""#)
        #expect(JSONValue.string("\u{01}").serialized == #""\u0001""#)
        #expect(JSONValue.string("\u{1f}").serialized == #""\u001f""#)
        #expect(JSONValue.string("café ☕︎ 🎉").serialized == "\"café ☕︎ 🎉\"")
        #expect(JSONValue.string("/").serialized == #""/""#)
    }

    @Test(arguments: [
        #"null"#, #"true"#, #"false"#, #"0"#, #"-1"#, #"123456789012"#, #"0.5"#, #"-2.25"#, #""""#, #""x""#, #"[]"#, #"{}"#,
        #"[1,2,[3,[4,{}]]]"#, #"{"a":{"b":{"c":[null,true,"s"]}}}"#, #"{"":1,"k":"v\n\"q\""}"#, #"["\u0001\u001f"]"#,
    ])
    func canonicalTextRoundTripsExactly(text: String) throws {
        let value = try JSONValue.parse(text)
        #expect(value.serialized == text)
        #expect(try JSONValue.parse(value.serialized) == value)
    }

    @Test func randomDocumentsRoundTrip() throws {
        var rng = SplitMix64(seed: 5)
        for _ in 0..<300 {
            let value = randomValue(&rng, depth: 0)
            let text = value.serialized
            let reparsed = try JSONValue.parse(text)
            #expect(reparsed == value)
            #expect(reparsed.serialized == text)
            #expect(try JSONValue.parse(value.prettySerialized) == value)
            #expect(value.serializedBytes == Array(text.utf8))
        }
    }

    @Test func prettyOutputIsIndentedAndSorted() {
        let value: JSONValue = ["b": [1, 2], "a": ["c": nil], "e": [], "d": [:]]
        let expected = """
            {
              "a": {
                "c": null
              },
              "b": [
                1,
                2
              ],
              "d": {},
              "e": []
            }
            """
        #expect(value.prettySerialized == expected)
    }

    @Test func accessors() throws {
        let value = try JSONValue.parse(#"{"s":"x","i":3,"d":2.0,"f":2.5,"b":true,"a":[1],"o":{"k":null}}"#)
        #expect(value["s"]?.stringValue == "x")
        #expect(value["i"]?.intValue == 3)
        #expect(value["i"]?.doubleValue == 3)
        #expect(value["d"]?.intValue == 2)
        #expect(value["f"]?.intValue == nil)
        #expect(value["f"]?.doubleValue == 2.5)
        #expect(value["b"]?.boolValue == true)
        #expect(value["a"]?.arrayValue == [1])
        #expect(value["o"]?.objectValue == ["k": .null])
        #expect(value["missing"] == nil)
        #expect(value["s"]?["s"] == nil)
        #expect(value["s"]?.intValue == nil)
        #expect(JSONValue.optional(nil) == .null)
        #expect(JSONValue.optional("v") == .string("v"))
        #expect(JSONValue.int(7) == .int(Int64(7)))
    }

    @Test(arguments: [
        "", "   ", "{", "}", "[1,]", "[1 2]", "{\"a\" 1}", "{\"a\":}", "{a:1}", "'x'", "tru", "nul", "[1]x", "1 2", "\"unterminated", "{\"a\":1,}",
    ])
    func malformedDocumentsThrow(text: String) {
        #expect(throws: JSONScanError.self) { try JSONValue.parse(text) }
    }

    @Test func trailingGarbageNamesItsOffset() {
        do {
            _ = try JSONValue.parse("[1]  x")
            Issue.record("expected an error")
        } catch {
            #expect(error.offset >= 3)
            #expect(error.description.hasPrefix("malformed JSON at byte"))
        }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let depth = 100_000
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(throws: JSONScanError.self) { try JSONValue.parse(text) }
    }

    @Test func equalContentHasEqualBytes() {
        var first: [String: JSONValue] = [:]
        var second: [String: JSONValue] = [:]
        let keys = (0..<50).map { "key\($0)" }
        for key in keys { first[key] = .string(key) }
        for key in keys.reversed() { second[key] = .string(key) }
        #expect(JSONValue.object(first).serialized == JSONValue.object(second).serialized)
    }
}

private func randomString(_ rng: inout SplitMix64) -> String {
    let alphabet: [Character] = ["a", "b", "Z", "0", " ", "\"", "\\", "\n", "\t", "\u{01}", "é", "☕", "🎉", "/", "{", "]"]
    return String((0..<rng.nextInt(below: 8)).map { _ in alphabet[rng.nextInt(below: alphabet.count)] })
}

private func randomValue(_ rng: inout SplitMix64, depth: Int) -> JSONValue {
    let kind = rng.nextInt(below: depth >= 4 ? 5 : 7)
    switch kind {
    case 0: return .null
    case 1: return .bool(rng.chance(0.5))
    case 2: return .int(Int64(bitPattern: rng.next()) >> Int64(rng.nextInt(below: 63)))
    case 3: return .double(Double(rng.nextInt(below: 1_000_000)) / 64 + 0.5)
    case 4: return .string(randomString(&rng))
    case 5: return .array((0..<rng.nextInt(below: 5)).map { _ in randomValue(&rng, depth: depth + 1) })
    default:
        var object: [String: JSONValue] = [:]
        for _ in 0..<rng.nextInt(below: 5) { object[randomString(&rng)] = randomValue(&rng, depth: depth + 1) }
        return .object(object)
    }
}
