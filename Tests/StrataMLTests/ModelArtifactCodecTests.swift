import StrataCore
import Testing

@testable import StrataML

/// The artifact's byte format: every kind of section comes back as written, the same artifact
/// always gives the same bytes, and bytes that are not a whole artifact throw instead of crashing.
@Suite struct ModelArtifactCodecTests {
    /// An artifact with every kind of section, some of them empty.
    static func sample() -> ModelArtifact {
        var artifact = ModelArtifact(
            algorithm: .itemKNN, parameters: ["neighbors": 20, "shrinkage": 0.5, "alpha": -1.25], metadata: ["items": 3, "users": 2, "zero": 0])
        artifact.floats = ["vectors": [1.5, -2.25, 0, 3.0e-7], "empty": []]
        artifact.doubles = ["similarity_values": [0.1, 1.0 / 3.0, -7.5]]
        artifact.ints = ["similarity_indices": [0, 2, 1, Int32.max, Int32.min]]
        artifact.offsets = ["similarity_indptr": [0, 2, 5, Int(Int64.max)]]
        artifact.idLists = ["items": ["a", "", "é✓ unicode", "with space"], "users": ["u0", "u1"], "none": []]
        artifact.blobs = ["booster": [0, 255, 1, 128, 7], "nothing": []]
        return artifact
    }

    @Test func everySectionKindRoundTrips() throws {
        let artifact = Self.sample()
        let decoded = try ModelArtifact(decoding: artifact.encoded())
        #expect(decoded == artifact)
        #expect(decoded.algorithm == .itemKNN)
        #expect(decoded.parameters == ["neighbors": 20, "shrinkage": 0.5, "alpha": -1.25])
        #expect(decoded.metadata == ["items": 3, "users": 2, "zero": 0])
        #expect(decoded.floats["vectors"] == [1.5, -2.25, 0, 3.0e-7])
        #expect(decoded.floats["empty"] == [])
        #expect(decoded.doubles["similarity_values"] == [0.1, 1.0 / 3.0, -7.5])
        #expect(decoded.ints["similarity_indices"] == [0, 2, 1, Int32.max, Int32.min])
        #expect(decoded.offsets["similarity_indptr"] == [0, 2, 5, Int(Int64.max)])
        #expect(decoded.idLists["items"] == ["a", "", "é✓ unicode", "with space"])
        #expect(decoded.idLists["none"] == [])
        #expect(decoded.blobs["booster"] == [0, 255, 1, 128, 7])
        #expect(decoded.blobs["nothing"] == [])
    }

    @Test func anEmptyArtifactRoundTrips() throws {
        let artifact = ModelArtifact(algorithm: .popularity, parameters: [:])
        let bytes = artifact.encoded()
        #expect(Array(bytes.prefix(8)) == ModelArtifact.magic)
        #expect(Array(bytes[8..<12]) == [1, 0, 0, 0])
        #expect(try ModelArtifact(decoding: bytes) == artifact)
    }

    @Test func theSameArtifactGivesTheSameBytes() throws {
        let first = Self.sample().encoded()
        #expect(Self.sample().encoded() == first)
        // Decoding and encoding again changes nothing (dictionary order plays no part).
        #expect(try ModelArtifact(decoding: first).encoded() == first)
        // The same contents inserted in another order give the same bytes too.
        var reordered = ModelArtifact(
            algorithm: .itemKNN, parameters: ["alpha": -1.25, "shrinkage": 0.5, "neighbors": 20], metadata: ["zero": 0, "users": 2, "items": 3])
        reordered.blobs = ["nothing": [], "booster": [0, 255, 1, 128, 7]]
        reordered.idLists = ["none": [], "users": ["u0", "u1"], "items": ["a", "", "é✓ unicode", "with space"]]
        reordered.offsets = ["similarity_indptr": [0, 2, 5, Int(Int64.max)]]
        reordered.ints = ["similarity_indices": [0, 2, 1, Int32.max, Int32.min]]
        reordered.doubles = ["similarity_values": [0.1, 1.0 / 3.0, -7.5]]
        reordered.floats = ["empty": [], "vectors": [1.5, -2.25, 0, 3.0e-7]]
        #expect(reordered.encoded() == first)
    }

    @Test func aDifferentValueGivesDifferentBytes() {
        var changed = Self.sample()
        changed.floats["vectors"]![0] = 1.25
        #expect(changed.encoded() != Self.sample().encoded())
        var renamed = Self.sample()
        renamed.idLists["items"]![0] = "b"
        #expect(renamed.encoded() != Self.sample().encoded())
    }

    @Test func everyTruncationThrows() {
        let bytes = Self.sample().encoded()
        for length in 0..<bytes.count {
            #expect(throws: StrataError.self, "\(length) of \(bytes.count) bytes") { try ModelArtifact(decoding: Array(bytes.prefix(length))) }
        }
    }

    @Test func trailingBytesThrow() {
        #expect(throws: StrataError.self) { try ModelArtifact(decoding: Self.sample().encoded() + [0]) }
    }

    @Test func garbageThrows() {
        var rng = SplitMix64(seed: 11)
        for length in [0, 1, 8, 15, 16, 17, 64, 1000] {
            let noise = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            #expect(throws: StrataError.self) { try ModelArtifact(decoding: noise) }
            // The right magic and version before the noise does not make it readable.
            #expect(throws: StrataError.self) { try ModelArtifact(decoding: ModelArtifact.magic + [1, 0, 0, 0] + noise) }
        }
        #expect(throws: StrataError.self) { try ModelArtifact(decoding: Array("not a model artifact at all".utf8)) }
    }

    @Test func anotherFormatVersionThrows() {
        var bytes = Self.sample().encoded()
        bytes[8] = 2
        #expect(throws: StrataError.self) { try ModelArtifact(decoding: bytes) }
    }

    @Test func aHeaderLongerThanTheFileThrows() {
        var bytes = Self.sample().encoded()
        bytes[12] = 0xFF
        bytes[13] = 0xFF
        bytes[14] = 0xFF
        bytes[15] = 0x7F
        #expect(throws: StrataError.self) { try ModelArtifact(decoding: bytes) }
    }

    @Test func aSectionWithAPartialElementThrows() throws {
        // Hand-written header: a 3-byte f32 section.
        let header = Array(#"{"algorithm":"popularity","metadata":{},"parameters":{},"sections":[{"bytes":3,"kind":"f32","name":"x"}]}"#.utf8)
        var bytes = ModelArtifact.magic + [1, 0, 0, 0]
        withUnsafeBytes(of: UInt32(header.count).littleEndian) { bytes += $0 }
        bytes += header + [1, 2, 3]
        #expect(throws: StrataError.self) { try ModelArtifact(decoding: bytes) }
        // The same header with a whole float reads.
        let whole = Array(#"{"algorithm":"popularity","metadata":{},"parameters":{},"sections":[{"bytes":4,"kind":"f32","name":"x"}]}"#.utf8)
        var good = ModelArtifact.magic + [1, 0, 0, 0]
        withUnsafeBytes(of: UInt32(whole.count).littleEndian) { good += $0 }
        good += whole
        withUnsafeBytes(of: Float(2.5)) { good += $0 }
        #expect(try ModelArtifact(decoding: good).floats["x"] == [2.5])
    }

    @Test func anUnknownAlgorithmOrSectionKindThrows() {
        for header in [
            #"{"algorithm":"nonsense","metadata":{},"parameters":{},"sections":[]}"#,
            #"{"algorithm":"popularity","metadata":{},"parameters":{},"sections":[{"bytes":0,"kind":"f16","name":"x"}]}"#,
            #"{"algorithm":"popularity","metadata":{},"parameters":{},"sections":[{"bytes":-4,"kind":"f32","name":"x"}]}"#,
            #"{"algorithm":"popularity"}"#,
            "not json",
        ] {
            let headerBytes = Array(header.utf8)
            var bytes = ModelArtifact.magic + [1, 0, 0, 0]
            withUnsafeBytes(of: UInt32(headerBytes.count).littleEndian) { bytes += $0 }
            bytes += headerBytes
            #expect(throws: StrataError.self, "\(header)") { try ModelArtifact(decoding: bytes) }
        }
    }

    @Test func anIDListCutShortThrows() {
        // One id claiming 10 bytes with only 2 present.
        let header = Array(#"{"algorithm":"popularity","metadata":{},"parameters":{},"sections":[{"bytes":6,"kind":"ids","name":"x"}]}"#.utf8)
        var bytes = ModelArtifact.magic + [1, 0, 0, 0]
        withUnsafeBytes(of: UInt32(header.count).littleEndian) { bytes += $0 }
        bytes += header + [10, 0, 0, 0, 65, 66]
        #expect(throws: StrataError.self) { try ModelArtifact(decoding: bytes) }
    }

    /// A tampered section length near Int64.max is refused as corrupt, not an arithmetic
    /// overflow that stops the process (the bound is checked before the addition).
    @Test func aHugeSectionLengthThrows() {
        let header = Array(
            #"{"algorithm":"popularity","metadata":{},"parameters":{},"sections":[{"bytes":4,"kind":"f32","name":"a"},{"bytes":9223372036854775807,"kind":"f32","name":"b"}]}"#
                .utf8)
        var bytes = ModelArtifact.magic + [1, 0, 0, 0]
        withUnsafeBytes(of: UInt32(header.count).littleEndian) { bytes += $0 }
        bytes += header
        withUnsafeBytes(of: Float(1)) { bytes += $0 }
        #expect(throws: StrataError.self) { try ModelArtifact(decoding: bytes) }
    }
}
