import Foundation
import StrataCore
import StrataTesting
import Testing

@testable import StrataParquet

@Suite struct ParquetRoundTripTests {
    static func sampleColumns(rows: Int, seed: UInt64) -> [WritableColumn] {
        var rng = SplitMix64(seed: seed)
        func maybe<T>(_ value: T) -> T? { rng.chance(0.2) ? nil : value }
        let ids = (0..<rows).map { _ in "u\(rng.nextInt(below: 50))" }
        let texts = (0..<rows).map { _ in maybe("text é \(rng.nextInt(below: 1_000_000))") }
        let numbers = (0..<rows).map { _ in maybe(Int64(bitPattern: rng.next())) }
        let doubles = (0..<rows).map { _ in maybe(Double(rng.nextInt(below: 100_000)) / 3 - 1000) }
        let flags = (0..<rows).map { _ in maybe(rng.chance(0.5)) }
        let times = (0..<rows).map { _ in Int64(1_700_000_000_000 + rng.nextInt(below: 1_000_000_000)) }
        let lists: [[String]?] = (0..<rows).map { _ in
            rng.chance(0.1) ? nil : (0..<rng.nextInt(below: 4)).map { _ in "t\(rng.nextInt(below: 9))" }
        }
        return [
            WritableColumn(name: "id", kind: .string, nullable: false, values: .string(ids)),
            WritableColumn(name: "text", kind: .string, nullable: true, values: .string(texts)),
            WritableColumn(name: "number", kind: .int64, nullable: true, values: .int64(numbers)),
            WritableColumn(name: "value", kind: .double, nullable: true, values: .double(doubles)),
            WritableColumn(name: "flag", kind: .boolean, nullable: true, values: .boolean(flags)),
            WritableColumn(name: "time", kind: .timestamp(.millis), nullable: false, values: .int64(times.map { $0 })),
            WritableColumn(name: "tags", kind: .stringList, nullable: true, values: .stringList(lists)),
        ]
    }

    @Test(arguments: [CompressionCodec.uncompressed, .snappy, .zstd])
    func everyKindRoundTrips(codec: CompressionCodec) throws {
        let rows = 5000
        let columns = Self.sampleColumns(rows: rows, seed: 11)
        let bytes = try ParquetWriter.write(
            columns: columns, rowCount: rows, metadata: ["k": "v"], options: ParquetWriteOptions(codec: codec, rowGroupRows: 1800, pageRows: 700))
        let reader = try ParquetReader(bytes: bytes)
        #expect(reader.rowCount == rows)
        #expect(reader.rowGroupCount == 3)
        #expect(reader.keyValueMetadata["k"] == "v")
        #expect(reader.columns.map(\.kind) == [.string, .string, .int64, .double, .boolean, .timestamp(.millis), .stringList])
        for column in columns {
            #expect(try reader.read(column: column.name) == column.values, "column \(column.name)")
        }
    }

    @Test func outputIsDeterministic() throws {
        let columns = Self.sampleColumns(rows: 1000, seed: 5)
        let a = try ParquetWriter.write(columns: columns, rowCount: 1000)
        let b = try ParquetWriter.write(columns: columns, rowCount: 1000)
        #expect(a == b)
    }

    @Test func rejectsInconsistentColumns() {
        #expect(throws: ParquetError.self) {
            try ParquetWriter.write(columns: [WritableColumn(name: "a", kind: .int64, nullable: false, values: .int64([1, nil]))], rowCount: 2)
        }
        #expect(throws: ParquetError.self) {
            try ParquetWriter.write(columns: [WritableColumn(name: "a", kind: .int64, nullable: false, values: .int64([1]))], rowCount: 2)
        }
    }

    @Test func rleHybridRoundTripsRandomRuns() throws {
        var rng = SplitMix64(seed: 9)
        for _ in 0..<300 {
            let width = rng.nextInt(below: 21)
            var values: [UInt32] = []
            while values.count < rng.nextInt(below: 2000) + 1 {
                let value = width == 0 ? 0 : UInt32(rng.nextInt(below: 1 << width))
                values += Array(repeating: value, count: rng.chance(0.3) ? rng.nextInt(below: 40) + 1 : 1)
            }
            var encoded: [UInt8] = []
            RLEHybrid.encode(values, bitWidth: width, into: &encoded)
            let decoded = try encoded.withBytes { (raw) throws(ParquetError) -> [UInt32] in
                var reader = ByteReader(raw)
                return try RLEHybrid.decode(&reader, bitWidth: width, count: values.count)
            }
            #expect(decoded == values)
        }
    }

    @Test func damagedFilesAreErrorsNotCrashes() throws {
        let bytes = try ParquetWriter.write(columns: Self.sampleColumns(rows: 300, seed: 2), rowCount: 300, options: ParquetWriteOptions(codec: .snappy))
        var rng = SplitMix64(seed: 4)
        var failures = 0
        for round in 0..<400 {
            var damaged = bytes
            if round % 3 == 0 {
                damaged.removeSubrange(rng.nextInt(below: damaged.count)...)
            } else {
                for _ in 0..<(1 + rng.nextInt(below: 4)) { damaged[rng.nextInt(below: damaged.count)] ^= UInt8(1 + rng.nextInt(below: 255)) }
            }
            do {
                let reader = try ParquetReader(bytes: damaged)
                for column in reader.columns { _ = try reader.read(column: column.name) }
            } catch {
                failures += 1
            }
        }
        #expect(failures > 100)
    }
}
