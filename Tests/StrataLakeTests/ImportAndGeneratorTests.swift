import Foundation
import StrataCore
import StrataTesting
import Testing

@testable import StrataLake

@Suite struct ImportAndGeneratorTests {
    @Test func generatorIsDeterministicAndRealistic() {
        let a = Fixtures.events(3000, seed: 8, endMillis: 1_795_953_600_000)
        let b = Fixtures.events(3000, seed: 8, endMillis: 1_795_953_600_000)
        let c = Fixtures.events(3000, seed: 9, endMillis: 1_795_953_600_000)
        #expect(a.map(\.json) == b.map(\.json))
        #expect(a.map(\.json) != c.map(\.json))
        let types = Dictionary(grouping: a, by: \.type).mapValues(\.count)
        #expect(types["impression", default: 0] > types["click", default: 0])
        #expect(types["view", default: 0] > types["add_to_cart", default: 0])
        #expect(types["add_to_cart", default: 0] > types["purchase", default: 0])
        #expect(types["purchase", default: 0] > 0)
        // Power-law popularity: the top 1% of items draw a large share of views.
        let views = a.filter { $0.type == "view" }.compactMap { $0.fields.first { $0.name == "item_id" }?.value?.stringValue }
        let counts = Dictionary(grouping: views, by: { $0 }).mapValues(\.count).values.sorted(by: >)
        #expect(counts.prefix(max(1, counts.count / 100)).reduce(0, +) * 10 > views.count / 10)
        #expect(a.contains { event in event.type == "impression" && event.fields.contains { $0.name == "recommendation_id" } })
    }

    /// The demo's simulated visitors: recent traffic stays in its span and in order, visitors
    /// click liked items more, and a planted taste shift changes what the shifted users like
    /// (the same users for a seed) and makes them browse more.
    @Test func recentTrafficAndAPlantedTasteShift() {
        var config = GeneratorConfig(endMillis: 1_795_953_600_000)
        config.users = 300
        var generator = SyntheticGenerator(contract: Fixtures.config.contract, config: config)
        let from = config.endMillis - 600_000
        let recent = generator.recentTraffic(from: from, to: config.endMillis, sessionsPerSecond: 1, slatesPerSecond: 2)
        let times = recent.compactMap { event -> Int64? in if case .millis(let at) = event.time { at } else { nil } }
        #expect(times.count == recent.count && times.allSatisfy { $0 >= from && $0 < config.endMillis })
        #expect(times == times.sorted())
        let impressions = recent.filter { $0.type == "impression" }
        #expect(impressions.count >= 1200 * 5)
        func item(_ event: IncomingEvent) -> String { event.fields.first { $0.name == "item_id" }?.value?.stringValue ?? "" }
        let liked = impressions.filter { generator.likes(user: $0.userID!, item: item($0)) }.count
        let clicks = recent.filter { $0.type == "click" && $0.fields.contains { $0.name == "recommendation_id" } }
        let likedClicks = clicks.filter { generator.likes(user: $0.userID!, item: item($0)) }.count
        // Liked items are clicked at several times the rate of the others.
        #expect(Double(likedClicks) / Double(max(1, liked)) > 3 * Double(clicks.count - likedClicks) / Double(max(1, impressions.count - liked)))

        let pairs = (0..<config.users).map { (SyntheticGenerator.userID($0), SyntheticGenerator.itemID($0 % config.items)) }
        let before = pairs.map { generator.likes(user: $0.0, item: $0.1) }
        var shifted = generator
        shifted.shiftTastes(fraction: 2.0 / 3)
        var again = generator
        again.shiftTastes(fraction: 2.0 / 3)
        #expect(shifted.explorers == again.explorers)
        #expect(Double(shifted.explorers.count) > 0.55 * Double(config.users) && Double(shifted.explorers.count) < 0.78 * Double(config.users))
        #expect(pairs.map { shifted.likes(user: $0.0, item: $0.1) } != before)
        let explorer = shifted.explorers.min()!
        let views = { (g: inout SyntheticGenerator) in
            (0..<200).map { _ in g.session(user: explorer, at: from).filter { $0.type == "view" }.count }.reduce(0, +)
        }
        #expect(views(&shifted) > 2 * views(&generator))
    }

    @Test func importsMovieLensCSVAndNDJSONAndParquet() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let lake = try Fixtures.lake(directory)
        let importer = Importer(ingestor: lake.ingestor, batchSize: 100)

        let ratings = directory.file("ratings.csv")
        var text = "userId,movieId,rating,timestamp\n"
        for row in 0..<500 { text += "\(row % 20),\(row % 77),\(Double(row % 10) / 2),\(964_982_703 + row)\n" }
        text += "21,5,9.5,964982703\n"  // rating above the contract's maximum
        try AtomicFile.write(text, to: ratings)
        #expect(ImportSpec.detectFormat(ratings) == .movielens)
        let movielens = try await importer.run(ImportSpec(path: ratings))
        #expect(movielens.rows == 501)
        #expect(movielens.accepted == 500)
        #expect(movielens.rejected == 1)
        #expect(movielens.sampleRejections.first?.code == "above_maximum")
        #expect(movielens.sampleRejections.first?.index == 500)
        let first = try lake.log.read(from: 0, limit: 1).first.map { try $0.payload.withUnsafeBytes { try EventCodec.decode($0) } }
        #expect(first?.type == "rate")
        #expect(first?.userID == "0")
        #expect(first?.timestamp == 964_982_703_000)
        #expect(first?[field: "rating"] == .double(0))
        // Importing the same file again stores nothing new (deterministic event ids).
        #expect(try await importer.run(ImportSpec(path: ratings)).duplicates == 500)

        let orders = directory.file("orders.csv")
        try AtomicFile.write("customer,sku,when,amount,note\nc1,s1,2026-11-01T10:00:00Z,9.99,x\nc2,s2,1764417600000,5,y\n", to: orders)
        let csv = try await importer.run(
            ImportSpec(
                path: orders, eventType: "purchase",
                mapping: ["user_id": "customer", "item_id": "sku", "timestamp": "when", "price": "amount", "order_id": "sku"]))
        #expect(csv.accepted == 2)
        #expect(csv.ignoredColumns == ["note"])
        await #expect(throws: StrataError.self) {
            try await importer.run(ImportSpec(path: orders, eventType: "purchase", mapping: ["user_id": "nobody"]))
        }

        let ndjson = directory.file("events.ndjson")
        try AtomicFile.write(Fixtures.events(250, seed: 12).map(\.json.serialized).joined(separator: "\n") + "\n", to: ndjson)
        #expect(try await importer.run(ImportSpec(path: ndjson)).accepted == 250)

        let rows = directory.file("carts.jsonl")
        try AtomicFile.write(
            #"{"who":"c1","what":"s1","at":"2026-11-01T10:00:00Z","price":3.5}"# + "\n" + "not json\n"
                + #"{"who":"c2","what":"s2","at":1764417600000,"price":"x"}"# + "\n",
            to: rows)
        let rowImport = try await importer.run(
            ImportSpec(path: rows, eventType: "add_to_cart", mapping: ["user_id": "who", "item_id": "what", "timestamp": "at"]))
        #expect(rowImport.accepted == 1)
        #expect(rowImport.sampleRejections.map(\.code) == ["not_an_object", "wrong_type"])
        #expect(rowImport.sampleRejections.map(\.index) == [1, 2])

        let parquet = directory.file("views.parquet")
        let script = """
            import sys, pyarrow as pa, pyarrow.parquet as pq
            pq.write_table(pa.table({"user_id": [f"p{i}" for i in range(40)], "item_id": [f"i{i % 5}" for i in range(40)],
                                     "timestamp": pa.array([1700000000000000 + i for i in range(40)], pa.timestamp("us", tz="UTC"))}), sys.argv[1])
            """
        if try runPython(script, arguments: [parquet], requiring: ["pyarrow"]) != nil {
            let report = try await importer.run(ImportSpec(path: parquet, eventType: "view"))
            #expect(report.accepted == 40)
        }
        await lake.close()
    }
}
