import Foundation
import StrataCore

/// Item-based k-nearest neighbours: cosine similarity between items' user vectors (positive
/// interaction weights), with shrinkage sim = a·b / (|a||b| + shrinkage), each item keeping its
/// top-K neighbours (itself included, as in `implicit`). A user's score for an item is the
/// weighted sum of the similarities from the items in their history.
public struct ItemKNNModel: Recommender {
    public let algorithm = Algorithm.itemKNN
    public let neighbors: Int
    public let shrinkage: Float
    public let users: IDMap
    public let items: IDMap
    /// items × items: row j's neighbours (`indptr`/`indices` as CSR) and their similarities, in
    /// double precision as `implicit` keeps them (so equal similarities stay exactly equal).
    public let neighborIndptr: [Int]
    public let neighborIndices: [Int32]
    public let neighborSimilarities: [Double]

    public var parameters: [String: Double] { ["neighbors": Double(neighbors), "shrinkage": Double(shrinkage)] }

    public static func fit(_ data: InteractionData, neighbors: Int, shrinkage: Float, threads: Int) -> ItemKNNModel {
        let userItems = data.positives
        let itemUsers = userItems.transposed()
        let itemCount = data.items.count
        // Cosine as `implicit` computes it: each item's column normalised first (squares in
        // Float, sums and roots in Double), then dot products of the normalised values, so that
        // equal similarities come out bit-equal and ties break the same way.
        let norms = (0..<itemCount).map { item in itemUsers.row(item).values.reduce(0.0) { $0 + Double($1 * $1) }.squareRoot() }
        let userItemNormalized = zip(userItems.indices, userItems.values).map { item, weight in Double(weight) / norms[Int(item)] }
        let itemUserNormalized = (0..<itemCount).flatMap { item in
            itemUsers.row(item).values.map { Double($0) / norms[item] }
        }
        // Each chunk of items computes its rows independently into its own slot.
        let chunk = 64
        let chunkCount = (itemCount + chunk - 1) / chunk
        let results = ChunkResults<(indices: [Int32], values: [Double], lengths: [Int])>(count: chunkCount)
        let k = max(1, neighbors)
        Parallel.forEachChunk(itemCount, chunkSize: chunk, threads: threads) { range in
            // Double accumulation, like `implicit`: equal similarities stay exactly equal, so
            // ties are broken by index rather than by rounding noise.
            var accumulator = [Double](repeating: 0, count: itemCount)
            var touched: [Int32] = []
            var indices: [Int32] = []
            var values: [Double] = []
            var lengths: [Int] = []

            userItems.indptr.withUnsafeBufferPointer { userPtr in
                userItems.indices.withUnsafeBufferPointer { userItemIndices in
                    userItemNormalized.withUnsafeBufferPointer { userItemValues in
                        itemUsers.indptr.withUnsafeBufferPointer { itemPtr in
                            itemUsers.indices.withUnsafeBufferPointer { itemUserIndices in
                                itemUserNormalized.withUnsafeBufferPointer { itemUserValues in
                                    accumulator.withUnsafeMutableBufferPointer { acc in
                                        for item in range {
                                            for ownerPosition in itemPtr[item]..<itemPtr[item + 1] {
                                                let user = Int(itemUserIndices[ownerPosition])
                                                let weight = itemUserValues[ownerPosition]
                                                for position in userPtr[user]..<userPtr[user + 1] {
                                                    let other = Int(userItemIndices[position])
                                                    if acc[other] == 0 { touched.append(Int32(other)) }
                                                    acc[other] += userItemValues[position] * weight
                                                }
                                            }
                                            // Top-K by similarity with `implicit`'s tie rule: candidates in
                                            // reverse order of first touch, first come first kept.
                                            var kept: BoundedMinHeap<Double> = FirstComeTopK.heap(capacity: k)
                                            let norm = norms[item]
                                            for other in touched.reversed() {
                                                // acc is already the cosine; shrinkage scales it by
                                                // |a||b| / (|a||b| + shrinkage).
                                                let product = norm * norms[Int(other)]
                                                let score = shrinkage == 0 ? acc[Int(other)] : acc[Int(other)] * product / (product + Double(shrinkage))
                                                acc[Int(other)] = 0
                                                kept.offer((Int(other), score))
                                            }
                                            touched.removeAll(keepingCapacity: true)
                                            let neighbours = kept.elements.sorted { $0.index < $1.index }
                                            indices += neighbours.map { Int32($0.index) }
                                            values += neighbours.map(\.score)
                                            lengths.append(neighbours.count)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            results.set(range.lowerBound / chunk, (indices, values, lengths))
        }
        var indptr = [0]
        var indices: [Int32] = []
        var values: [Double] = []
        for part in results.values {
            guard let part else { continue }
            for length in part.lengths { indptr.append(indptr.last! + length) }
            indices += part.indices
            values += part.values
        }
        return ItemKNNModel(
            neighbors: neighbors, shrinkage: shrinkage, users: data.users, items: data.items, neighborIndptr: indptr, neighborIndices: indices,
            neighborSimilarities: values)
    }

    init(neighbors: Int, shrinkage: Float, users: IDMap, items: IDMap, neighborIndptr: [Int], neighborIndices: [Int32], neighborSimilarities: [Double]) {
        self.neighbors = neighbors
        self.shrinkage = shrinkage
        self.users = users
        self.items = items
        self.neighborIndptr = neighborIndptr
        self.neighborIndices = neighborIndices
        self.neighborSimilarities = neighborSimilarities
    }

    /// Item j's neighbours and their similarities.
    func neighbors(of item: Int) -> Zip2Sequence<ArraySlice<Int32>, ArraySlice<Double>> {
        let range = neighborIndptr[item]..<neighborIndptr[item + 1]
        return zip(neighborIndices[range], neighborSimilarities[range])
    }

    public func score(_ query: UserQuery, into scores: UnsafeMutableBufferPointer<Float>) {
        var sums = [Double](repeating: 0, count: scores.count)
        for (item, weight) in zip(query.items, query.weights) where weight > 0 && Int(item) < items.count {
            for (other, value) in neighbors(of: Int(item)) { sums[Int(other)] += Double(weight) * value }
        }
        for index in 0..<scores.count { scores[index] = Float(sums[index]) }
    }

    /// Recommendation with `implicit`'s tie rule (candidates in reverse order of first touch,
    /// first come first kept, in double precision); items no neighbour reaches follow by index
    /// when fewer than `n` remain.
    public func recommend(_ query: UserQuery, n: Int, excluding excluded: Set<Int32> = []) -> [(index: Int32, score: Float)] {
        var sums = [Double](repeating: 0, count: items.count)
        var touched: [Int32] = []
        var masked = Set(query.items)
        masked.formUnion(excluded)
        for (item, weight) in zip(query.items, query.weights) where weight > 0 && Int(item) < items.count {
            for (other, value) in neighbors(of: Int(item)) {
                if sums[Int(other)] == 0 { touched.append(other) }
                sums[Int(other)] += Double(weight) * value
            }
        }
        var heap: BoundedMinHeap<Double> = FirstComeTopK.heap(capacity: n)
        for item in touched.reversed() where !masked.contains(item) && sums[Int(item)] != 0 {
            heap.offer((Int(item), sums[Int(item)]))
        }
        var result = heap.elements.sorted { ($0.score, -$0.index) > ($1.score, -$1.index) }.map { (Int32($0.index), Float($0.score)) }
        var next: Int32 = 0
        while result.count < n && Int(next) < items.count {
            if sums[Int(next)] == 0 && !masked.contains(next) { result.append((next, 0)) }
            next += 1
        }
        return result
    }

    public func similarItems(to item: Int32, n: Int) -> [(index: Int32, score: Float)] {
        neighbors(of: Int(item)).filter { $0.0 != item }.sorted { ($0.1, -$0.0) > ($1.1, -$1.0) }.prefix(n).map { ($0.0, Float($0.1)) }
    }

    public func artifact() -> ModelArtifact {
        var artifact = ModelArtifact(algorithm: .itemKNN, parameters: parameters, metadata: ["items": items.count])
        artifact.offsets = ["similarity_indptr": neighborIndptr]
        artifact.ints = ["similarity_indices": neighborIndices]
        artifact.doubles = ["similarity_values": neighborSimilarities]
        artifact.idLists = ["users": users.ids, "items": items.ids]
        return artifact
    }

    public init(artifact: ModelArtifact) throws(StrataError) {
        try artifact.checkAlgorithm(.itemKNN)
        let count = try artifact.shape("items")
        guard let indptr = artifact.offsets["similarity_indptr"], let indices = artifact.ints["similarity_indices"], indptr.count == count + 1,
            indptr.last == indices.count, indptr.first == 0, zip(indptr, indptr.dropFirst()).allSatisfy({ $0 <= $1 }),
            indices.allSatisfy({ $0 >= 0 && Int($0) < count })
        else { throw StrataError.invalid("invalid_artifact", "the similarity matrix of the artifact is inconsistent") }
        guard let values = artifact.doubles["similarity_values"], values.count == indices.count else {
            throw StrataError.invalid("invalid_artifact", "the similarity values of the artifact are missing")
        }
        self.init(
            neighbors: Int(artifact.parameters["neighbors"] ?? 0), shrinkage: Float(artifact.parameters["shrinkage"] ?? 0), users: try artifact.ids("users"),
            items: try artifact.ids("items"), neighborIndptr: indptr, neighborIndices: indices, neighborSimilarities: values)
    }
}
