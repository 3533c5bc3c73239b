import Foundation
import StrataCore
import StrataTesting
import Synchronization
import Testing

/// The audit trail loses nothing it acknowledged: a change (key created or revoked, version
/// approved, promoted, rolled back) is answered only once its entry is durable, so SIGKILL at
/// any moment leaves every acknowledged change in the log; a clean SIGTERM writes the batched
/// entries of reads too; and removing the newest entries from the database is detected.
@Suite(.serialized) struct AuditDurabilityTests {
    /// Changes the client saw acknowledged: (action, target).
    final class Acknowledged: Sendable {
        private let changes = Mutex<[(action: String, target: String)]>([])
        func add(_ action: String, _ target: String) { changes.withLock { $0.append((action, target)) } }
        var all: [(action: String, target: String)] { changes.withLock { $0 } }
    }

    @Test(arguments: [UInt64(21), 22])
    func everyAcknowledgedChangeHasItsEntryAfterSigkill(seed: UInt64) async throws {
        let project = try KeyedProject()
        defer { project.remove() }
        let admin = try project.key("operator", roles: "admin")
        let approver = try project.key("approver", roles: "approver")
        // Candidates to approve and promote during the rounds.
        do {
            let server = try project.startServer()
            let client = KeyedClient(port: server.port, key: admin)
            let batch = Fixtures.events(3_000, seed: seed).map(\.json.serialized).joined(separator: "\n")
            #expect(try await client.call("POST", "/v1/events", body: batch, type: "application/x-ndjson").status == 200)
            #expect(try await client.call("POST", "/v1/lake/snapshots").status == 201)
            for _ in 0..<6 {
                #expect(try await client.call("POST", "/v1/training/runs", body: #"{"model": "als-main"}"#).status == 201)
            }
            #expect(server.stop(signal: SIGTERM) == 0)
        }
        var rng = SplitMix64(seed: seed)
        let acknowledged = Acknowledged()
        var candidates = (1...6).map { "als-main@\($0)" }
        var keyNumber = 0
        for round in 0..<3 {
            let server = try project.startServer()
            let client = KeyedClient(port: server.port, key: admin)
            let killAfter = Duration.milliseconds(300 + rng.nextInt(below: 2_500))
            let promote = candidates.isEmpty ? [] : [candidates.removeFirst()]
            let firstKey = keyNumber
            keyNumber += 1_000
            await withTaskGroup(of: Void.self) { group in
                // Keys created and revoked back to back.
                group.addTask {
                    var created: [String] = []
                    for index in firstKey..<(firstKey + 1_000) {
                        guard
                            let answer = try? await client.call("POST", "/v1/keys", body: #"{"name": "k\#(index)", "roles": ["serve"]}"#), answer.status == 201,
                            let id = answer.json["id"]?.stringValue
                        else { return }
                        acknowledged.add("key.create", "key:\(id)")
                        created.append(id)
                        if index % 2 == 1, let old = created.first {
                            guard (try? await client.call("DELETE", "/v1/keys/\(old)"))?.status == 200 else { return }
                            acknowledged.add("key.revoke", "key:\(old)")
                            created.removeFirst()
                        }
                    }
                }
                // A version approved and promoted, then rollbacks back and forth.
                group.addTask {
                    for reference in promote {
                        guard
                            (try? await client.call("POST", "/v1/models/\(reference)/approve", key: approver, body: #"{"reason": "audit test"}"#))?.status
                                == 200
                        else { return }
                        acknowledged.add("model.approve", reference)
                        guard (try? await client.call("POST", "/v1/models/\(reference)/promote", key: approver))?.status == 200 else { return }
                        acknowledged.add("model.promote", reference)
                    }
                    for _ in 0..<100 {
                        guard let answer = try? await client.call("POST", "/v1/models/als-main/rollback", key: approver) else { return }
                        if answer.status == 200, let reference = answer.json["reference"]?.stringValue { acknowledged.add("model.rollback", reference) }
                    }
                }
                group.addTask {
                    try? await Task.sleep(for: killAfter)
                    server.stop(signal: SIGKILL)
                }
            }
            // After a restart every acknowledged change is in the log, and the chain verifies.
            let restarted = try project.startServer()
            let reader = KeyedClient(port: restarted.port, key: admin)
            var logged = Set<String>()
            for action in ["key.create", "key.revoke", "model.approve", "model.promote", "model.rollback"] {
                for entry in try await reader.call("GET", "/v1/audit?action=\(action)&limit=100000").json["entries"]?.arrayValue ?? [] {
                    logged.insert("\(action) \(entry["target"]?.stringValue ?? "")")
                }
            }
            let missing = acknowledged.all.filter { !logged.contains("\($0.action) \($0.target)") }
            #expect(missing.isEmpty, "seed \(seed), round \(round): \(missing.count) acknowledged changes have no audit entry: \(missing.prefix(5))")
            let verified = try await reader.call("GET", "/v1/audit/verify").json
            #expect(verified["intact"] == true, "seed \(seed), round \(round): \(verified)")
            print("seed \(seed), round \(round): killed after \(killAfter), \(acknowledged.all.count) changes acknowledged so far, all in the log")
            #expect(restarted.stop(signal: SIGTERM) == 0)
        }
        #expect(acknowledged.all.count > 10, "the kills landed after some changes")
    }

    @Test func aCleanShutdownWritesTheQueuedEntriesAndTruncationIsDetected() async throws {
        let project = try KeyedProject()
        defer { project.remove() }
        let admin = try project.key("operator", roles: "admin")
        let server = try project.startServer()
        let client = KeyedClient(port: server.port, key: admin)
        // Reads are audited in batches; SIGTERM right after them must still write every entry.
        for index in 0..<200 { #expect(try await client.call("GET", "/v1/features/user/u\(index)").status == 200) }
        #expect(server.stop(signal: SIGTERM) == 0)
        let log = server.startupLog + server.remainingLog()
        #expect(!log.contains("could not write the audit log"), "\(log.suffix(2000))")
        let verify = try runProcess(ServerProcess.binary, ["audit", "verify", "--data-dir", project.data, "--config", project.configPath])
        #expect(verify.status == 0, "\(verify.output) \(verify.errors)")
        let reads = try runProcess(
            ServerProcess.binary, ["audit", "ls", "--action", "feature.read", "--data-dir", project.data, "--config", project.configPath])
        #expect(reads.output.split(separator: "\n").filter { $0.contains("feature.read") }.count == 200, "\(reads.output.suffix(500))")

        // Someone with access to the database removes the newest entries: the chain that is left
        // still links up, but the head recorded outside the database shows what is missing.
        let database = "\(project.data)/shop/metadata.sqlite"
        let removed = try runProcess(
            "/usr/bin/env",
            [
                "python3", "-c",
                "import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); d.execute('DELETE FROM audit_log WHERE seq > (SELECT max(seq) - 3 FROM audit_log)'); d.commit()",
                database,
            ])
        #expect(removed.status == 0, "\(removed.errors)")
        let truncated = try runProcess(ServerProcess.binary, ["audit", "verify", "--data-dir", project.data, "--config", project.configPath])
        #expect(truncated.status == 2, "\(truncated.output) \(truncated.errors)")
        #expect((truncated.output + truncated.errors).contains("newest entries were removed"), "\(truncated.output) \(truncated.errors)")
    }
}
