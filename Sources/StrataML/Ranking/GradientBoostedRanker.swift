import CXGBoost
import Foundation
import StrataCore
import Synchronization

/// Hyperparameters of the learning-to-rank stage.
public struct RankerParameters: Sendable, Equatable {
    public var rounds: Int
    public var maxDepth: Int
    public var eta: Double
    public var seed: UInt64

    public init(rounds: Int = 100, maxDepth: Int = 6, eta: Double = 0.1, seed: UInt64 = 42) {
        self.rounds = rounds
        self.maxDepth = maxDepth
        self.eta = eta
        self.seed = seed
    }

    public init(_ spec: ModelSpec) {
        self.init(rounds: spec.int("rounds"), maxDepth: spec.int("max_depth"), eta: spec["eta"], seed: UInt64(spec["seed"]))
    }
}

/// Gradient-boosted trees trained for ranking (LambdaMART-style pairwise objective within
/// groups) through XGBoost's C library. One thread and a fixed seed: the same rows give the
/// same model bytes. Missing feature values are NaN.
public final class GradientBoostedRanker: @unchecked Sendable {
    /// The feature names, in column order.
    public let features: [String]
    public let parameters: RankerParameters
    private let booster: BoosterHandle
    /// XGBoost boosters are not documented as safe for concurrent prediction: one at a time.
    private let lock = Mutex(())

    private init(features: [String], parameters: RankerParameters, booster: BoosterHandle) {
        self.features = features
        self.parameters = parameters
        self.booster = booster
    }

    deinit { XGBoosterFree(booster) }

    static func check(_ status: Int32, _ what: String) throws(StrataError) {
        guard status == 0 else { throw StrataError.internal("XGBoost \(what) failed: \(String(cString: XGBGetLastError()))") }
    }

    /// Trains on `rows` (row-major, `features.count` columns) with 0/1 `labels`; rows of one
    /// group (a slate of impressions) are contiguous and `groups` gives their sizes.
    public static func fit(rows: [Float], features: [String], labels: [Float], groups: [UInt32], parameters: RankerParameters) throws(StrataError)
        -> GradientBoostedRanker
    {
        let columns = features.count
        guard columns > 0, rows.count == labels.count * columns, groups.reduce(0, { $0 + Int($1) }) == labels.count else {
            throw StrataError.invalid("invalid_training_rows", "the ranker's rows, labels and groups do not agree")
        }
        var matrix: DMatrixHandle?
        try check(
            rows.withUnsafeBufferPointer { XGDMatrixCreateFromMat($0.baseAddress, bst_ulong(labels.count), bst_ulong(columns), .nan, &matrix) },
            "creating the matrix")
        defer { XGDMatrixFree(matrix) }
        try check(labels.withUnsafeBufferPointer { XGDMatrixSetFloatInfo(matrix, "label", $0.baseAddress, bst_ulong(labels.count)) }, "setting labels")
        try check(groups.withUnsafeBufferPointer { XGDMatrixSetUIntInfo(matrix, "group", $0.baseAddress, bst_ulong(groups.count)) }, "setting groups")
        var handles: [DMatrixHandle?] = [matrix]
        var booster: BoosterHandle?
        try check(XGBoosterCreate(&handles, 1, &booster), "creating the booster")
        guard let booster else { throw StrataError.internal("XGBoost returned no booster") }
        let ranker = GradientBoostedRanker(features: features, parameters: parameters, booster: booster)
        let settings: [(String, String)] = [
            ("objective", "rank:pairwise"), ("eval_metric", "ndcg@10"), ("tree_method", "exact"), ("nthread", "1"),
            ("seed", String(parameters.seed)), ("max_depth", String(parameters.maxDepth)), ("eta", String(parameters.eta)), ("verbosity", "0"),
        ]
        for (key, value) in settings { try check(XGBoosterSetParam(booster, key, value), "setting \(key)") }
        for round in 0..<parameters.rounds { try check(XGBoosterUpdateOneIter(booster, Int32(round), matrix), "round \(round)") }
        return ranker
    }

    /// A ranker from the bytes `modelBytes()` gave.
    public static func load(_ bytes: [UInt8], features: [String], parameters: RankerParameters) throws(StrataError) -> GradientBoostedRanker {
        var booster: BoosterHandle?
        try check(XGBoosterCreate(nil, 0, &booster), "creating the booster")
        guard let booster else { throw StrataError.internal("XGBoost returned no booster") }
        let ranker = GradientBoostedRanker(features: features, parameters: parameters, booster: booster)
        try check(bytes.withUnsafeBytes { XGBoosterLoadModelFromBuffer(booster, $0.baseAddress, bst_ulong(bytes.count)) }, "loading the model")
        try check(XGBoosterSetParam(booster, "nthread", "1"), "setting nthread")
        return ranker
    }

    /// The model as XGBoost's JSON (deterministic for the same trees).
    public func modelBytes() throws(StrataError) -> [UInt8] {
        var length: bst_ulong = 0
        var pointer: UnsafePointer<CChar>?
        try lock.withLock { _ throws(StrataError) in
            try Self.check(XGBoosterSaveModelToBuffer(booster, #"{"format": "json"}"#, &length, &pointer), "saving the model")
        }
        guard let pointer else { return [] }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: Int(length)) { Array(UnsafeBufferPointer(start: $0, count: Int(length))) }
    }

    /// One score per row (higher ranks first).
    public func predict(rows: [Float], count: Int) throws(StrataError) -> [Float] {
        guard count > 0 else { return [] }
        guard rows.count == count * features.count else { throw StrataError.invalid("invalid_rows", "expected \(count) rows of \(features.count) features") }
        var matrix: DMatrixHandle?
        try Self.check(
            rows.withUnsafeBufferPointer { XGDMatrixCreateFromMat($0.baseAddress, bst_ulong(count), bst_ulong(features.count), .nan, &matrix) },
            "creating the matrix")
        defer { XGDMatrixFree(matrix) }
        var length: bst_ulong = 0
        var result: UnsafePointer<Float>?
        return try lock.withLock { _ throws(StrataError) -> [Float] in
            try Self.check(XGBoosterPredict(booster, matrix, 0, 0, 0, &length, &result), "predicting")
            guard let result else { return [] }
            return Array(UnsafeBufferPointer(start: result, count: Int(length)))
        }
    }
}

/// NDCG@k of one group's labels in a given order.
public enum GroupNDCG {
    /// `labels` in ranked order; ideal = sorted descending.
    public static func ndcg(rankedLabels labels: [Float], k: Int = 10) -> Double {
        func dcg(_ values: [Float]) -> Double {
            values.prefix(k).enumerated().reduce(0) { $0 + Double($1.element) / log2(Double($1.offset) + 2) }
        }
        let ideal = dcg(labels.sorted(by: >))
        return ideal > 0 ? dcg(labels) / ideal : 0
    }
}
