/// One input format under fuzzing: the code that must answer every byte string with a value or
/// a thrown error, never a crash, a hang or unbounded memory.
struct FuzzTarget: Sendable {
    let name: String
    let summary: String
    /// Runs one input; a violated invariant stops the process (libFuzzer records the input).
    let run: @Sendable (UnsafeRawBufferPointer) -> Void

    static let all: [FuzzTarget] = [.eventParser, .contractLoader, .parquetReader]

    static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}

/// Stops the process with a message when an invariant does not hold; libFuzzer treats the
/// abort as a finding and saves the input.
func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("invariant violated: \(message())") }
}
