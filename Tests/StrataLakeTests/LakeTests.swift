import Foundation
import StrataCore
import StrataTesting
import Testing

@testable import StrataLake

@Suite struct LakeTests {
    /// Events as comparable values: what the lake must give back for what was ingested.
    func normalized(_ events: [Event]) -> [Event] {
        events.map { event in
            var event = event
            event.fields.sort { $0.name < $1.name }
            return event
        }.sorted { ($0.eventID ?? "", $0.timestamp) < ($1.eventID ?? "", $1.timestamp) }
    }

    @Test func compactionWritesContentNamedPartitionedFilesThatReadBackExactly() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let lake = try Fixtures.lake(directory)
        let events = Fixtures.events(5000, seed: 3)
        _ = try await lake.ingestor.ingest(events: events, source: "test")
        let logged = try lake.log.read(from: 0, limit: .max).map { try $0.payload.withUnsafeBytes { try EventCodec.decode($0) } }
        let report = try await lake.maintain(force: true)
        #expect(report.rows == 5000)
        var read: [Event] = []
        for file in report.files {
            let path = "\(lake.directory.lake)/\(file.path)"
            let bytes = AtomicFile.read(path)!
            #expect(SHA256Hex.of(bytes) == file.sha256)
            #expect(file.path.hasPrefix("events/type=\(file.type)/date=\(file.date)/"))
            let fileEvents = try LakeFileReader.read(path: path)
            #expect(fileEvents.allSatisfy { $0.type == file.type && EventTime.day(millis: $0.timestamp) == file.date })
            read += fileEvents
        }
        #expect(normalized(read) == normalized(logged))
        // Nothing new: compaction is a no-op; a snapshot names the same files.
        #expect(try await lake.maintain(force: true).files.isEmpty)
        let snapshot = try await lake.compactor.snapshot()
        #expect(snapshot.rows == 5000)
        let again = try await lake.compactor.snapshot()
        #expect(again.version == snapshot.version)
        let manifestBytes = AtomicFile.read("\(lake.directory.snapshots)/\(snapshot.version).json")!
        #expect(SHA256Hex.of(manifestBytes) == snapshot.version)
        #expect(try lake.snapshots.manifest(String(snapshot.version.prefix(8))).files.count == report.files.count)
        // More data, new version; the old manifest is untouched.
        _ = try await lake.ingestor.ingest(events: Fixtures.events(10, seed: 99), source: "test")
        let next = try await lake.compactor.snapshot()
        #expect(next.version != snapshot.version)
        #expect(AtomicFile.read("\(lake.directory.snapshots)/\(snapshot.version).json") == manifestBytes)
        #expect(try lake.snapshots.list().map(\.version) == [snapshot.version, next.version])
        await lake.close()
    }

    @Test func aModifiedManifestIsDetected() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let lake = try Fixtures.lake(directory)
        _ = try await lake.ingestor.ingest(events: Fixtures.events(100), source: "test")
        let snapshot = try await lake.compactor.snapshot()
        let path = "\(lake.directory.snapshots)/\(snapshot.version).json"
        try AtomicFile.write(String(decoding: AtomicFile.read(path)!, as: UTF8.self).replacingOccurrences(of: "\"rows\":", with: "\"rows\": "), to: path)
        #expect(throws: StrataError.self) { try lake.snapshots.manifest(snapshot.version) }
        await lake.close()
    }

    @Test func aCrashBetweenFileAndStateLeavesNoDuplicateRows() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var lake = try Fixtures.lake(directory)
        _ = try await lake.ingestor.ingest(events: Fixtures.events(2000, seed: 4), source: "test")
        let report = try await lake.maintain(force: true)
        // Simulate the crash: the state forgets the last compaction, files stay behind, plus a
        // stray temporary file.
        let statePath = "\(lake.directory.lakeState)/state.json"
        try LakeState().save(path: statePath)
        try AtomicFile.write([1, 2, 3], to: "\(lake.directory.lakeEvents)/type=view/.tmp-123-x.parquet")
        await lake.close()
        lake = try Fixtures.lake(directory)
        #expect(!FileManager.default.fileExists(atPath: "\(lake.directory.lakeEvents)/type=view/.tmp-123-x.parquet"))
        let redo = try await lake.maintain(force: true)
        #expect(Set(redo.files.map(\.path)) == Set(report.files.map(\.path)), "recompaction rewrites the same content under the same names")
        let snapshot = try await lake.compactor.snapshot()
        #expect(snapshot.rows == 2000)
        await lake.close()
    }

    @Test func lakeFilesReadCorrectlyInPyarrowAndDuckDB() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let lake = try Fixtures.lake(directory)
        let events = Fixtures.events(20_000, seed: 5)
        let (lines, invalid) = InvalidEvents.ndjson(events, invalidFraction: 0.01, seed: 5)
        var accepted = 0
        for start in stride(from: 0, to: lines.count, by: 1000) {
            accepted += try await lake.ingestor.ingest(
                body: Array(lines[start..<min(start + 1000, lines.count)].joined(separator: "\n").utf8), format: .ndjson, source: "test"
            ).accepted
        }
        #expect(accepted == 20_000 - invalid.count)
        _ = try await lake.maintain(force: true)
        let valid = Set(0..<events.count).subtracting(invalid).map { events[$0] }
        let purchases = valid.filter { $0.type == "purchase" }
        let revenue = purchases.compactMap { $0.fields.first { $0.name == "price" }?.value?.numericValue }.reduce(0, +)
        let script = """
            import sys, json, glob, datetime, pyarrow.parquet as pq, duckdb
            root = sys.argv[1]
            files = glob.glob(root + "/**/*.parquet", recursive=True)
            def plain(v):
                if isinstance(v, datetime.datetime): return int(v.timestamp() * 1000)
                return v
            rows = []
            for f in files:
                t = pq.read_table(f)
                for r in t.to_pylist():
                    r = {k: plain(v) for k, v in r.items() if v is not None}
                    r["type"] = f.split("type=")[1].split("/")[0]
                    rows.append(r)
            duck = duckdb.execute(f"SELECT count(*) FROM read_parquet('{root}/**/*.parquet', hive_partitioning=true, union_by_name=true)").fetchone()[0]
            types = dict(duckdb.execute(f"SELECT type, count(*) FROM read_parquet('{root}/**/*.parquet', hive_partitioning=true, union_by_name=true) GROUP BY type").fetchall())
            revenue = duckdb.execute(f"SELECT sum(price) FROM read_parquet('{root}/type=purchase/**/*.parquet')").fetchone()[0]
            print(json.dumps({"rows": rows, "duck": duck, "types": types, "revenue": revenue}))
            """
        guard let printed = try runPython(script, arguments: [lake.directory.lakeEvents], requiring: ["pyarrow", "duckdb"]) else {
            await lake.close()
            return
        }
        let result = try JSONValue.parse(printed)
        let rows = result["rows"]?.arrayValue ?? []
        #expect(rows.count == accepted)
        #expect(result["duck"]?.intValue == Int64(accepted))
        for type in Set(valid.map(\.type)) {
            #expect(result["types"]?[type]?.intValue == Int64(valid.filter { $0.type == type }.count), "\(type)")
        }
        #expect(abs((result["revenue"]?.doubleValue ?? 0) - revenue) < 1e-6)
        // Every value of every row round-trips: what pyarrow reads is what was ingested.
        let byID = Dictionary(uniqueKeysWithValues: rows.compactMap { row in row["event_id"]?.stringValue.map { ($0, row) } })
        #expect(byID.count == accepted)
        for event in valid {
            guard let row = byID[event.eventID!], case .millis(let time) = event.time else {
                Issue.record("event \(event.eventID!) is missing from the lake")
                continue
            }
            #expect(row["type"]?.stringValue == event.type)
            #expect(row["user_id"]?.stringValue == event.userID)
            #expect(row["timestamp"]?.intValue == time)
            for (name, value) in event.fields {
                #expect(row[name] == value?.jsonValue, "\(event.eventID!).\(name)")
            }
        }
        await lake.close()
    }
}
