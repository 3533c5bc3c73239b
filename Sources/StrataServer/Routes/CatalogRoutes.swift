import Hummingbird
import NIOCore
import StrataCore
import StrataLake

/// The item and user catalogs: upserts (each stored as a catalog event), reads and deletes.
struct CatalogRoutes {
    let lake: Lake
    /// `ingest`: the body and batch limits.
    let ingest: IngestConfig

    func register(on router: RouteRegistrar) {
        for kind in [CatalogKind.item, CatalogKind.user] {
            let base = "/v1/\(kind.rawValue)s"
            router.put("\(base)/:id") { request, context -> Response in
                let id = try context.parameters.require("id")
                let properties = try await request.jsonBody(limit: ingest.maxBodyBytes)
                let result = try await lake.ingestor.upsertCatalog(kind, [CatalogUpsert(id: id, properties: properties)], source: "http")
                if let rejection = result.rejected.first {
                    throw StrataError.invalid(rejection.code, rejection.message, field: rejection.field)
                }
                try waitApplied(result)
                return JSONResponse.make(lake.catalog.entry(kind, id: id)?.json ?? ["id": .string(id)])
            }
            router.post(base) { request, _ -> Response in
                let body = try await request.jsonBody(limit: ingest.maxBodyBytes)
                guard let entries = body.arrayValue else {
                    throw StrataError.invalid("wrong_type", "send a JSON array of objects, each with an \"id\" and the properties")
                }
                guard entries.count <= ingest.maxBatchEvents else {
                    throw StrataError(
                        .tooLarge, code: "batch_too_large", "the batch holds \(entries.count) entries; the limit is \(ingest.maxBatchEvents)")
                }
                let upserts = entries.map { entry in CatalogUpsert(id: entry["id"]?.stringValue ?? "", properties: entry) }
                let result = try await lake.ingestor.upsertCatalog(kind, upserts, source: "http")
                try waitApplied(result)
                return JSONResponse.make(result.json)
            }
            router.get("\(base)/:id") { _, context -> Response in
                let id = try context.parameters.require("id")
                guard let entry = lake.catalog.entry(kind, id: id) else {
                    throw StrataError.notFound("\(kind.rawValue)_not_found", "no \(kind.rawValue) '\(id)' in the catalog")
                }
                return JSONResponse.make(entry.json)
            }
            router.delete("\(base)/:id") { _, context -> Response in
                let id = try context.parameters.require("id")
                guard lake.catalog.entry(kind, id: id) != nil else {
                    throw StrataError.notFound("\(kind.rawValue)_not_found", "no \(kind.rawValue) '\(id)' in the catalog")
                }
                let result = try await lake.ingestor.upsertCatalog(kind, [CatalogUpsert(id: id, properties: ["deleted": true])], source: "http")
                try waitApplied(result)
                return JSONResponse.make(["id": .string(id), "deleted": true])
            }
        }
    }

    /// Read-your-writes: answer only once the catalog view has applied the change.
    private func waitApplied(_ result: IngestResult) throws {
        if let offsets = result.offsets { try lake.catalog.applyThrough(offsets.upperBound) }
    }
}
