import Foundation
import StrataCore
import StrataParquet
import StrataTesting
import Testing

/// Interoperability with real Parquet implementations (pyarrow, DuckDB): they read what Strata
/// writes, and Strata reads what they write with the encodings and codecs they choose.
@Suite struct ParquetPeerTests {
    @Test func pyarrowAndDuckDBReadStrataFiles() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let rows = 3000
        let columns = ParquetRoundTripTests.sampleColumns(rows: rows, seed: 21)
        let path = directory.file("strata.parquet")
        try Data(try ParquetWriter.write(columns: columns, rowCount: rows, options: ParquetWriteOptions(codec: .zstd, rowGroupRows: 1000))).write(
            to: URL(fileURLWithPath: path))
        let script = """
            import sys, json, pyarrow.parquet as pq, duckdb
            t = pq.read_table(sys.argv[1])
            d = duckdb.execute(f"SELECT count(*), sum(number), count(text), sum(len(tags)) FROM read_parquet('{sys.argv[1]}')").fetchone()
            print(json.dumps({"rows": t.num_rows, "ids": t.column("id").to_pylist()[:5], "tags": t.column("tags").to_pylist()[:20],
                              "time0": t.column("time")[0].value, "duck": [str(x) for x in d]}))
            """
        guard let printed = try runPython(script, arguments: [path], requiring: ["pyarrow", "duckdb"]) else { return }
        let result = try JSONValue.parse(printed)
        #expect(result["rows"]?.intValue == Int64(rows))
        guard case .string(let ids) = columns[0].values, case .stringList(let tags) = columns[6].values, case .int64(let times) = columns[5].values
        else { return }
        #expect(result["ids"] == .array(ids.prefix(5).map { .optional($0) }))
        #expect(result["tags"] == .array(tags.prefix(20).map { $0.map { .array($0.map { .string($0) }) } ?? .null }))
        #expect(result["time0"]?.intValue == times[0])
        #expect(result["duck"]?.arrayValue?.first?.stringValue == String(rows))
        let listTotal = tags.compactMap { $0?.count }.reduce(0, +)
        #expect(result["duck"]?.arrayValue?[3].stringValue == String(listTotal))
    }

    @Test(arguments: ["snappy", "zstd", "gzip", "none"])
    func strataReadsPyarrowFiles(codec: String) throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("peer-\(codec).parquet")
        let script = """
            import sys, pyarrow as pa, pyarrow.parquet as pq
            n = 2500
            t = pa.table({
              "id": pa.array([f"u{i % 37}" for i in range(n)]),
              "maybe": pa.array([None if i % 5 == 0 else f"v{i}" for i in range(n)]),
              "count": pa.array([i * 3 - 100 for i in range(n)], pa.int64()),
              "small": pa.array([i % 100 for i in range(n)], pa.int32()),
              "score": pa.array([None if i % 7 == 0 else i / 4 for i in range(n)], pa.float64()),
              "flag": pa.array([i % 3 == 0 for i in range(n)]),
              "ts": pa.array([1700000000000000 + i for i in range(n)], pa.timestamp("us", tz="UTC")),
              "tags": pa.array([None if i % 11 == 0 else [f"t{j}" for j in range(i % 4)] for i in range(n)], pa.list_(pa.string())),
            })
            pq.write_table(t, sys.argv[1], compression=sys.argv[2], row_group_size=1000, data_page_size=4096,
                           use_dictionary=["id", "maybe"], data_page_version=sys.argv[3],
                           column_encoding={"count": "DELTA_BINARY_PACKED", "score": "BYTE_STREAM_SPLIT"} if sys.argv[3] == "2.0" else None)
            """
        for pageVersion in ["1.0", "2.0"] {
            guard try runPython(script, arguments: [path, codec, pageVersion], requiring: ["pyarrow"]) != nil else { return }
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            let reader = try ParquetReader(bytes: bytes)
            let n = 2500
            #expect(reader.rowCount == n)
            #expect(try reader.read(column: "id") == .string((0..<n).map { "u\($0 % 37)" }))
            #expect(try reader.read(column: "maybe") == .string((0..<n).map { $0 % 5 == 0 ? nil : "v\($0)" }))
            #expect(try reader.read(column: "count") == .int64((0..<n).map { Int64($0 * 3 - 100) }))
            #expect(try reader.read(column: "small") == .int32((0..<n).map { Int32($0 % 100) }))
            #expect(try reader.read(column: "score") == .double((0..<n).map { $0 % 7 == 0 ? nil : Double($0) / 4 }))
            #expect(try reader.read(column: "flag") == .boolean((0..<n).map { $0 % 3 == 0 }))
            #expect(try reader.read(column: "ts") == .int64((0..<n).map { 1_700_000_000_000_000 + Int64($0) }))
            #expect(reader.columns.first { $0.name == "ts" }?.kind == .timestamp(.micros))
            #expect(try reader.read(column: "tags") == .stringList((0..<n).map { i in i % 11 == 0 ? nil : (0..<(i % 4)).map { "t\($0)" } }))
        }
    }

    @Test func strataReadsDuckDBFiles() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("duck.parquet")
        let script = """
            import sys, duckdb
            duckdb.execute(f\"\"\"COPY (SELECT 'u' || (i % 13) AS user_id, i::BIGINT AS n, CASE WHEN i % 4 = 0 THEN NULL ELSE i / 8.0 END::DOUBLE AS price,
                     TIMESTAMP '2026-01-01' + INTERVAL (i) SECOND AS ts, ['a', 'b'][1:(i % 3)] AS tags
                     FROM range(5000) t(i)) TO '{sys.argv[1]}' (FORMAT PARQUET, COMPRESSION ZSTD, ROW_GROUP_SIZE 2048)\"\"\")
            """
        guard try runPython(script, arguments: [path], requiring: ["duckdb"]) != nil else { return }
        let reader = try ParquetReader(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
        #expect(reader.rowCount == 5000)
        #expect(try reader.read(column: "user_id") == .string((0..<5000).map { "u\($0 % 13)" }))
        #expect(try reader.read(column: "n") == .int64((0..<5000).map { Int64($0) }))
        #expect(try reader.read(column: "price") == .double((0..<5000).map { $0 % 4 == 0 ? nil : Double($0) / 8 }))
        guard case .int64(let times) = try reader.read(column: "ts"), case .timestamp(let unit) = reader.columns.first(where: { $0.name == "ts" })!.kind else {
            Issue.record("ts is not a timestamp column")
            return
        }
        #expect(unit.toMillis(times[10]!) == 1_767_225_600_000 + 10_000)
        #expect(try reader.read(column: "tags") == .stringList((0..<5000).map { Array(["a", "b"].prefix($0 % 3)) }))
    }
}
