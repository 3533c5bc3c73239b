import Foundation
import StrataCore
import Testing

@testable import StrataParquet

@Suite struct ParquetEdgeCaseTests {
    static let codecs: [CompressionCodec] = [.uncompressed, .snappy, .zstd]

    static func roundTrip(_ columns: [WritableColumn], rows: Int, options: ParquetWriteOptions = ParquetWriteOptions()) throws -> ParquetReader {
        let bytes = try ParquetWriter.write(columns: columns, rowCount: rows, options: options)
        let reader = try ParquetReader(bytes: bytes)
        #expect(reader.rowCount == rows)
        #expect(reader.columns.map(\.name) == columns.map(\.name))
        for column in columns {
            #expect(try reader.read(column: column.name) == column.values, "column \(column.name)")
        }
        return reader
    }

    @Test(arguments: [CompressionCodec.uncompressed, .snappy, .zstd])
    func allNullColumnsOfEveryKind(codec: CompressionCodec) throws {
        let rows = 300
        let columns = [
            WritableColumn(name: "b", kind: .boolean, nullable: true, values: .boolean(Array(repeating: nil, count: rows))),
            WritableColumn(name: "i", kind: .int64, nullable: true, values: .int64(Array(repeating: nil, count: rows))),
            WritableColumn(name: "d", kind: .double, nullable: true, values: .double(Array(repeating: nil, count: rows))),
            WritableColumn(name: "s", kind: .string, nullable: true, values: .string(Array(repeating: nil, count: rows))),
            WritableColumn(name: "t", kind: .timestamp(.millis), nullable: true, values: .int64(Array(repeating: nil, count: rows))),
            WritableColumn(name: "l", kind: .stringList, nullable: true, values: .stringList(Array(repeating: nil, count: rows))),
        ]
        _ = try Self.roundTrip(columns, rows: rows, options: ParquetWriteOptions(codec: codec, rowGroupRows: 128, pageRows: 50))
    }

    @Test(arguments: [CompressionCodec.uncompressed, .snappy, .zstd])
    func extremeValues(codec: CompressionCodec) throws {
        let integers: [Int64?] = [.min, .max, 0, -1, 1, nil, Int64(Int32.max) + 1, Int64(Int32.min) - 1]
        let doubles: [Double?] = [.infinity, -.infinity, .greatestFiniteMagnitude, .leastNonzeroMagnitude, -0.5, 0, nil, 1e-300]
        let strings: [String?] = ["", String(repeating: "x", count: 70_000), "é☕🎉\u{0}", nil, "\n\t", "PAR1", " ", "a"]
        let lists: [[String]?] = [[], nil, [""], ["a", "a", "a"], (0..<500).map { "t\($0)" }, ["é"], [], nil]
        let flags: [Bool?] = [true, false, nil, true, true, false, nil, false]
        let columns = [
            WritableColumn(name: "i", kind: .int64, nullable: true, values: .int64(integers)),
            WritableColumn(name: "d", kind: .double, nullable: true, values: .double(doubles)),
            WritableColumn(name: "s", kind: .string, nullable: true, values: .string(strings)),
            WritableColumn(name: "l", kind: .stringList, nullable: true, values: .stringList(lists)),
            WritableColumn(name: "b", kind: .boolean, nullable: true, values: .boolean(flags)),
        ]
        _ = try Self.roundTrip(columns, rows: 8, options: ParquetWriteOptions(codec: codec))
    }

    @Test func zeroRows() throws {
        let columns = [
            WritableColumn(name: "id", kind: .string, nullable: false, values: .string([])),
            WritableColumn(name: "n", kind: .int64, nullable: true, values: .int64([])),
        ]
        let reader = try Self.roundTrip(columns, rows: 0)
        #expect(reader.rowGroupCount == 0)
        #expect(reader.columns.map(\.kind) == [.string, .int64])
        #expect(reader.columns.map(\.nullable) == [false, true])
    }

    @Test(arguments: [(1, 1), (7, 3), (37, 100), (100, 7)])
    func manyRowGroupsAndPages(rowGroupRows: Int, pageRows: Int) throws {
        let rows = 37
        var rng = SplitMix64(seed: UInt64(rowGroupRows * 1000 + pageRows))
        let numbers = (0..<rows).map { _ in rng.chance(0.3) ? nil : Int64(rng.nextInt(below: 1000)) }
        let names = (0..<rows).map { _ in "n\(rng.nextInt(below: 4))" }
        let columns = [
            WritableColumn(name: "number", kind: .int64, nullable: true, values: .int64(numbers)),
            WritableColumn(name: "name", kind: .string, nullable: false, values: .string(names)),
        ]
        let reader = try Self.roundTrip(
            columns, rows: rows, options: ParquetWriteOptions(codec: .snappy, rowGroupRows: rowGroupRows, pageRows: pageRows))
        #expect(reader.rowGroupCount == (rows + rowGroupRows - 1) / rowGroupRows)
    }

    @Test func metadataAndCreatorRoundTrip() throws {
        var metadata: [String: String] = [:]
        for index in 0..<40 { metadata["key.\(index)"] = "value é \(index)" }
        metadata[""] = ""
        let bytes = try ParquetWriter.write(
            columns: [WritableColumn(name: "x", kind: .boolean, nullable: false, values: .boolean([true]))], rowCount: 1, metadata: metadata,
            options: ParquetWriteOptions(createdBy: "strata tests"))
        let reader = try ParquetReader(bytes: bytes)
        #expect(reader.keyValueMetadata == metadata)
        #expect(reader.createdBy == "strata tests")
        #expect(bytes.prefix(4) == Array("PAR1".utf8)[...])
        #expect(bytes.suffix(4) == Array("PAR1".utf8)[...])
    }

    @Test func codecsGiveTheSameValuesAndCompressionHelpsRepetitiveData() throws {
        let rows = 4000
        let columns = [WritableColumn(name: "s", kind: .string, nullable: false, values: .string((0..<rows).map { "repeated-\($0 % 3)-padding-padding" }))]
        var sizes: [CompressionCodec: Int] = [:]
        for codec in Self.codecs {
            let bytes = try ParquetWriter.write(columns: columns, rowCount: rows, options: ParquetWriteOptions(codec: codec))
            sizes[codec] = bytes.count
            #expect(try ParquetReader(bytes: bytes).read(column: "s") == columns[0].values)
        }
        #expect(sizes[.zstd]! <= sizes[.uncompressed]!)
        #expect(sizes[.snappy]! <= sizes[.uncompressed]!)
    }

    @Test func writerRejectsBadColumns() {
        func rejects(_ columns: [WritableColumn], rows: Int) {
            #expect(throws: ParquetError.self) { try ParquetWriter.write(columns: columns, rowCount: rows) }
        }
        rejects([WritableColumn(name: "d", kind: .double, nullable: true, values: .double([1, .nan]))], rows: 2)
        rejects(
            [
                WritableColumn(name: "a", kind: .int64, nullable: false, values: .int64([1])),
                WritableColumn(name: "a", kind: .int64, nullable: false, values: .int64([2])),
            ], rows: 1)
        rejects([WritableColumn(name: "s", kind: .string, nullable: false, values: .string(["a", nil]))], rows: 2)
        rejects([WritableColumn(name: "k", kind: .string, nullable: false, values: .int64([1]))], rows: 1)
        rejects([WritableColumn(name: "f", kind: .float, nullable: false, values: .float([1]))], rows: 1)
        rejects([WritableColumn(name: "i", kind: .int32, nullable: false, values: .int32([1]))], rows: 1)
        rejects([WritableColumn(name: "t", kind: .timestamp(.micros), nullable: false, values: .int64([1]))], rows: 1)
    }

    @Test func readingAnAbsentColumnIsAnError() throws {
        let bytes = try ParquetWriter.write(columns: [WritableColumn(name: "x", kind: .int64, nullable: false, values: .int64([1, 2]))], rowCount: 2)
        let reader = try ParquetReader(bytes: bytes)
        #expect(throws: ParquetError.self) { try reader.read(column: "y") }
        #expect(try reader.read(column: "x") == .int64([1, 2]))
    }

    @Test(arguments: [
        [UInt8](), Array("PAR1".utf8), Array("PAR1PAR1".utf8), Array("PAR1\u{0}\u{0}\u{0}\u{0}PAR1".utf8),
        Array("PAR1\u{ff}\u{ff}\u{ff}\u{7f}PAR1".utf8), Array("not a parquet file at all".utf8), [UInt8](repeating: 0, count: 64),
    ])
    func malformedInputsAreErrors(bytes: [UInt8]) {
        #expect(throws: ParquetError.self) { try ParquetReader(bytes: bytes) }
    }

    @Test func randomBytesAreErrorsNotCrashes() {
        var rng = SplitMix64(seed: 31)
        var failures = 0
        for _ in 0..<200 {
            var bytes = (0..<rng.nextInt(below: 300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if rng.chance(0.5) { bytes = Array("PAR1".utf8) + bytes + Array("PAR1".utf8) }
            do {
                let reader = try ParquetReader(bytes: bytes)
                for column in reader.columns { _ = try? reader.read(column: column.name) }
            } catch {
                failures += 1
            }
        }
        // Without the magic number at both ends nothing can be read.
        #expect(failures >= 90)
    }

    @Test func aFooterLengthBeyondTheFileIsAnError() throws {
        var bytes = try ParquetWriter.write(columns: [WritableColumn(name: "x", kind: .int64, nullable: false, values: .int64([5]))], rowCount: 1)
        let lengthAt = bytes.count - 8
        for (offset, byte) in [UInt8(0xff), 0xff, 0xff, 0x00].enumerated() { bytes[lengthAt + offset] = byte }
        #expect(throws: ParquetError.self) { try ParquetReader(bytes: bytes) }
    }
}
