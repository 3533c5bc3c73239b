import Foundation
import StrataCore
import StrataFeatures
import StrataTesting
import Testing

@testable import StrataLake

/// The online store of a real `strata serve`, killed with SIGKILL mid-stream between
/// snapshots: after the restart (snapshot + replay of the log tail) every entity's features
/// equal a from-scratch recomputation over the events the log holds.
@Suite(.serialized) struct FeatureStoreCrashTests {
    @Test func restartAfterSigkillEqualsRecomputation() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        // Snapshots every 200 ms, so the kill lands between snapshots with a tail to replay.
        let configPath = directory.file("strata.yaml")
        try (ExampleConfig.yaml.replacingOccurrences(of: "snapshot_interval: 5m", with: "snapshot_interval: 200ms"))
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let dataDirectory = directory.file("data")

        // Events of the last ten minutes: no window (the shortest is an hour) loses any while
        // the test runs, so values read at different moments stay comparable.
        let now = SystemClock().nowMillis()
        var rng = SplitMix64(seed: 5)
        let events = Fixtures.events(8000, seed: 5).map { event in
            var recent = event
            recent.time = .millis(now - 600_000 + Int64(rng.nextInt(below: 590_000)))
            return recent
        }
        let batches = stride(from: 0, to: events.count, by: 100).map { events[$0..<min($0 + 100, events.count)].map(\.json.serialized).joined(separator: "\n") }

        let first = try ServerProcess(dataDirectory: dataDirectory, arguments: ["--config", configPath])
        let snapshot = "\(dataDirectory)/shop/features/snapshot.bin"
        var acknowledged = 0
        for (index, batch) in batches.enumerated() {
            guard await first.post(ndjson: batch) == 200 else { break }
            acknowledged += 1
            // From halfway on, until a snapshot is on disk, a pause longer than the snapshot
            // interval before each batch: the store, woken by the next batch, takes one (a busy
            // machine only makes the pauses longer). The batches after it are the tail to replay.
            if index >= batches.count / 2, !FileManager.default.fileExists(atPath: snapshot) { try await Task.sleep(for: .milliseconds(250)) }
        }
        // A snapshot taken when the last batches came finishes before the kill (the limit only
        // bounds a hang), so that the restart restores from one however slow the machine.
        try await waitUntil("a feature store snapshot before the kill", timeout: .seconds(300)) { FileManager.default.fileExists(atPath: snapshot) }
        first.stop(signal: SIGKILL)
        #expect(acknowledged == batches.count)
        #expect(FileManager.default.fileExists(atPath: snapshot), "a snapshot was written before the kill")

        let users = Set(events.compactMap(\.userID)).sorted()
        let items = Set(events.compactMap { $0.fields.first { $0.name == "item_id" }?.value?.stringValue }).sorted()
        let second = try ServerProcess(dataDirectory: dataDirectory, arguments: ["--config", configPath])
        let ready = second.startupLog.split(separator: "\n").first { $0.contains("feature store ready") }.map { try? JSONValue.parse(String($0)) } ?? nil
        let snapshotOffset = (ready?["snapshot_offset"]?.stringValue).flatMap(Int.init) ?? 0
        let replayed = (ready?["replayed"]?.stringValue).flatMap(Int.init) ?? 0
        #expect(snapshotOffset > 0, "restored from a snapshot: \(second.startupLog.prefix(2000))")
        print("feature store restart: snapshot covered \(snapshotOffset) events, replayed \(replayed) from the log")
        var served: [String: JSONValue] = [:]
        for (entity, ids) in [("user", users), ("item", items)] {
            for chunk in stride(from: 0, to: ids.count, by: 500) {
                let answer = try await second.postJSON(
                    "/v1/features/batch", ["entity": .string(entity), "ids": .array(ids[chunk..<min(chunk + 500, ids.count)].map { .string($0) })])
                for result in answer["results"]?.arrayValue ?? [] { served["\(entity)/\(result["id"]?.stringValue ?? "")"] = result["values"] }
            }
        }
        #expect(second.stop(signal: SIGTERM) == 0)
        #expect(served.count == users.count + items.count)

        // From scratch: every event the log holds, through a fresh engine.
        let config = try StrataConfig.load(path: configPath)
        let lake = try Lake(config: config, dataDirectory: dataDirectory, logger: quietLogger)
        let engine = FeatureEngine(definitions: config.contract.features)
        #expect(lake.log.startOffset == 0)
        try lake.log.scan(from: 0) { offset, payload in
            engine.apply(try EventCodec.decode(payload), offset: offset, now: now)
            return true
        }
        await lake.close()
        let readAt = SystemClock().nowMillis()
        var compared = 0
        for (entity, ids) in [(FeatureDefinition.Entity.user, users), (.item, items)] {
            for id in ids {
                let expected = FeatureRoutesJSON.values(try engine.read(entity, id: id, at: readAt))
                #expect(served["\(entity.rawValue)/\(id)"] == expected, "\(entity.rawValue) \(id)")
                compared += 1
            }
        }
        #expect(compared > 300)
    }
}

/// The `values` object of a feature answer, as the routes write it.
enum FeatureRoutesJSON {
    static func values(_ readings: [FeatureReading]) -> JSONValue {
        .object(Dictionary(uniqueKeysWithValues: readings.map { ($0.name, $0.json) }))
    }
}
