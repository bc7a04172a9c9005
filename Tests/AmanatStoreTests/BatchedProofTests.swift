import AmanatCrypto
import AmanatLog
import Foundation
import Testing

@testable import AmanatStore

/// `seal` makes the inclusion proofs of a bundle's versions in batches (``Store/inclusionProofs(indexes:size:sharedLevel:)``):
/// the lower siblings of every leaf are read ahead in a few statements, the upper ones shared between leaves.
@Suite("Inclusion proofs in batches")
struct BatchedProofTests {
    static let logLength = 1337

    /// A store whose log holds `logLength` entries.
    static func store() throws -> Store {
        let store = try Store()
        let entries = try (0..<logLength).map { i in
            try LogEntry(kind: .publication, digest: try SHA256.hash(Array("synthetic entry \(i)".utf8)))
        }
        #expect(try store.appendToLog(entries).count == logLength)
        return store
    }

    /// Leaves dense, sparse, repeated and out of order, under trees of sizes that are and are not powers of two:
    /// each batched proof equals the proof made alone.
    @Test(arguments: [1, 2, 63, 64, 65, 1000, 1337])
    func equalTheProofsMadeOneAtATime(size: Int) throws {
        let store = try Self.store()
        let n = UInt64(size)
        var generator = SystemRandomNumberGenerator()
        let dense = Array(0..<n)
        let sparse = (0..<40).map { _ in UInt64.random(in: 0..<n, using: &generator) }
        var checked = 0
        for leaves in [dense, sparse, Array(dense.reversed()), sparse + sparse] {
            let proofs = try store.inclusionProofs(indexes: leaves, size: n)
            #expect(proofs.count == leaves.count)
            for (leaf, proof) in zip(leaves, proofs) {
                #expect(proof == (try store.inclusionProof(index: leaf, size: n)))
                checked += 1
            }
        }
        #expect(checked == 2 * size + 3 * 40)
    }
}
