import StrataCore

/// The state of an iterative fit after some iterations: enough to continue it and end with
/// exactly the model an uninterrupted fit gives.
public struct FitCheckpoint: Sendable, Equatable {
    public var algorithm: Algorithm
    /// Iterations completed.
    public var iteration: Int
    /// The random generator's state at that point.
    public var rngState: UInt64
    public var floats: [String: [Float]]
    public var ints: [String: [Int32]]

    public init(algorithm: Algorithm, iteration: Int, rngState: UInt64, floats: [String: [Float]], ints: [String: [Int32]] = [:]) {
        self.algorithm = algorithm
        self.iteration = iteration
        self.rngState = rngState
        self.floats = floats
        self.ints = ints
    }

    /// Bytes in the artifact format (deterministic).
    public func encoded() -> [UInt8] {
        var artifact = ModelArtifact(algorithm: algorithm, parameters: [:], metadata: ["checkpoint_iteration": iteration])
        artifact.floats = floats
        artifact.ints = ints
        // The generator's 64-bit state as two 32-bit halves (metadata holds Int).
        artifact.ints["rng_state"] = [Int32(bitPattern: UInt32(truncatingIfNeeded: rngState >> 32)), Int32(bitPattern: UInt32(truncatingIfNeeded: rngState))]
        return artifact.encoded()
    }

    public init(decoding bytes: [UInt8]) throws(StrataError) {
        var artifact = try ModelArtifact(decoding: bytes)
        guard let iteration = artifact.metadata["checkpoint_iteration"], let halves = artifact.ints.removeValue(forKey: "rng_state"), halves.count == 2 else {
            throw StrataError.invalid("invalid_checkpoint", "not a training checkpoint")
        }
        self.init(
            algorithm: artifact.algorithm, iteration: iteration, rngState: UInt64(UInt32(bitPattern: halves[0])) << 32 | UInt64(UInt32(bitPattern: halves[1])),
            floats: artifact.floats, ints: artifact.ints)
    }
}

/// How a fit checkpoints and where it starts: `resume` continues a checkpoint; `save` is
/// called every `every` iterations (and may throw to stop the fit).
public struct FitControl {
    public var resume: FitCheckpoint?
    public var every: Int
    public var save: (FitCheckpoint) throws -> Void

    public init(resume: FitCheckpoint? = nil, every: Int = 0, save: @escaping (FitCheckpoint) throws -> Void = { _ in }) {
        self.resume = resume
        self.every = every
        self.save = save
    }

    func shouldSave(after iteration: Int, of total: Int) -> Bool {
        every > 0 && iteration % every == 0 && iteration < total
    }
}
