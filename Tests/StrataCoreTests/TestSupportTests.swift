import Foundation
import StrataTesting
import Testing

/// The test library's own promises, which every suite leans on: a child process never hangs a
/// test (it is killed past its timeout, and pipes that fill both ways are read), and collected
/// async values are waited for with a deadline.
@Suite struct TestSupportTests {
    @Test func aChildPastItsTimeoutIsKilledAndNamed() throws {
        let started = ContinuousClock.now
        #expect {
            _ = try runProcess("/bin/sh", ["-c", "echo before; exec sleep 60"], timeout: .seconds(1))
        } throws: { error in
            let text = "\(error)"
            return error is WaitFailed && text.contains("ran past") && text.contains("sleep 60") && text.contains("before")
        }
        #expect(ContinuousClock.now - started < .seconds(30), "the call returned soon after the timeout, not when the child would have ended")
    }

    @Test func bothPipesAreReadWhateverTheirSize() throws {
        // 256 KiB on each stream: four times what a pipe holds, so an unread one would block the child.
        let script = "head -c 262144 /dev/zero | tr '\\0' o; head -c 262144 /dev/zero | tr '\\0' e >&2; exit 3"
        let result = try runProcess("/bin/sh", ["-c", script])
        #expect(result.status == 3)
        #expect(result.output.utf8.count == 262_144 && result.output.allSatisfy { $0 == "o" })
        #expect(result.errors.utf8.count == 262_144 && result.errors.allSatisfy { $0 == "e" })
    }

    @Test func collectedValuesArriveInOrder() async throws {
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let collected = Collected(stream)
        defer { collected.cancel() }
        for value in 1...5 { continuation.yield(value) }
        #expect(try await collected.waitFor(5, "five values") == [1, 2, 3, 4, 5])
        continuation.finish()
    }

    @Test func waitingForValuesThatNeverComeGivesUpWithItsDescription() async throws {
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let collected = Collected(stream)
        defer { collected.cancel() }
        continuation.yield(1)
        try await collected.waitFor(1, "the first value")
        await #expect {
            try await collected.waitFor(2, "a second value", timeout: .milliseconds(300))
        } throws: { error in
            "\(error)".contains("a second value")
        }
        #expect(collected.all == [1])
    }
}
