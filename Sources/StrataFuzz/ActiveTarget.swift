import Synchronization

/// The target this process fuzzes, chosen once from the command line before libFuzzer starts:
/// libFuzzer's callback is a C function pointer and cannot capture it.
enum ActiveTarget {
    private static let current = Mutex<FuzzTarget?>(nil)

    static func set(_ target: FuzzTarget) { current.withLock { $0 = target } }

    static func run(_ input: UnsafeRawBufferPointer) {
        guard let target = current.withLock({ $0 }) else { fatalError("no fuzz target chosen") }
        target.run(input)
    }
}

#if STRATA_FUZZING
    /// libFuzzer's conventional entry point. The driver is started through LLVMFuzzerRunDriver,
    /// but a debug link still pulls in libFuzzer's own main, which refers to this symbol.
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        ActiveTarget.run(UnsafeRawBufferPointer(start: data, count: size))
        return 0
    }
#endif
