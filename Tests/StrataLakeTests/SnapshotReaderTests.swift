import Foundation
import StrataCore
import StrataTesting
import Testing

@testable import StrataLake

@Suite struct SnapshotReaderTests {
    /// A lake holding `count` compacted events, and a reader of its snapshot.
    func compactedLake(_ directory: TemporaryDirectory, count: Int = 800) async throws -> (lake: Lake, reader: SnapshotReader) {
        let lake = try Fixtures.lake(directory)
        _ = try await lake.ingestor.ingest(events: Fixtures.events(count, seed: 17), source: "test")
        _ = try await lake.maintain(force: true)
        let summary = try await lake.compactor.snapshot()
        let manifest = try lake.snapshots.manifest(summary.version)
        return (lake, SnapshotReader(manifest: manifest, lakeRoot: lake.directory.lake))
    }

    @Test func filesOfTypesKeepTheManifestOrder() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (lake, reader) = try await compactedLake(directory)
        let manifest = reader.manifest
        let types = Set(manifest.files.map(\.type))
        #expect(types.count >= 2)
        #expect(reader.files(types: types) == manifest.files)
        #expect(reader.files(types: []).isEmpty)
        #expect(reader.files(types: ["no_such_type"]).isEmpty)
        for type in types {
            #expect(reader.files(types: [type]) == manifest.files.filter { $0.type == type })
        }
        for file in manifest.files {
            #expect(reader.path(of: file) == "\(lake.directory.lake)/\(file.path)")
            #expect(FileManager.default.fileExists(atPath: reader.path(of: file)))
        }
        await lake.close()
    }

    @Test func eventsEqualReadingEveryFileInOrder() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (lake, reader) = try await compactedLake(directory)
        let types = Set(reader.manifest.files.map(\.type))
        var expected: [(offset: Int64, event: Event)] = []
        for file in reader.manifest.files {
            expected += try LakeFileReader.readWithOffsets(path: reader.path(of: file), type: file.type)
        }
        #expect(expected.count == reader.manifest.rows)
        for threads in [1, 3] {
            let read = try reader.events(types: types, threads: threads)
            #expect(read.map(\.offset) == expected.map(\.offset))
            #expect(read.map(\.event) == expected.map(\.event))
        }
        // One type: only that type's events, still in manifest order.
        let oneType = reader.manifest.files[0].type
        let ofType = try reader.events(types: [oneType], threads: 2)
        #expect(ofType.map(\.event) == expected.filter { $0.event.type == oneType }.map(\.event))
        #expect(try reader.events(types: []).isEmpty)
        await lake.close()
    }

    @Test func usersFilterKeepsOnlyTheirEvents() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (lake, reader) = try await compactedLake(directory)
        let types = Set(reader.manifest.files.map(\.type))
        let all = try reader.events(types: types, threads: 1)
        let someUsers = Set(all.compactMap(\.event.userID).sorted().prefix(5))
        #expect(!someUsers.isEmpty)
        let filtered = try reader.events(types: types, users: someUsers, threads: 2)
        let expected = all.filter { $0.event.userID.map(someUsers.contains) ?? false }
        #expect(filtered.map(\.offset) == expected.map(\.offset))
        #expect(filtered.map(\.event) == expected.map(\.event))
        #expect(try reader.events(types: types, users: []).isEmpty)
        #expect(try reader.events(types: types, users: ["nobody-at-all"]).isEmpty)
        await lake.close()
    }

    @Test func fieldsFilterKeepsTheEnvelopeAndFewerFields() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (lake, reader) = try await compactedLake(directory)
        let types = Set(reader.manifest.files.map(\.type))
        let all = try reader.events(types: types, threads: 1)
        let slim = try reader.events(types: types, fields: [], threads: 1)
        #expect(slim.count == all.count)
        for (full, partial) in zip(all, slim) {
            #expect(partial.offset == full.offset)
            #expect(partial.event.type == full.event.type)
            #expect(partial.event.eventID == full.event.eventID)
            #expect(partial.event.userID == full.event.userID)
            #expect(partial.event.timestamp == full.event.timestamp)
            #expect(partial.event.ingestedAt == full.event.ingestedAt)
            #expect(partial.event.itemID == full.event.itemID)
            #expect(partial.event.fields.count <= full.event.fields.count)
            for field in partial.event.fields {
                #expect(full.event[field: field.name] == field.value)
            }
        }
        await lake.close()
    }

    @Test func columnsMatchTheEventsOfEachFile() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (lake, reader) = try await compactedLake(directory)
        let types = Set(reader.manifest.files.map(\.type))
        let perFile = try reader.columns(types: types, ["user_id", "timestamp", "absent_column"], threads: 2) { file, columns in
            (file: file, rows: columns.rows, users: columns.strings("user_id"), times: columns.millis("timestamp"), absent: columns.strings("absent_column"))
        }
        #expect(perFile.map(\.file) == reader.manifest.files)
        for entry in perFile {
            let events = try LakeFileReader.readWithOffsets(path: reader.path(of: entry.file), type: entry.file.type).map(\.event)
            #expect(entry.rows == entry.file.rows)
            #expect(entry.rows == events.count)
            #expect(entry.users == events.map(\.userID))
            #expect(entry.times == events.map { Optional($0.timestamp) })
            #expect(entry.absent == [String?](repeating: nil, count: entry.rows))
        }
        let none = try reader.columns(types: ["no_such_type"], ["user_id"]) { _, columns in columns.rows }
        #expect(none.isEmpty)
        await lake.close()
    }
}
