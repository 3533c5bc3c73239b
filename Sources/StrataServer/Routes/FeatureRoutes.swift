import Foundation
import Hummingbird
import StrataCore
import StrataFeatures
import StrataLake

/// The online feature store: definitions and freshness, reads of one entity or many, and the
/// skew check on the latest snapshot.
struct FeatureRoutes {
    let store: FeatureStore
    let lake: Lake
    let definitions: [FeatureDefinition]
    static let maxBatchEntities = 1000

    func register(on router: RouteRegistrar) {
        router.get("/v1/features") { _, _ in
            var status = store.status().objectValue ?? [:]
            status["definitions"] = .array(definitions.map(\.canonicalJSON))
            return JSONResponse.make(.object(status))
        }
        router.get("/v1/features/:entity/:id") { request, context -> Response in
            let entity = try Self.entity(try context.parameters.require("entity"))
            let id = try context.parameters.require("id")
            let names = request.uri.queryParameters["features"].map { $0.split(separator: ",").map(String.init) }
            let readings = try store.read(entity, id: id, features: names)
            return JSONResponse.make(Self.json(entity: entity, id: id, readings))
        }
        router.post("/v1/features/batch") { request, _ -> Response in
            let body = try await request.jsonBody(limit: 1 << 20)
            guard let entityName = body["entity"]?.stringValue, let ids = body["ids"]?.arrayValue?.compactMap(\.stringValue) else {
                throw StrataError.invalid("invalid_request", "send {\"entity\": \"user\"|\"item\", \"ids\": [...], \"features\": [...] (optional)}")
            }
            guard ids.count <= Self.maxBatchEntities else {
                throw StrataError(.tooLarge, code: "batch_too_large", "at most \(Self.maxBatchEntities) ids per request")
            }
            let entity = try Self.entity(entityName)
            let names = body["features"]?.arrayValue?.compactMap(\.stringValue)
            let readings = try store.read(entity, ids: ids, features: names)
            return JSONResponse.make(["results": .array(zip(ids, readings).map { Self.json(entity: entity, id: $0, $1) })])
        }
        router.post("/v1/features/check-skew") { request, _ -> Response in
            let samples = try request.queryInt("samples", default: 1000, range: 1...100_000)
            if request.uri.queryParameters["mode"] == "live" {
                // The running store's values now against a batch recomputation over the same events.
                let sample = try store.sampleSkew(entities: samples)
                store.record(sample)
                return JSONResponse.make(sample.json)
            }
            let manifest = try lake.snapshots.manifest("latest")
            let events = try PointInTime.events(of: manifest, lakeRoot: lake.directory.lake, definitions: definitions)
            let report = try SkewCheck.run(definitions: definitions, events: events, samples: samples)
            var body = report.json.objectValue!
            body["data_version"] = .string(manifest.version)
            return JSONResponse.make(.object(body))
        }
    }

    static func entity(_ name: String) throws(StrataError) -> FeatureDefinition.Entity {
        guard let entity = FeatureDefinition.Entity(rawValue: name) else {
            throw StrataError.invalid("unknown_entity", "entity must be user or item, got '\(name)'", field: "entity")
        }
        return entity
    }

    static func json(entity: FeatureDefinition.Entity, id: String, _ readings: [FeatureReading]) -> JSONValue {
        var values: [String: JSONValue] = [:]
        for reading in readings { values[reading.name] = reading.json }
        return [
            "entity": .string(entity.rawValue), "id": .string(id), "found": .bool(readings.contains { !$0.isDefault }),
            "values": .object(values), "defaults": .array(readings.filter(\.isDefault).map { .string($0.name) }),
        ]
    }
}
