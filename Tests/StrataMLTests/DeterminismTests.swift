import Foundation
import StrataCore
import Testing

@testable import StrataML

@Suite struct DeterminismTests {
    static let data: InteractionData = {
        let generated = SyntheticInteractions.generate(users: 1500, items: 400, target: 30_000, clusters: 8, seed: 11)
        return InteractionData(users: IDMap((0..<1500).map { "u\($0)" }), items: IDMap((0..<400).map { "i\($0)" }), matrix: generated.matrix)
    }()
    /// Fewer interactions for the fits repeated per thread count and per checkpoint: still
    /// thousands of rows per thread, so every split of the work is exercised.
    static let sparser: InteractionData = {
        let generated = SyntheticInteractions.generate(users: 1500, items: 400, target: 10_000, clusters: 8, seed: 11)
        return InteractionData(users: IDMap((0..<1500).map { "u\($0)" }), items: IDMap((0..<400).map { "i\($0)" }), matrix: generated.matrix)
    }()

    @Test(arguments: [Algorithm.popularity, .itemKNN, .als, .bpr, .ease])
    func artifactsAreBitIdenticalWhateverTheThreadCount(algorithm: Algorithm) throws {
        var parameters: [String: Double] = [:]
        if algorithm == .als { parameters = ["factors": 16, "iterations": 4, "alpha": 2] }
        if algorithm == .bpr { parameters = ["factors": 16, "iterations": 5] }
        let spec = try ModelSpec(name: "m", algorithm: algorithm, parameters: parameters)
        let one = try ModelTrainer.fit(spec, data: Self.sparser, threads: 1).artifact().encoded()
        let two = try ModelTrainer.fit(spec, data: Self.sparser, threads: 2).artifact().encoded()
        let four = try ModelTrainer.fit(spec, data: Self.sparser, threads: 4).artifact().encoded()
        #expect(one == two)
        #expect(one == four)
        #expect(SHA256Hex.of(one) == SHA256Hex.of(four))
    }

    struct Stop: Error {}

    /// A fit stopped after a checkpoint and resumed from its bytes ends with the artifact of an
    /// uninterrupted fit.
    @Test(arguments: [Algorithm.als, .bpr])
    func resumingFromACheckpointGivesTheSameArtifact(algorithm: Algorithm) throws {
        let parameters: [String: Double] = algorithm == .als ? ["factors": 16, "iterations": 6, "alpha": 2] : ["factors": 16, "iterations": 7]
        let spec = try ModelSpec(name: "m", algorithm: algorithm, parameters: parameters)
        let uninterrupted = try ModelTrainer.fit(spec, data: Self.sparser, threads: 2).artifact().encoded()
        var saved: [UInt8]?
        #expect(throws: Stop.self) {
            _ = try ModelTrainer.fit(
                spec, data: Self.sparser, threads: 2,
                control: FitControl(every: 2) { checkpoint in
                    saved = checkpoint.encoded()
                    if checkpoint.iteration == 4 { throw Stop() }
                })
        }
        let checkpoint = try FitCheckpoint(decoding: try #require(saved))
        #expect(checkpoint.iteration == 4)
        let resumed = try ModelTrainer.fit(spec, data: Self.sparser, threads: 1, control: FitControl(resume: checkpoint)).artifact().encoded()
        #expect(SHA256Hex.of(resumed) == SHA256Hex.of(uninterrupted))
    }

    @Test func aDifferentSeedGivesADifferentModel() throws {
        let a = try ModelTrainer.fit(
            try ModelSpec(name: "m", algorithm: .als, parameters: ["factors": 8, "iterations": 2, "seed": 1]), data: Self.data, threads: 2)
        let b = try ModelTrainer.fit(
            try ModelSpec(name: "m", algorithm: .als, parameters: ["factors": 8, "iterations": 2, "seed": 2]), data: Self.data, threads: 2)
        #expect(a.artifact().encoded() != b.artifact().encoded())
    }

    @Test(arguments: [Algorithm.popularity, .itemKNN, .als, .bpr, .ease])
    func artifactsRoundTrip(algorithm: Algorithm) throws {
        let spec = try ModelSpec(name: "m", algorithm: algorithm, parameters: algorithm == .als || algorithm == .bpr ? ["factors": 8, "iterations": 2] : [:])
        let model = try ModelTrainer.fit(spec, data: Self.data, threads: 2)
        let bytes = model.artifact().encoded()
        let loaded = try ModelTrainer.load(try ModelArtifact(decoding: bytes))
        #expect(loaded.artifact().encoded() == bytes)
        let query = UserQuery.training(3, in: Self.data.matrix)
        #expect(loaded.recommend(query, n: 10).map(\.index) == model.recommend(query, n: 10).map(\.index))
        #expect(throws: StrataError.self) { try ModelArtifact(decoding: Array(bytes.prefix(bytes.count / 2))) }
        #expect(throws: StrataError.self) { try ModelArtifact(decoding: Array("not a model".utf8)) }
    }

    @Test func foldInOfATrainingUserMatchesTheirTrainedVectorClosely() throws {
        let model = try ALSModel.fit(Self.data, parameters: ALSParameters(factors: 16, alpha: 2, iterations: 8, cgSteps: 3), threads: 2)
        let query = UserQuery.training(5, in: Self.data.matrix)
        let folded = model.foldIn(items: query.items, weights: query.weights)
        let trained = Array(model.userFactors.row(5))
        let difference = zip(folded, trained).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        let norm = trained.map { $0 * $0 }.reduce(0, +).squareRoot()
        #expect(difference / norm < 0.05, "fold-in solves the same system the last user half-step did")
        var unseen = query
        unseen.userIndex = nil
        let overlap = Set(model.recommend(unseen, n: 10).map(\.index)).intersection(model.recommend(query, n: 10).map(\.index))
        #expect(overlap.count >= 8, "a folded-in user gets nearly the trained user's recommendations")
    }

    @Test func syntheticGeneratorMatchesTheAnchorSpecification() {
        // Checksum printed by ../shared/anchors/synthetic_als_bench.py for a small configuration
        // is not stored; the full-size checksum (ffe50be7a071ad0d) is checked by `strata bench als`.
        // Here: determinism and shape.
        let a = SyntheticInteractions.generate(users: 300, items: 200, target: 6000, seed: 42)
        let b = SyntheticInteractions.generate(users: 300, items: 200, target: 6000, seed: 42)
        #expect(a.checksum == b.checksum)
        #expect(a.matrix == b.matrix)
        #expect(abs(a.matrix.nonZeros - 6000) < 1200)
        #expect((0..<300).allSatisfy { a.matrix.rowLength($0) >= 1 })
    }
}

@Suite struct ALSSolverTests {
    @Test(arguments: [Float(0), 3])
    func scatteringAndRowByRowSolversAgreeBitForBit(alpha: Float) {
        let data = DeterminismTests.data
        let parameters = ALSParameters(factors: 24, alpha: alpha, iterations: 1, cgSteps: 3)
        var rng = SplitMix64(seed: 9)
        let items = FactorMatrix.random(rows: data.items.count, columns: 24, low: 0, high: 0.1, rng: &rng)
        let start = FactorMatrix.random(rows: data.users.count, columns: 24, low: 0, high: 0.1, rng: &rng)
        var byRow = start
        ALSModel.solve(&byRow, fixed: items, matrix: data.matrix, parameters: parameters, threads: 2)
        var scattered = start
        ALSModel.solveScattering(&scattered, fixed: items, matrix: data.matrix.transposed(), parameters: parameters, threads: 3)
        #expect(byRow == scattered)
        #expect(byRow != start)
    }
}
