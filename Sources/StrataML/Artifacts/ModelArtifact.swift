import StrataCore

/// A trained model as bytes: `STRATAML`, a format version, a canonical JSON header (algorithm,
/// parameters, named sections with their lengths), then the sections (little-endian floats,
/// doubles, int32s, int64s, or length-prefixed UTF-8 ids). Same model, same bytes: the SHA-256 of the bytes names it.
public struct ModelArtifact: Sendable, Equatable {
    public static let magic = Array("STRATAML".utf8)
    public static let formatVersion: UInt32 = 1

    public var algorithm: Algorithm
    public var parameters: [String: Double]
    /// Scalar facts about the model (shapes), kept in the header.
    public var metadata: [String: Int]
    public var floats: [String: [Float]] = [:]
    public var doubles: [String: [Double]] = [:]
    public var ints: [String: [Int32]] = [:]
    public var offsets: [String: [Int]] = [:]
    public var idLists: [String: [String]] = [:]
    /// Opaque bytes (a library's own model format, e.g. XGBoost's JSON).
    public var blobs: [String: [UInt8]] = [:]

    public init(algorithm: Algorithm, parameters: [String: Double], metadata: [String: Int] = [:]) {
        self.algorithm = algorithm
        self.parameters = parameters
        self.metadata = metadata
    }

    // MARK: Encoding

    public func encoded() -> [UInt8] {
        var sections: [(name: String, kind: String, bytes: [UInt8])] = []
        for name in floats.keys.sorted() {
            sections.append((name, "f32", floats[name]!.withUnsafeBufferPointer { Array(UnsafeRawBufferPointer($0)) }))
        }
        for name in doubles.keys.sorted() {
            sections.append((name, "f64", doubles[name]!.withUnsafeBufferPointer { Array(UnsafeRawBufferPointer($0)) }))
        }
        for name in ints.keys.sorted() {
            sections.append((name, "i32", ints[name]!.withUnsafeBufferPointer { Array(UnsafeRawBufferPointer($0)) }))
        }
        for name in offsets.keys.sorted() {
            sections.append((name, "i64", offsets[name]!.map { Int64($0) }.withUnsafeBufferPointer { Array(UnsafeRawBufferPointer($0)) }))
        }
        for name in blobs.keys.sorted() { sections.append((name, "u8", blobs[name]!)) }
        for name in idLists.keys.sorted() {
            var bytes: [UInt8] = []
            for id in idLists[name]! {
                withUnsafeBytes(of: UInt32(id.utf8.count).littleEndian) { bytes += $0 }
                bytes += id.utf8
            }
            sections.append((name, "ids", bytes))
        }
        let header: JSONValue = [
            "algorithm": .string(algorithm.rawValue),
            "parameters": .object(parameters.mapValues { .double($0) }),
            "metadata": .object(metadata.mapValues { .int($0) }),
            "sections": .array(sections.map { ["name": .string($0.name), "kind": .string($0.kind), "bytes": .int($0.bytes.count)] }),
        ]
        let headerBytes = header.serializedBytes
        var output = Self.magic
        withUnsafeBytes(of: Self.formatVersion.littleEndian) { output += $0 }
        withUnsafeBytes(of: UInt32(headerBytes.count).littleEndian) { output += $0 }
        output += headerBytes
        for section in sections { output += section.bytes }
        return output
    }

    public init(decoding bytes: [UInt8]) throws(StrataError) {
        func corrupt(_ why: String) -> StrataError { StrataError.invalid("invalid_artifact", "not a readable Strata model artifact: \(why)") }
        guard bytes.count >= 16, Array(bytes[0..<8]) == Self.magic else { throw corrupt("missing STRATAML magic") }
        let version = bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self)) }
        guard version == Self.formatVersion else { throw corrupt("format version \(version); this build reads \(Self.formatVersion)") }
        let headerLength = Int(bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 12, as: UInt32.self)) })
        guard 16 + headerLength <= bytes.count else { throw corrupt("header longer than the file") }
        guard let header = try? JSONValue.parse(bytes: bytes[16..<(16 + headerLength)]),
            let algorithmName = header["algorithm"]?.stringValue, let algorithm = Algorithm(rawValue: algorithmName),
            let sections = header["sections"]?.arrayValue
        else { throw corrupt("unreadable header") }
        self.init(
            algorithm: algorithm, parameters: (header["parameters"]?.objectValue ?? [:]).compactMapValues(\.doubleValue),
            metadata: (header["metadata"]?.objectValue ?? [:]).compactMapValues { $0.intValue.map(Int.init) })
        var position = 16 + headerLength
        for section in sections {
            guard let name = section["name"]?.stringValue, let kind = section["kind"]?.stringValue, let length = section["bytes"]?.intValue,
                length >= 0, length <= bytes.count - position
            else { throw corrupt("section table does not fit the file") }
            let slice = bytes[position..<(position + Int(length))]
            position += Int(length)
            func load<T>(_ type: T.Type) throws(StrataError) -> [T] {
                guard slice.count % MemoryLayout<T>.size == 0 else { throw corrupt("section \(name) has a partial element") }
                return slice.withUnsafeBytes { raw in
                    (0..<(raw.count / MemoryLayout<T>.size)).map { raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self) }
                }
            }
            switch kind {
            case "f32": floats[name] = try load(Float.self)
            case "f64": doubles[name] = try load(Double.self)
            case "i32": ints[name] = try load(Int32.self)
            case "i64": offsets[name] = try load(Int64.self).map { Int($0) }
            case "u8": blobs[name] = Array(slice)
            case "ids":
                var ids: [String] = []
                var cursor = slice.startIndex
                while cursor < slice.endIndex {
                    guard cursor + 4 <= slice.endIndex else { throw corrupt("section \(name) is cut short") }
                    let length = Int(slice[cursor..<(cursor + 4)].withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) })
                    cursor += 4
                    guard cursor + length <= slice.endIndex else { throw corrupt("section \(name) is cut short") }
                    ids.append(String(decoding: slice[cursor..<(cursor + length)], as: UTF8.self))
                    cursor += length
                }
                idLists[name] = ids
            default: throw corrupt("unknown section kind \(kind)")
            }
        }
        guard position == bytes.count else { throw corrupt("trailing bytes") }
    }

    // MARK: Typed access

    func floats(_ name: String, count: Int) throws(StrataError) -> [Float] {
        guard let values = floats[name], values.count == count else {
            throw StrataError.invalid("invalid_artifact", "artifact section \(name) is missing or has the wrong size")
        }
        return values
    }

    func ids(_ name: String) throws(StrataError) -> IDMap {
        guard let ids = idLists[name] else { throw StrataError.invalid("invalid_artifact", "artifact lacks the \(name) ids") }
        return IDMap(ids)
    }

    func shape(_ key: String) throws(StrataError) -> Int {
        guard let value = metadata[key], value >= 0 else { throw StrataError.invalid("invalid_artifact", "artifact lacks \(key)") }
        return value
    }

    func checkAlgorithm(_ expected: Algorithm) throws(StrataError) {
        guard algorithm == expected else {
            throw StrataError.invalid("invalid_artifact", "artifact holds a \(algorithm.rawValue) model, not \(expected.rawValue)")
        }
    }
}
