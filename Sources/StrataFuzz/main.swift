// strata-fuzz: coverage-guided fuzzing of the parsers that take outside input (scripts/fuzz.sh).
//
//   strata-fuzz TARGET [libFuzzer options] [CORPUS_DIR...]   in a fuzzing build (-DSTRATA_FUZZING,
//                                                            -sanitize=fuzzer): libFuzzer runs
//   strata-fuzz TARGET FILE_OR_DIR...                         in a normal build: replays inputs
//
// libFuzzer is driven through LLVMFuzzerRunDriver rather than its own main, because a SwiftPM
// executable always has a main of its own; this also lets one binary hold every target.
import Foundation

#if STRATA_FUZZING
    import CFuzzDriver
#endif

let arguments = CommandLine.arguments
guard arguments.count >= 2, let target = FuzzTarget.named(arguments[1]) else {
    let names = FuzzTarget.all.map { "  \($0.name): \($0.summary)" }.joined(separator: "\n")
    FileHandle.standardError.write(Data("usage: strata-fuzz TARGET [options] [corpus...]\ntargets:\n\(names)\n".utf8))
    exit(2)
}
ActiveTarget.set(target)

#if STRATA_FUZZING
    // libFuzzer reads its own options and corpus folders; the target name is not one of them.
    var driverArguments = [arguments[0]] + arguments.dropFirst(2)
    var argc = CInt(driverArguments.count)
    var cStrings: [UnsafeMutablePointer<CChar>?] = driverArguments.map { strdup($0) } + [nil]
    let status = cStrings.withUnsafeMutableBufferPointer { buffer -> CInt in
        var argv = buffer.baseAddress
        return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            ActiveTarget.run(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        }
    }
    exit(status)
#else
    exit(ReplayRunner.replay(paths: Array(arguments.dropFirst(2))))
#endif
