import Foundation
import StrataCore
import StrataLake
import StrataTesting
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A real `strata serve` whose data folder is on a small tmpfs that fills up: ingestion answers
/// 507 `disk_full` with a clear message (never a crash, never an acknowledgement it cannot
/// keep), the server stays up, ingestion resumes once space returns, and every acknowledged
/// event is in the log afterwards. Skipped with a message where tmpfs cannot be mounted (it
/// needs root or CAP_SYS_ADMIN).
@Suite(.serialized) struct DiskFullTests {
    @Test func ingestionFailsCleanlyWhenTheDiskIsFullAndResumes() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let mountPoint = directory.file("small")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        guard (try? runProcess("/usr/bin/env", ["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", mountPoint]))?.status == 0 else {
            print("SKIPPED (disk full): cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)")
            return
        }
        defer { _ = try? runProcess("/usr/bin/env", ["umount", "-l", mountPoint]) }
        let configPath = directory.file("strata.yaml")
        try ExampleConfig.yaml.replacingOccurrences(of: "segment_size: 64MB", with: "segment_size: 1MB").write(
            toFile: configPath, atomically: true, encoding: .utf8)
        let server = try ServerProcess(dataDirectory: mountPoint, arguments: ["--config", configPath])
        defer { server.stop(signal: SIGTERM) }
        let now = SystemClock().nowMillis()
        func batch(_ round: Int) -> (ids: [String], body: String) {
            let ids = (0..<500).map { "full-\(round)-\($0)" }
            let body = ids.map {
                #"{"type":"view","event_id":"\#($0)","user_id":"user-\#($0)-\#(String(repeating: "u", count: 100))","timestamp":\#(now),"item_id":"item-\#($0)","page":"home"}"#
            }.joined(separator: "\n")
            return (ids, body)
        }
        func post(_ body: String) async -> (Int, JSONValue?) {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(server.port)/v1/events")!)
            request.httpMethod = "POST"
            request.setValue("application/x-ndjson", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(body.utf8)
            request.timeoutInterval = 120  // a slow answer on a busy machine is not a refusal
            guard let (data, response) = try? await URLSession.uncached.data(for: request) else { return (0, nil) }
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, try? JSONValue.parse(String(decoding: data, as: UTF8.self)))
        }
        var acknowledged: [String] = []
        var refusal: (Int, JSONValue?)?
        var round = 0
        while refusal == nil, round < 400 {
            let (ids, body) = batch(round)
            round += 1
            let (status, answer) = await post(body)
            if status == 200 {
                #expect(answer?["accepted"] == 500, "\(answer?.serialized ?? "")")
                acknowledged += ids
            } else {
                refusal = (status, answer)
            }
        }
        let (status, answer) = try #require(refusal, "the disk never filled")
        #expect(status == 507, "a full disk answers 507 (got \(status): \(answer?.serialized ?? "no answer"))")
        #expect(answer?["error"]?["code"] == "disk_full")
        #expect(answer?["error"]?["message"]?.stringValue?.lowercased().contains("free space") == true)
        #expect(acknowledged.count > 1000)
        // Still up; a retry while full is refused again, not half-stored.
        let (_, health) = try await URLSession.uncached.data(from: URL(string: "http://127.0.0.1:\(server.port)/healthz")!)
        #expect((health as? HTTPURLResponse)?.statusCode == 200)
        // (Space the refused write gave back may let this one fit: then it is stored whole and
        // acknowledged like any other, and checked with them below.)
        let (retryIDs, retryBody) = batch(round)
        round += 1
        let (retryStatus, retryAnswer) = await post(retryBody)
        if retryStatus == 200 {
            acknowledged += retryIDs
        } else {
            #expect(retryStatus == 507, "a retry while full is refused again (got \(retryStatus): \(retryAnswer?.serialized ?? "no answer"))")
        }

        // Space returns: ingestion resumes on its own.
        #expect(try runProcess("/usr/bin/env", ["mount", "-o", "remount,size=64m", mountPoint]).status == 0)
        // The limit only bounds a hang: a busy machine may take long to find the space again.
        var resumed = false
        var attempt = 0
        let resumeBy = ContinuousClock.now + .seconds(300)
        while !resumed, ContinuousClock.now < resumeBy {
            let (ids, body) = batch(1000 + attempt)
            attempt += 1
            let (status, answer) = await post(body)
            if status == 200, answer?["accepted"] == 500 {
                acknowledged += ids
                resumed = true
            } else {
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        #expect(resumed, "ingestion did not resume within 300 s after space returned")
        server.stop(signal: SIGTERM)

        // Every acknowledged event is in the log.
        let stored = try await Fixtures.storedEventIDs(config: try StrataConfig.load(path: configPath), dataDirectory: mountPoint)
        let lost = acknowledged.filter { stored[$0] == nil }
        #expect(lost.isEmpty, "\(lost.count) acknowledged events are missing")
    }
}
