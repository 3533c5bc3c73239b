import Foundation
import StrataCore
import StrataLake
import StrataTesting
import Testing

/// `strata evaluate` as a user runs it: a split folder in, a table or JSON out.
@Suite struct EvaluateCommandTests {
    func run(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        try runProcess(ServerProcess.binary, arguments)
    }

    @Test func evaluatesModelsOnASplitFolderAsJSON() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        // 60 users with 12 interactions each over 30 items in two taste groups.
        var rng = SplitMix64(seed: 4)
        var train = ""
        var test = ""
        for user in 0..<60 {
            let group = user % 2
            var items = Set<Int>()
            while items.count < 12 { items.insert(group * 15 + rng.nextInt(below: 15)) }
            for (position, item) in items.sorted().enumerated() {
                let line = "\(user)\t\(item)\t\(1000 + position)\n"
                if position < 10 { train += line } else { test += line }
            }
        }
        try AtomicFile.write(train, to: directory.file("train.tsv"))
        try AtomicFile.write(test, to: directory.file("test.tsv"))
        let result = try run([
            "evaluate", "--split", directory.path, "--model", "popularity", "--model", "als", "--param", "als.factors=8", "--param", "alpha=2",
            "--model", "item_knn", "--threads", "1", "--json",
        ])
        #expect(result.status == 0, "\(result.errors)")
        let rows = try JSONValue.parse(result.output).arrayValue ?? []
        #expect(rows.map { $0["model"]?.stringValue } == ["popularity", "als", "item_knn"])
        for row in rows {
            for key in ["precision@10", "recall@10", "ndcg@10", "map@10", "hit_rate@10", "coverage", "fit_seconds"] {
                #expect(row[key]?.doubleValue != nil, "\(key) missing")
            }
        }
        #expect(rows[1]["hyperparameters"]?["factors"]?.doubleValue == 8)
        #expect(rows[1]["hyperparameters"]?["alpha"]?.doubleValue == 2)
        #expect(rows[0]["evaluated_users"]?.intValue == 60)
        // Personalised models use the two groups; popularity cannot.
        #expect((rows[1]["ndcg@10"]?.doubleValue ?? 0) > (rows[0]["ndcg@10"]?.doubleValue ?? 1))

        let bad = try run(["evaluate", "--split", directory.path, "--model", "svd"])
        #expect(bad.status != 0)
        #expect(bad.errors.contains("unknown_model"))
    }
}
