import NIOCore
import StrataCore
import Testing

@testable import StrataRedis

/// The decoder against replies split at every byte: nothing is emitted before a reply is whole,
/// and then exactly the reply (random nested values, binary bulk strings, nulls).
@Suite struct RESPDecoderTests {
    static func serialize(_ value: RESPValue, into bytes: inout [UInt8]) {
        switch value {
        case .simpleString(let text): bytes += Array("+\(text)\r\n".utf8)
        case .error(let text): bytes += Array("-\(text)\r\n".utf8)
        case .integer(let value): bytes += Array(":\(value)\r\n".utf8)
        case .bulkString(nil): bytes += Array("$-1\r\n".utf8)
        case .bulkString(let data?): bytes += Array("$\(data.count)\r\n".utf8) + data + [13, 10]
        case .array(nil): bytes += Array("*-1\r\n".utf8)
        case .array(let items?):
            bytes += Array("*\(items.count)\r\n".utf8)
            for item in items { serialize(item, into: &bytes) }
        }
    }

    static func random(_ rng: inout SplitMix64, depth: Int = 0) -> RESPValue {
        switch rng.nextInt(below: depth > 2 ? 5 : 7) {
        case 0: return .simpleString("OK\(rng.nextInt(below: 100))")
        case 1: return .error("ERR wrong \(rng.nextInt(below: 9))")
        case 2: return .integer(Int64(rng.nextInt(below: 1_000_000)) - 500_000)
        case 3: return .bulkString(nil)
        case 4: return .bulkString((0..<rng.nextInt(below: 40)).map { _ in UInt8(rng.nextInt(below: 256)) })
        case 5: return .array(nil)
        default: return .array((0..<rng.nextInt(below: 5)).map { _ in random(&rng, depth: depth + 1) })
        }
    }

    @Test func repliesSplitAnywhereDecodeOnceWhole() throws {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<300 {
            let value = Self.random(&rng)
            var bytes: [UInt8] = []
            Self.serialize(value, into: &bytes)
            for cut in 0..<bytes.count {
                var partial = ByteBuffer(bytes: bytes[..<cut])
                #expect(try RESPDecoder.parse(&partial, depth: 0) == nil)
            }
            var whole = ByteBuffer(bytes: bytes + Array("+NEXT\r\n".utf8))
            #expect(try RESPDecoder.parse(&whole, depth: 0) == value)
            #expect(try RESPDecoder.parse(&whole, depth: 0) == .simpleString("NEXT"))
        }
    }

    @Test func garbageIsAProtocolViolationNotACrash() {
        for garbage in ["?what\r\n", "$abc\r\n", "*-7\r\n", ":12x\r\n", "$999999999999\r\n"] {
            var buffer = ByteBuffer(string: garbage)
            #expect(throws: RedisError.self) { try RESPDecoder.parse(&buffer, depth: 0) }
        }
    }

    @Test func endpointsFromURLs() throws {
        #expect(try RedisEndpoint(url: "redis://cache.internal") == RedisEndpoint(host: "cache.internal"))
        #expect(
            try RedisEndpoint(url: "redis://app:s%40cret@10.0.0.5:6380/3")
                == RedisEndpoint(host: "10.0.0.5", port: 6380, user: "app", password: "s@cret", database: 3))
        #expect(try RedisEndpoint(url: "redis://:pw@h").password == "pw")
        for bad in ["http://h", "redis://", "redis://h/db"] {
            #expect(throws: RedisError.self) { try RedisEndpoint(url: bad) }
        }
    }
}
