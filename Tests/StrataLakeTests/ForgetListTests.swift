import Foundation
import StrataCore
import StrataTesting
import Testing

@testable import StrataLake

@Suite struct ForgetListTests {
    func dataDirectory(_ directory: TemporaryDirectory) throws -> DataDirectory {
        let data = DataDirectory(root: directory.path, project: "forget-test")
        try FileManager.default.createDirectory(atPath: data.lakeState, withIntermediateDirectories: true)
        return data
    }

    func record(_ user: String, through: Int64, at: Int64, completed: Bool = false) -> ForgetRecord {
        ForgetRecord(userHash: ForgetRecord.hash(of: user), throughOffset: through, requestedAt: at, requestedBy: "tester", completed: completed)
    }

    @Test func hashesAreSaltedSHA256() {
        #expect(ForgetRecord.hash(of: "u1") == SHA256Hex.of("strata-user:u1"))
        #expect(ForgetRecord.hash(of: "u1").count == 64)
        #expect(ForgetRecord.hash(of: "u1") != ForgetRecord.hash(of: "u2"))
        #expect(ForgetRecord.hash(of: "u1") != SHA256Hex.of("u1"))
    }

    @Test func anEmptyListForgetsNothing() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let list = try ForgetList(directory: dataDirectory(directory))
        #expect(list.isEmpty)
        #expect(list.all.isEmpty)
        #expect(!list.forgot(userID: "u1", after: 0))
        var filter = list.makeFilter()
        let answers = [filter.excludes(userID: "u1", offset: 0), filter.excludes(userID: nil, offset: 0)]
        #expect(answers == [false, false])
    }

    @Test func filterExcludesOnlyTheUsersEventsBelowTheOffset() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let list = try ForgetList(directory: dataDirectory(directory))
        try list.record(record("alice", through: 100, at: 1_000))
        try list.record(record("bob", through: 5, at: 2_000))
        var filter = list.makeFilter()
        let queries: [(user: String?, offset: Int64, excluded: Bool)] = [
            ("alice", 0, true), ("alice", 99, true), ("alice", 100, false), ("alice", 101, false), ("bob", 4, true), ("bob", 5, false),
            ("carol", 0, false), ("carol", Int64.min + 1, false), (nil, 0, false),
        ]
        for pass in 0..<2 {  // the second pass answers from the filter's cache
            for query in queries {
                let excluded = filter.excludes(userID: query.user, offset: query.offset)
                #expect(excluded == query.excluded, "pass \(pass): \(query)")
            }
        }
    }

    @Test func forgotComparesTheRequestTime() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let list = try ForgetList(directory: dataDirectory(directory))
        try list.record(record("alice", through: 10, at: 5_000))
        #expect(list.forgot(userID: "alice", after: 4_999))
        #expect(!list.forgot(userID: "alice", after: 5_000))
        #expect(!list.forgot(userID: "alice", after: 6_000))
        #expect(!list.forgot(userID: "bob", after: 0))
    }

    @Test func aLaterRecordOfTheSameUserReplacesTheEarlier() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let list = try ForgetList(directory: dataDirectory(directory))
        try list.record(record("alice", through: 10, at: 1_000, completed: true))
        try list.record(record("alice", through: 50, at: 2_000))
        #expect(list.all.count == 1)
        #expect(list.all.first?.throughOffset == 50)
        #expect(list.pending.count == 1)
        var filter = list.makeFilter()
        let excluded = filter.excludes(userID: "alice", offset: 30)
        #expect(excluded)
    }

    @Test func recordsSurviveReopeningAndCompletionIsDurable() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let data = try dataDirectory(directory)
        let list = try ForgetList(directory: data)
        try list.record(record("carol", through: 7, at: 3_000))
        try list.record(record("alice", through: 1, at: 1_000))
        try list.record(record("bob", through: 2, at: 2_000))
        #expect(list.all.map(\.requestedAt) == [1_000, 2_000, 3_000])
        try list.markCompleted(hashes: [ForgetRecord.hash(of: "alice"), ForgetRecord.hash(of: "nobody")])
        #expect(list.pending.map(\.userHash) == [ForgetRecord.hash(of: "bob"), ForgetRecord.hash(of: "carol")])
        let reopened = try ForgetList(directory: data)
        #expect(reopened.all == list.all)
        #expect(reopened.pending == list.pending)
        #expect(reopened.all.allSatisfy { $0.requestedBy == "tester" })
        // The file names users only by hash.
        let text = String(decoding: AtomicFile.read("\(data.lakeState)/forgotten.json") ?? [], as: UTF8.self)
        #expect(text.contains(ForgetRecord.hash(of: "carol")))
        #expect(!text.contains("\"carol\""))
    }

    @Test func anUnreadableListIsAnError() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let data = try dataDirectory(directory)
        try AtomicFile.write(Array("{not json".utf8), to: "\(data.lakeState)/forgotten.json")
        #expect(throws: StrataError.self) { try ForgetList(directory: data) }
        try AtomicFile.write(Array(#"{"format":1}"#.utf8), to: "\(data.lakeState)/forgotten.json")
        #expect(throws: StrataError.self) { try ForgetList(directory: data) }
    }

    @Test func recordJSONRoundTrips() throws {
        let original = record("dave", through: 123, at: 1_795_953_600_123, completed: true)
        let decoded = ForgetRecord(json: try JSONValue.parse(original.json.serialized))
        #expect(decoded == original)
        #expect(ForgetRecord(json: ["user_sha256": "x"]) == nil)
    }
}
