/// Picking the n best-scoring indices: a bounded min-heap, O(count · log n). Ties go to the
/// lower index, so results are deterministic.
public enum TopK {
    /// The indices of the `n` highest finite scores, best first; `excluded` indices are skipped.
    public static func select(_ scores: UnsafeBufferPointer<Float>, n: Int, excluded: (Int) -> Bool = { _ in false }) -> [(index: Int, score: Float)] {
        guard n > 0 else { return [] }
        // "a ranks below b": a lower score, or an equal score and a higher index.
        var heap = BoundedMinHeap<Float>(capacity: n, below: { a, b in a.score < b.score || (a.score == b.score && a.index > b.index) })
        // Once the heap is full, most scores fall below its root: reject those without calls.
        var floor = -Float.infinity
        for index in 0..<scores.count {
            let score = scores[index]
            guard score >= floor, score.isFinite, !excluded(index) else { continue }
            heap.offer((index, score))
            if heap.elements.count == n { floor = heap.elements[0].score }
        }
        return heap.elements.sorted { heap.below($1, $0) }
    }
}

/// The K best of a stream of scored indices: a min-heap whose root is the worst kept element
/// under `below`; once full, a candidate replaces the root when `admits(root, candidate)`
/// (by default, when the root ranks below it).
struct BoundedMinHeap<Score> {
    typealias Element = (index: Int, score: Score)
    let capacity: Int
    let below: (Element, Element) -> Bool
    let admits: (Element, Element) -> Bool
    private(set) var elements: [Element] = []

    init(capacity: Int, below: @escaping (Element, Element) -> Bool, admits: ((Element, Element) -> Bool)? = nil) {
        self.capacity = capacity
        self.below = below
        self.admits = admits ?? below
        elements.reserveCapacity(max(0, capacity))
    }

    mutating func offer(_ candidate: Element) {
        guard capacity > 0 else { return }
        if elements.count < capacity {
            elements.append(candidate)
            var child = elements.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard below(elements[child], elements[parent]) else { break }
                elements.swapAt(child, parent)
                child = parent
            }
        } else if admits(elements[0], candidate) {
            elements[0] = candidate
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var lowest = parent
                if left < elements.count && below(elements[left], elements[lowest]) { lowest = left }
                if right < elements.count && below(elements[right], elements[lowest]) { lowest = right }
                guard lowest != parent else { break }
                elements.swapAt(parent, lowest)
                parent = lowest
            }
        }
    }
}

/// `implicit`'s top-K rule, for models that reproduce its tie-breaking: candidates are offered in
/// a given order, the first K fill a min-heap on (score, index), and a later candidate replaces
/// the minimum only with a strictly higher score. Among equal scores, earlier offers win.
enum FirstComeTopK {
    static func heap<Score: Comparable>(capacity: Int) -> BoundedMinHeap<Score> {
        BoundedMinHeap(
            capacity: capacity, below: { a, b in a.score < b.score || (a.score == b.score && a.index < b.index) },
            admits: { root, candidate in candidate.score > root.score })
    }
}
