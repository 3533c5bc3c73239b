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
    /// items × items, row j holding item j's neighbours and similarities.
    public let similarity: CSRMatrix

    public var parameters: [String: Double] { ["neighbors": Double(neighbors), "shrinkage": Double(shrinkage)] }

    public static func fit(_ data: InteractionData, neighbors: Int, shrinkage: Float, threads: Int) -> ItemKNNModel {
        let userItems = data.positives
        let itemUsers = userItems.transposed()
        let itemCount = data.items.count
        let norms = (0..<itemCount).map { item in itemUsers.row(item).values.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() }
        // Each chunk of items computes its rows independently into its own slot.
        let chunk = 64
        let chunkCount = (itemCount + chunk - 1) / chunk
        let results = ChunkResults<(indices: [Int32], values: [Float], lengths: [Int])>(count: chunkCount)
        let k = max(1, neighbors)
        Parallel.forEachChunk(itemCount, chunkSize: chunk, threads: threads) { range in
            // Double accumulation, like `implicit`: equal similarities stay exactly equal, so
            // ties are broken by index rather than by rounding noise.
            var accumulator = [Double](repeating: 0, count: itemCount)
            var touched: [Int32] = []
            var indices: [Int32] = []
            var values: [Float] = []
            var lengths: [Int] = []
            var kept: [(index: Int, score: Float)] = []
            kept.reserveCapacity(k)
            userItems.indptr.withUnsafeBufferPointer { userPtr in
                userItems.indices.withUnsafeBufferPointer { userItemIndices in
                    userItems.values.withUnsafeBufferPointer { userItemValues in
                        itemUsers.indptr.withUnsafeBufferPointer { itemPtr in
                            itemUsers.indices.withUnsafeBufferPointer { itemUserIndices in
                                itemUsers.values.withUnsafeBufferPointer { itemUserValues in
                                    accumulator.withUnsafeMutableBufferPointer { acc in
                                        for item in range {
                                            for ownerPosition in itemPtr[item]..<itemPtr[item + 1] {
                                                let user = Int(itemUserIndices[ownerPosition])
                                                let weight = Double(itemUserValues[ownerPosition])
                                                for position in userPtr[user]..<userPtr[user + 1] {
                                                    let other = Int(userItemIndices[position])
                                                    if acc[other] == 0 { touched.append(Int32(other)) }
                                                    acc[other] += weight * Double(userItemValues[position])
                                                }
                                            }
                                            // Top-K by similarity; equal similarities go to the higher item
                                            // index, as in `implicit`'s all-pairs kNN.
                                            kept.removeAll(keepingCapacity: true)
                                            let norm = norms[item]
                                            for other in touched {
                                                let denominator = norm * norms[Int(other)] + Double(shrinkage)
                                                let score = denominator > 0 ? acc[Int(other)] / denominator : 0
                                                acc[Int(other)] = 0
                                                guard denominator > 0 else { continue }
                                                TopKHeap.offer((Int(other), Float(score)), into: &kept, capacity: k)
                                            }
                                            touched.removeAll(keepingCapacity: true)
                                            kept.sort { $0.index < $1.index }
                                            indices += kept.map { Int32($0.index) }
                                            values += kept.map(\.score)
                                            lengths.append(kept.count)
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
        var values: [Float] = []
        for part in results.values {
            guard let part else { continue }
            for length in part.lengths { indptr.append(indptr.last! + length) }
            indices += part.indices
            values += part.values
        }
        return ItemKNNModel(
            neighbors: neighbors, shrinkage: shrinkage, users: data.users, items: data.items,
            similarity: CSRMatrix(rows: itemCount, columns: itemCount, indptr: indptr, indices: indices, values: values))
    }

    init(neighbors: Int, shrinkage: Float, users: IDMap, items: IDMap, similarity: CSRMatrix) {
        self.neighbors = neighbors
        self.shrinkage = shrinkage
        self.users = users
        self.items = items
        self.similarity = similarity
    }

    public func score(_ query: UserQuery, into scores: UnsafeMutableBufferPointer<Float>) {
        var sums = [Double](repeating: 0, count: scores.count)
        for (item, weight) in zip(query.items, query.weights) where weight > 0 && Int(item) < similarity.rows {
            let (others, similarities) = similarity.row(Int(item))
            for (other, value) in zip(others, similarities) { sums[Int(other)] += Double(weight) * Double(value) }
        }
        for index in 0..<scores.count { scores[index] = Float(sums[index]) }
    }

    public func similarItems(to item: Int32, n: Int) -> [(index: Int32, score: Float)] {
        let (others, similarities) = similarity.row(Int(item))
        return zip(others, similarities).filter { $0.0 != item }.sorted { ($0.1, -$0.0) > ($1.1, -$1.0) }.prefix(n).map { ($0.0, $0.1) }
    }

    public func artifact() -> ModelArtifact {
        var artifact = ModelArtifact(algorithm: .itemKNN, parameters: parameters, metadata: ["items": similarity.rows])
        artifact.offsets = ["similarity_indptr": similarity.indptr]
        artifact.ints = ["similarity_indices": similarity.indices]
        artifact.floats = ["similarity_values": similarity.values]
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
        self.init(
            neighbors: Int(artifact.parameters["neighbors"] ?? 0), shrinkage: Float(artifact.parameters["shrinkage"] ?? 0), users: try artifact.ids("users"),
            items: try artifact.ids("items"),
            similarity: CSRMatrix(
                rows: count, columns: count, indptr: indptr, indices: indices, values: try artifact.floats("similarity_values", count: indices.count)))
    }
}

/// One slot per chunk, written by whichever thread ran the chunk and read after all finish.
final class ChunkResults<Value>: @unchecked Sendable {
    private(set) var values: [Value?]
    private let lock = NSLock()

    init(count: Int) {
        values = Array(repeating: nil, count: count)
    }

    func set(_ index: Int, _ value: Value) {
        lock.lock()
        values[index] = value
        lock.unlock()
    }
}
