import StrataCore

/// A dense rows × columns matrix of Float, row-major and contiguous (one row per user or item).
public struct FactorMatrix: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    public var storage: [Float]

    public init(rows: Int, columns: Int, repeating value: Float = 0) {
        self.rows = rows
        self.columns = columns
        self.storage = [Float](repeating: value, count: rows * columns)
    }

    public init(rows: Int, columns: Int, storage: [Float]) {
        precondition(storage.count == rows * columns, "storage size must be rows × columns")
        self.rows = rows
        self.columns = columns
        self.storage = storage
    }

    /// Uniform random values in [low, high), from a seeded SplitMix64 (deterministic).
    public static func random(rows: Int, columns: Int, low: Float, high: Float, rng: inout SplitMix64) -> FactorMatrix {
        var matrix = FactorMatrix(rows: rows, columns: columns)
        for index in matrix.storage.indices { matrix.storage[index] = low + (high - low) * Float(rng.nextDouble()) }
        return matrix
    }

    public func row(_ row: Int) -> ArraySlice<Float> { storage[(row * columns)..<((row + 1) * columns)] }

    public var byteSize: Int { storage.count * 4 }
}
