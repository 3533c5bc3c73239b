import Foundation
import StrataCore
import StrataLake
import StrataTesting
import Testing

/// SIGKILL at a seeded random moment while compaction, snapshots, training, approval, promotion
/// and rollback run at once with ingestion, four times per seed; after each restart the data
/// folder and the metadata must be consistent: every visible lake file whole and named by its
/// hash, every snapshot verifying, no event twice in the committed lake, every acknowledged
/// event in the log exactly once, at most one production version per model, and the audit chain
/// intact.
@Suite(.serialized) struct LifecycleCrashTests {
    @Test(arguments: [UInt64(11), 12, 13])
    func sigkillDuringLakeAndRegistryOperationsLeavesEverythingConsistent(seed: UInt64) async throws {
        let project = try KeyedProject()
        defer { project.remove() }
        let data = project.data
        let admin = try project.key("operator", roles: "admin")
        let approver = try project.key("approver", roles: "approver")
        let events = Fixtures.events(9_000, seed: seed)
        let batches = stride(from: 0, to: events.count, by: 250).map { Array(events[$0..<min($0 + 250, events.count)]) }
        var acknowledged = Set<Int>()
        var rng = SplitMix64(seed: seed)
        // A production version to roll back to and from, trained on a first snapshot.
        var sent = 4
        do {
            let server = try project.startServer()
            let client = Client(api: KeyedClient(port: server.port, key: admin), approver: approver)
            for batch in 0..<sent { if try await client.ingest(batches[batch]) { acknowledged.insert(batch) } }
            #expect(try await client.call("POST", "/v1/lake/snapshots").status == 201)
            try await client.trainApproveAndPromote()
            #expect(server.stop(signal: SIGTERM) == 0)
        }
        for round in 0..<5 {
            let server = try project.startServer()
            let client = Client(api: KeyedClient(port: server.port, key: admin), approver: approver)
            try await checkConsistent(client, data: data, round: round, seed: seed)
            guard round < 4 else {
                // The last round: whatever was not acknowledged is sent again, then a clean stop.
                for batch in 0..<batches.count where !acknowledged.contains(batch) {
                    if try await client.ingest(batches[batch]) { acknowledged.insert(batch) }
                }
                #expect(server.stop(signal: SIGTERM) == 0)
                break
            }
            // Each round: the next batches streaming in, and the lifecycle operations at once.
            let next = Array(sent..<min(sent + 12, batches.count))
            sent += next.count
            let killAfter = Duration.milliseconds(200 + rng.nextInt(below: 4_000))
            let acks = AcknowledgedBatches()
            let operations = (0..<6).map { _ in rng.nextInt(below: 4) }
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for batch in next { if (try? await client.ingest(batches[batch])) == true { acks.insert(batch) } }
                }
                group.addTask {
                    for operation in operations {
                        switch operation {
                        case 0: _ = try? await client.call("POST", "/v1/lake/compact")
                        case 1: _ = try? await client.call("POST", "/v1/lake/snapshots")
                        case 2: _ = try? await client.trainApproveAndPromote()
                        default: _ = try? await client.call("POST", "/v1/models/als-main/rollback", key: approver)
                        }
                    }
                }
                group.addTask {
                    try? await Task.sleep(for: killAfter)
                    server.stop(signal: SIGKILL)
                }
            }
            acknowledged.formUnion(acks.all)
        }
        // Every acknowledged event is in the log exactly once.
        let stored = try await Fixtures.storedEventIDs(dataDirectory: data)
        for batch in acknowledged {
            for event in batches[batch] { #expect(stored[event.eventID!] == 1, "seed \(seed): \(event.eventID!) stored \(stored[event.eventID!] ?? 0) times") }
        }
    }

    /// The checks after a restart.
    func checkConsistent(_ client: Client, data: String, round: Int, seed: UInt64) async throws {
        let context = "seed \(seed), after \(round) kill(s)"
        // Visible lake files are whole: each parses and is named by its content's hash; no temporary file is left.
        let lake = "\(data)/shop/lake"
        let walker = FileManager.default.enumerator(atPath: "\(lake)/events")
        while let relative = walker?.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            #expect(!name.hasPrefix(".tmp-"), "\(context): a temporary file \(relative) is visible")
            guard name.hasSuffix(".parquet") else { continue }
            let bytes = try #require(AtomicFile.read("\(lake)/events/\(relative)"))
            #expect(SHA256Hex.of(bytes) + ".parquet" == name, "\(context): \(relative) does not match its name")
            #expect((try? LakeFileReader.read(bytes: bytes, type: nil)) != nil, "\(context): \(relative) does not parse")
        }
        // The committed lake holds each log offset once, and every snapshot verifies.
        let status = try await client.call("GET", "/v1/lake")
        #expect(status.status == 200, "\(context): \(status.json)")
        if let state = AtomicFile.read("\(lake)/_strata/state.json"), let files = try JSONValue.parse(bytes: state)["files"]?.arrayValue {
            var offsets = Set<Int64>()
            var rows = 0
            for file in files {
                for (offset, _) in try LakeFileReader.readWithOffsets(path: "\(lake)/\(file["path"]!.stringValue!)") {
                    offsets.insert(offset)
                    rows += 1
                }
            }
            #expect(offsets.count == rows, "\(context): \(rows - offsets.count) rows are in the lake twice")
        }
        for snapshot in try await client.call("GET", "/v1/lake/snapshots").json["snapshots"]?.arrayValue ?? [] {
            let version = snapshot["version"]!.stringValue!
            #expect(try await client.call("GET", "/v1/lake/snapshots/\(version)").status == 200, "\(context): snapshot \(version)")
        }
        // One stage per version, at most one production version per model.
        let versions = try await client.call("GET", "/v1/models").json["versions"]?.arrayValue ?? []
        let production = Dictionary(grouping: versions.filter { $0["stage"] == "production" }) { $0["model"]?.stringValue ?? "" }
        #expect(production.values.allSatisfy { $0.count == 1 }, "\(context): \(production)")
        // The audit chain verifies.
        let audit = try await client.call("GET", "/v1/audit/verify").json
        #expect(audit["intact"] == true, "\(context): \(audit)")
        let snapshots = try await client.call("GET", "/v1/lake/snapshots").json["snapshots"]?.arrayValue?.count ?? 0
        print(
            "\(context): \(snapshots) snapshots, \(versions.count) model versions (\(production.count) in production), \(audit["entries"]?.intValue ?? 0) audit entries"
        )
    }

    /// The operations the test runs, over an admin key and an approver key.
    struct Client: Sendable {
        let api: KeyedClient
        let approver: String

        func call(_ method: String, _ path: String, key: String? = nil, body: String = "{}", type: String = "application/json") async throws -> (
            status: Int, json: JSONValue
        ) {
            try await api.call(method, path, key: key, body: method == "GET" ? nil : body, type: type)
        }

        func ingest(_ batch: [IncomingEvent]) async throws -> Bool {
            try await call("POST", "/v1/events", body: batch.map(\.json.serialized).joined(separator: "\n"), type: "application/x-ndjson").status == 200
        }

        func trainApproveAndPromote() async throws {
            let run = try await call("POST", "/v1/training/runs", body: #"{"model": "als-main"}"#).json
            guard let reference = run["version"]?["reference"]?.stringValue else { return }
            guard try await call("POST", "/v1/models/\(reference)/approve", key: approver, body: #"{"reason": "crash test"}"#).status == 200 else { return }
            _ = try await call("POST", "/v1/models/\(reference)/promote", key: approver)
        }
    }
}
