/// A sparse matrix in compressed sparse row form: row r's column indices are
/// `indices[indptr[r]..<indptr[r+1]]` (ascending) with `values` alongside.
public struct CSRMatrix: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    public private(set) var indptr: [Int]
    public private(set) var indices: [Int32]
    public private(set) var values: [Float]

    public var nonZeros: Int { indices.count }

    public init(rows: Int, columns: Int, indptr: [Int], indices: [Int32], values: [Float]) {
        precondition(indptr.count == rows + 1 && indices.count == values.count && indptr.last == indices.count, "inconsistent CSR arrays")
        self.rows = rows
        self.columns = columns
        self.indptr = indptr
        self.indices = indices
        self.values = values
    }

    /// Builds a matrix from (row, column, value) triplets; values of repeated cells add up.
    /// Cells whose sum is exactly zero are dropped.
    public init(rows: Int, columns: Int, triplets: [(row: Int32, column: Int32, value: Float)]) {
        var counts = [Int](repeating: 0, count: rows + 1)
        for triplet in triplets { counts[Int(triplet.row) + 1] += 1 }
        for row in 0..<rows { counts[row + 1] += counts[row] }
        var next = counts
        var columnsOf = [Int32](repeating: 0, count: triplets.count)
        var valuesOf = [Float](repeating: 0, count: triplets.count)
        for triplet in triplets {
            let position = next[Int(triplet.row)]
            columnsOf[position] = triplet.column
            valuesOf[position] = triplet.value
            next[Int(triplet.row)] += 1
        }
        var indptr = [0]
        var indices: [Int32] = []
        var values: [Float] = []
        indptr.reserveCapacity(rows + 1)
        indices.reserveCapacity(triplets.count)
        values.reserveCapacity(triplets.count)
        for row in 0..<rows {
            let range = counts[row]..<counts[row + 1]
            // Stable sort by column, then merge duplicates in their original order.
            let order = range.sorted { (columnsOf[$0], $0) < (columnsOf[$1], $1) }
            var index = 0
            while index < order.count {
                let column = columnsOf[order[index]]
                var sum: Float = 0
                while index < order.count && columnsOf[order[index]] == column {
                    sum += valuesOf[order[index]]
                    index += 1
                }
                if sum != 0 {
                    indices.append(column)
                    values.append(sum)
                }
            }
            indptr.append(indices.count)
        }
        self.init(rows: rows, columns: columns, indptr: indptr, indices: indices, values: values)
    }

    /// The column indices and values of one row.
    @inline(__always)
    public func row(_ row: Int) -> (indices: ArraySlice<Int32>, values: ArraySlice<Float>) {
        let range = indptr[row]..<indptr[row + 1]
        return (indices[range], values[range])
    }

    public func rowLength(_ row: Int) -> Int { indptr[row + 1] - indptr[row] }

    /// Whether the row holds a column (binary search).
    public func contains(row: Int, column: Int32) -> Bool {
        var low = indptr[row]
        var high = indptr[row + 1]
        while low < high {
            let mid = (low + high) / 2
            if indices[mid] < column { low = mid + 1 } else { high = mid }
        }
        return low < indptr[row + 1] && indices[low] == column
    }

    /// The transpose (columns become rows), in O(nnz).
    public func transposed() -> CSRMatrix {
        var counts = [Int](repeating: 0, count: columns + 1)
        for column in indices { counts[Int(column) + 1] += 1 }
        for column in 0..<columns { counts[column + 1] += counts[column] }
        var next = counts
        var newIndices = [Int32](repeating: 0, count: nonZeros)
        var newValues = [Float](repeating: 0, count: nonZeros)
        for row in 0..<rows {
            for position in indptr[row]..<indptr[row + 1] {
                let column = Int(indices[position])
                newIndices[next[column]] = Int32(row)
                newValues[next[column]] = values[position]
                next[column] += 1
            }
        }
        return CSRMatrix(rows: columns, columns: rows, indptr: counts, indices: newIndices, values: newValues)
    }

    /// Bytes held by the three arrays.
    public var byteSize: Int { indptr.count * 8 + indices.count * 4 + values.count * 4 }

    /// The same structure with every value replaced (e.g. positives only, confidences).
    public func mapValues(_ transform: (Float) -> Float) -> CSRMatrix {
        CSRMatrix(rows: rows, columns: columns, indptr: indptr, indices: indices, values: values.map(transform))
    }
}
