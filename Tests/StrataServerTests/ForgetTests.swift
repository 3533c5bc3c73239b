import Foundation
import StrataCore
import StrataLake
import StrataTesting
import Testing

/// `strata lake forget USER` against a real server with keys, data, a snapshot and a model in
/// production: the user's events leave the lake's current files (the next snapshot has none),
/// the catalog, the online features and the cached recommendations; the older snapshot and the
/// model trained on it are listed, not changed; the audit names the user by hash only; and all of
/// it holds after a SIGKILL and restart, while events the user sends afterwards are kept.
@Suite(.serialized) struct ForgetTests {
    @Test func forgettingAUserRemovesTheirEventsEverywhereButImmutableHistory() async throws {
        let project = try KeyedProject()
        defer { project.remove() }
        let (configPath, data) = (project.configPath, project.data)
        let admin = try project.key("privacy-officer", roles: "admin")
        let approver = try project.key("approver", roles: "approver")
        var server = try project.startServer()
        defer { server.stop(signal: SIGKILL) }
        func call(_ method: String, _ path: String, key: String? = nil, body: String? = nil, type: String = "application/json") async throws -> (
            status: Int, json: JSONValue
        ) {
            try await KeyedClient(port: server.port, key: admin).call(method, path, key: key, body: body, type: type)
        }

        // History, a catalog entry for the user, a snapshot and a model in production.
        let events = try runProcess(ServerProcess.binary, ["generate", "--events", "3000", "--config", configPath]).output
        #expect(try await call("POST", "/v1/events", body: events, type: "application/x-ndjson").json["accepted"] == 3000)
        var perUser: [String: Int] = [:]
        for line in events.split(separator: "\n") { if let user = try JSONValue.parse(String(line))["user_id"]?.stringValue { perUser[user, default: 0] += 1 } }
        let (user, userEvents) = try #require(perUser.max { ($0.value, $1.key) < ($1.value, $0.key) })
        #expect(try await call("PUT", "/v1/users/\(user)", body: #"{"segment": "vip", "country": "FR"}"#).status == 200)
        let before = try #require(try await call("POST", "/v1/lake/snapshots").json["version"]?.stringValue)
        let run = try await call("POST", "/v1/training/runs", body: #"{"model": "als-main"}"#).json
        let reference = try #require(run["version"]?["reference"]?.stringValue, "\(run)")
        _ = try await call("POST", "/v1/models/\(reference)/approve", key: approver, body: #"{"reason": "forget test"}"#)
        #expect(try await call("POST", "/v1/models/\(reference)/promote", key: approver, body: "{}").status == 200)
        #expect(try await call("GET", "/v1/features/user/\(user)").json["defaults"]?.arrayValue?.count ?? 99 < 6)

        // Only an admin may forget; then through the CLI, against the server.
        #expect(try await call("POST", "/v1/lake/forget", key: approver, body: #"{"user_id": "\#(user)"}"#).status == 403)
        #expect(try await call("POST", "/v1/lake/forget", body: #"{"user_id": ""}"#).status == 400)
        let cli = try runProcess(
            "/usr/bin/env", ["STRATA_API_KEY=\(admin)", ServerProcess.binary, "lake", "forget", user, "--url", "http://127.0.0.1:\(server.port)"])
        #expect(cli.status == 0, "\(cli.errors)")
        let outcome = try JSONValue.parse(cli.output)
        #expect(outcome["removed_events"]?.intValue == Int64(userEvents + 1), "\(outcome)")  // + the catalog entry
        #expect(outcome["affected_snapshots"] == .array([.string(before)]))
        #expect(outcome["affected_model_versions"] == .array([.string(reference)]))
        #expect(outcome["user_sha256"]?.stringValue == ForgetRecord.hash(of: user))

        func checkForgotten(_ when: String) async throws {
            #expect(try await call("GET", "/v1/users/\(user)").status == 404, "\(when): catalog")
            let features = try await call("GET", "/v1/features/user/\(user)").json
            #expect(features["defaults"]?.arrayValue?.count == features["values"]?.objectValue?.count, "\(when): features \(features)")
            let answer = try await call("GET", "/v1/recommendations/\(user)").json
            #expect(answer["source"]?.stringValue == "trending", "\(when): recommendations \(answer)")
            // A new snapshot holds none of the user's events, every other event still.
            let snapshot = try #require(try await call("POST", "/v1/lake/snapshots").json["version"]?.stringValue)
            let manifest = try await call("GET", "/v1/lake/snapshots/\(snapshot)").json
            var rows = 0
            for file in manifest["files"]?.arrayValue ?? [] {
                let path = "\(data)/shop/lake/\(file["path"]!.stringValue!)"
                let stored = try LakeFileReader.read(path: path)
                rows += stored.count
                #expect(!stored.contains { $0.userID == user }, "\(when): \(path)")
            }
            #expect(rows >= 3000 - userEvents, "\(when)")
        }
        try await checkForgotten("after forgetting")

        // The older snapshot is immutable: its manifest still verifies and its files still hold the user.
        let old = try await call("GET", "/v1/lake/snapshots/\(before)").json
        let oldRows = try (old["files"]?.arrayValue ?? []).flatMap { try LakeFileReader.read(path: "\(data)/shop/lake/\($0["path"]!.stringValue!)") }
        #expect(oldRows.filter { $0.userID == user }.count == userEvents + 1)

        // Audited, by hash: the user's id is nowhere in the (immutable) audit log.
        let audit = try await call("GET", "/v1/audit?action=lake.forget.done").json
        let entry = try #require(audit["entries"]?.arrayValue?.first)
        #expect(entry["target"]?.stringValue == "user:\(ForgetRecord.hash(of: user))")
        let everything = try await call("GET", "/v1/audit?limit=100000").json.serialized
        #expect(!everything.contains("\"\(user)\""))
        #expect(try await call("GET", "/v1/audit/verify").json["intact"] == true)

        // SIGKILL and restart: nothing comes back from the log, the feature snapshot or the catalog checkpoint.
        server.stop(signal: SIGKILL)
        server = try project.startServer()
        try await checkForgotten("after a restart")

        // What the user sends afterwards is new data, and kept.
        let later = #"{"type": "view", "user_id": "\#(user)", "item_id": "i-after", "timestamp": "\#(EventTime.format(millis: SystemClock().nowMillis()))"}"#
        #expect(try await call("POST", "/v1/events", body: later).json["accepted"] == 1)
        let after = try #require(try await call("POST", "/v1/lake/snapshots").json["version"]?.stringValue)
        let files = try await call("GET", "/v1/lake/snapshots/\(after)").json["files"]?.arrayValue ?? []
        let kept = try files.flatMap { try LakeFileReader.read(path: "\(data)/shop/lake/\($0["path"]!.stringValue!)") }.filter { $0.userID == user }
        #expect(kept.map { $0[field: "item_id"]?.stringValue } == ["i-after"])
    }
}
