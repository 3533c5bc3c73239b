import Hummingbird
import StrataCore
import StrataLake

/// The lake: status, compaction, snapshots and the dead-letter store.
struct LakeRoutes {
    let lake: Lake

    func register(on router: RouteRegistrar) {
        router.get("/v1/lake") { _, _ in JSONResponse.make(await lake.status()) }
        router.post("/v1/lake/compact") { _, _ -> Response in
            let report = try await lake.maintain(force: true)
            return JSONResponse.make([
                "segments": .int(report.segments), "files": .array(report.files.map(\.json)), "compacted_through": .int(report.compactedThrough),
            ])
        }
        router.get("/v1/lake/snapshots") { _, _ in
            JSONResponse.make(["snapshots": .array(try lake.snapshots.list().map(\.json))])
        }
        router.post("/v1/lake/snapshots") { _, _ in
            JSONResponse.make(try await lake.compactor.snapshot().json, status: .created)
        }
        router.get("/v1/lake/snapshots/:version") { _, context in
            let manifest = try lake.snapshots.manifest(try context.parameters.require("version"))
            var body = manifest.json.objectValue!
            body["version"] = .string(manifest.version)
            body["rows"] = .int(manifest.rows)
            return JSONResponse.make(.object(body))
        }
        router.get("/v1/lake/dead-letters") { request, _ in
            let from = try request.queryInt("from", default: 0, range: 0...Int.max)
            let limit = try request.queryInt("limit", default: 100, range: 1...1000)
            let letters = try lake.deadLetters.list(from: Int64(from), limit: limit)
            return JSONResponse.make(["total": .int(lake.deadLetters.count), "dead_letters": .array(letters.map(\.json))])
        }
    }
}
