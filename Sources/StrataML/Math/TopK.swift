/// Picking the n best-scoring indices: a bounded min-heap, O(count · log n). Ties go to the
/// lower index, so results are deterministic.
public enum TopK {
    /// The indices of the `n` highest finite scores, best first; `excluded` indices are skipped.
    public static func select(_ scores: UnsafeBufferPointer<Float>, n: Int, excluded: (Int) -> Bool = { _ in false }) -> [(index: Int, score: Float)] {
        guard n > 0 else { return [] }
        var heap: [(index: Int, score: Float)] = []
        heap.reserveCapacity(n)
        // "a is worse than b": lower score, or equal score and higher index.
        @inline(__always) func worse(_ a: (index: Int, score: Float), _ b: (index: Int, score: Float)) -> Bool {
            a.score < b.score || (a.score == b.score && a.index > b.index)
        }
        for index in 0..<scores.count {
            let score = scores[index]
            guard score.isFinite, !excluded(index) else { continue }
            let candidate = (index, score)
            if heap.count < n {
                heap.append(candidate)
                var child = heap.count - 1
                while child > 0 {
                    let parent = (child - 1) / 2
                    guard worse(heap[child], heap[parent]) else { break }
                    heap.swapAt(child, parent)
                    child = parent
                }
            } else if worse(heap[0], candidate) {
                heap[0] = candidate
                var parent = 0
                while true {
                    let left = 2 * parent + 1
                    let right = left + 1
                    var smallest = parent
                    if left < heap.count && worse(heap[left], heap[smallest]) { smallest = left }
                    if right < heap.count && worse(heap[right], heap[smallest]) { smallest = right }
                    guard smallest != parent else { break }
                    heap.swapAt(parent, smallest)
                    parent = smallest
                }
            }
        }
        return heap.sorted { worse($1, $0) }
    }
}

/// `implicit`'s top-K rule, for models that reproduce its tie-breaking: candidates are offered in
/// a given order, the first K fill a min-heap on (score, index), and a later candidate replaces
/// the minimum only with a strictly higher score. Among equal scores, earlier offers win.
enum FirstComeTopK {
    @inline(__always)
    static func offer<Score: Comparable>(_ candidate: (index: Int, score: Score), into heap: inout [(index: Int, score: Score)], capacity: Int) {
        @inline(__always) func less(_ a: (index: Int, score: Score), _ b: (index: Int, score: Score)) -> Bool {
            a.score < b.score || (a.score == b.score && a.index < b.index)
        }
        guard capacity > 0 else { return }
        if heap.count < capacity {
            heap.append(candidate)
            var child = heap.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard less(heap[child], heap[parent]) else { break }
                heap.swapAt(child, parent)
                child = parent
            }
        } else if candidate.score > heap[0].score {
            heap[0] = candidate
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < heap.count && less(heap[left], heap[smallest]) { smallest = left }
                if right < heap.count && less(heap[right], heap[smallest]) { smallest = right }
                guard smallest != parent else { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
    }
}
