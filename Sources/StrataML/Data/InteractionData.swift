import StrataCore

/// Training data: a user × item matrix of accumulated interaction weights, with the id maps.
/// Positive cells are things users engaged with; negative cells (from negative event types)
/// are explicit dislikes.
public struct InteractionData: Sendable {
    public var users: IDMap
    public var items: IDMap
    /// users × items, accumulated signed weights.
    public var matrix: CSRMatrix

    public init(users: IDMap, items: IDMap, matrix: CSRMatrix) {
        precondition(matrix.rows == users.count && matrix.columns == items.count, "matrix shape and id maps disagree")
        self.users = users
        self.items = items
        self.matrix = matrix
    }

    /// Positive interactions only, as a matrix of their weights.
    public var positives: CSRMatrix {
        var indptr = [0]
        var indices: [Int32] = []
        var values: [Float] = []
        for row in 0..<matrix.rows {
            let (columns, weights) = matrix.row(row)
            for (column, weight) in zip(columns, weights) where weight > 0 {
                indices.append(column)
                values.append(weight)
            }
            indptr.append(indices.count)
        }
        return CSRMatrix(rows: matrix.rows, columns: matrix.columns, indptr: indptr, indices: indices, values: values)
    }
}

/// Accumulates interactions (by string ids) into `InteractionData`.
public struct InteractionBuilder: Sendable {
    public private(set) var users = IDMap()
    public private(set) var items = IDMap()
    private var triplets: [(row: Int32, column: Int32, value: Float)] = []

    public init() {}

    /// Declares items (a catalog) so they are indexed even without interactions.
    public mutating func addItems(_ ids: some Sequence<String>) {
        for id in ids { _ = items.insert(id) }
    }

    public mutating func add(user: String, item: String, weight: Float) {
        triplets.append((users.insert(user), items.insert(item), weight))
    }

    public func build() -> InteractionData {
        InteractionData(users: users, items: items, matrix: CSRMatrix(rows: users.count, columns: items.count, triplets: triplets))
    }
}
