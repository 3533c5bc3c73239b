import Synchronization

/// What an async sequence yields, collected by a task of its own so that a test waits for it
/// with a deadline: `await iterator.next()` on a message that never comes hangs the whole run.
public final class Collected<Element: Sendable>: Sendable {
    private let elements: Elements
    private let task: Task<Void, Never>

    /// The collected elements, shared with the collecting task.
    private final class Elements: Sendable {
        let list = Mutex<[Element]>([])
        func withLock<T>(_ body: (inout [Element]) -> T) -> T { list.withLock { body(&$0) } }
    }

    public init<Sequence: AsyncSequence & Sendable>(_ sequence: Sequence) where Sequence.Element == Element {
        let elements = Elements()
        self.elements = elements
        task = Task {
            do {
                for try await element in sequence { elements.withLock { $0.append(element) } }
            } catch {
                // The sequence failed: what it yielded before stays collected.
            }
        }
    }

    deinit { cancel() }

    /// Everything collected so far, in order.
    public var all: [Element] { elements.withLock { $0 } }

    /// Stops collecting (and ends the sequence's iteration).
    public func cancel() { task.cancel() }

    /// Waits until at least `count` elements have arrived and answers them. Throws after
    /// `timeout`, which only bounds a hang.
    @discardableResult
    public func waitFor(_ count: Int, _ description: String, timeout: Duration = .seconds(60)) async throws -> [Element] {
        try await waitUntil(description, timeout: timeout) { elements.withLock { $0.count } >= count }
        return all
    }
}
