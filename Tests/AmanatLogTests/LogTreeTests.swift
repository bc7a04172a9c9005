import AmanatCrypto
import AmanatLog
import AmanatTestSupport
import Foundation
import Testing

/// The RFC 6962 Merkle tree: the test tree of RFC 6962's reference implementation (Certificate Transparency's
/// `merkle_tree_test.cc`, also in transparency-dev/merkle `testonly/constants.go`), typed in; then property tests
/// against a naive recursive MTH written from RFC 9162 §2.1.1.
@Suite struct LogTreeTests {
    /// The eight leaf inputs of the RFC 6962 test tree.
    static let leaves = [
        "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
    ]
    .map(Hex.decode)

    /// Its root hashes for sizes 0 to 8.
    static let roots = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ].map(Hex.decode)

    /// Its complete-subtree hashes by level, which the storage must hold after eight appends.
    static let levels = [
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
            "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
        ],
        [
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        ],
        [
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
    ].map { $0.map(Hex.decode) }

    @Test func rfc6962TestTree() throws {
        var storage = InMemoryLogHashStorage()
        #expect(try LogTree.rootHash(size: 0, in: storage) == Self.roots[0])
        #expect(try SHA256.hash([UInt8]()) == MerkleHash.emptyTree)
        for (index, leaf) in Self.leaves.enumerated() {
            try LogTree.append(leafHash: MerkleHash.leaf(leaf), at: UInt64(index), to: &storage)
            #expect(try LogTree.rootHash(size: UInt64(index + 1), in: storage) == Self.roots[index + 1])
            // Earlier roots stay reachable after later appends.
            for size in 0...(index + 1) {
                #expect(try LogTree.rootHash(size: UInt64(size), in: storage) == Self.roots[size])
            }
        }
        #expect(storage.leafCount == 8)
        for (level, hashes) in Self.levels.enumerated() {
            for (index, hash) in hashes.enumerated() {
                #expect(storage.hash(level: level, index: UInt64(index)) == hash, "level \(level) index \(index)")
            }
            #expect(storage.hash(level: level, index: UInt64(hashes.count)) == nil)
        }
    }

    /// RFC 9162 §2.1.1 MTH, recursively over the leaf hashes.
    static func naiveRoot(_ leafHashes: ArraySlice<LogHash>) throws -> LogHash {
        if leafHashes.isEmpty { return MerkleHash.emptyTree }
        if leafHashes.count == 1 { return leafHashes.first! }
        var k = 1
        while k * 2 < leafHashes.count { k *= 2 }
        let start = leafHashes.startIndex
        return try MerkleHash.node(
            naiveRoot(leafHashes[start..<start + k]), naiveRoot(leafHashes[(start + k)...]))
    }

    static func tree(size: Int, seed: UInt64) throws -> (InMemoryLogHashStorage, [LogHash]) {
        var random = SplitMix64(seed: seed)
        var storage = InMemoryLogHashStorage()
        var hashes: [LogHash] = []
        for index in 0..<size {
            let hash = try MerkleHash.leaf(random.bytes(Int(random.next() % 40)))
            hashes.append(hash)
            try LogTree.append(leafHash: hash, at: UInt64(index), to: &storage)
        }
        return (storage, hashes)
    }

    static func flipBit(_ proof: [LogHash], _ random: inout SplitMix64) -> [LogHash] {
        var proof = proof
        let which = Int(random.next() % UInt64(proof.count))
        proof[which][Int(random.next() % 32)] ^= UInt8(1) << (random.next() % 8)
        return proof
    }

    /// (A wrong tree size is not among the tampering cases: the size only steers left and right in verification,
    /// and sizes with the same path shape give the same verdict; the signed checkpoint binds size and root.)
    @Test func everyProofVerifiesAndTamperingFails() throws {
        var random = SplitMix64(seed: 0x6962)
        let (storage, leafHashes) = try Self.tree(size: 70, seed: 1)
        var roots: [LogHash] = [MerkleHash.emptyTree]
        for size in 1...70 {
            let root = try LogTree.rootHash(size: UInt64(size), in: storage)
            #expect(try root == Self.naiveRoot(leafHashes[0..<size]), "size \(size)")
            roots.append(root)
        }
        var checked = 0
        for size in 1...70 {
            let n = UInt64(size)
            for index in 0..<size {
                let i = UInt64(index)
                let proof = try LogTree.inclusionProof(index: i, size: n, in: storage)
                #expect(LogTree.inclusionProofLength(index: i, size: n) == proof.count, "index \(i) of \(n)")
                let leaf = leafHashes[index]
                #expect(LogTree.verifyInclusion(leafHash: leaf, index: i, size: n, proof: proof, rootHash: roots[size]))
                #expect(proof.count <= 7)
                if !proof.isEmpty {
                    let flipped = Self.flipBit(proof, &random)
                    #expect(
                        !LogTree.verifyInclusion(
                            leafHash: leaf, index: i, size: n, proof: flipped, rootHash: roots[size]))
                    #expect(
                        !LogTree.verifyInclusion(
                            leafHash: leaf, index: i, size: n, proof: Array(proof.dropLast()), rootHash: roots[size]))
                }
                #expect(
                    !LogTree.verifyInclusion(
                        leafHash: leaf, index: i, size: n, proof: proof + [leaf], rootHash: roots[size]))
                #expect(
                    !LogTree.verifyInclusion(
                        leafHash: leaf, index: (i + 1) % n, size: n, proof: proof, rootHash: roots[size]) || size == 1)
                #expect(
                    !LogTree.verifyInclusion(
                        leafHash: leafHashes[(index + 1) % 70], index: i, size: n, proof: proof, rootHash: roots[size]))
                checked += 1
            }
            for old in 1...size {
                let m = UInt64(old)
                let proof = try LogTree.consistencyProof(from: m, to: n, in: storage)
                #expect(
                    LogTree.verifyConsistency(
                        oldSize: m, newSize: n, oldRoot: roots[old], newRoot: roots[size], proof: proof))
                #expect(proof.count <= 14)
                if old < size {
                    #expect(!proof.isEmpty)
                    let flipped = Self.flipBit(proof, &random)
                    #expect(
                        !LogTree.verifyConsistency(
                            oldSize: m, newSize: n, oldRoot: roots[old], newRoot: roots[size], proof: flipped))
                    #expect(
                        !LogTree.verifyConsistency(
                            oldSize: m, newSize: n, oldRoot: roots[old], newRoot: roots[size - 1], proof: proof))
                    #expect(
                        !LogTree.verifyConsistency(
                            oldSize: m, newSize: n, oldRoot: roots[old - 1], newRoot: roots[size], proof: proof)
                            || old == 1)
                    #expect(
                        !LogTree.verifyConsistency(
                            oldSize: n, newSize: m, oldRoot: roots[size], newRoot: roots[old], proof: proof))
                }
                checked += 1
            }
        }
        #expect(checked == 70 * 71)
    }

    /// Proofs made in one batch (the right edge's unstored hashes computed once for all) equal proofs made one at a
    /// time, and verify.
    @Test func aBatchOfProofsEqualsProofsMadeAlone() throws {
        let (storage, leafHashes) = try Self.tree(size: 70, seed: 2)
        var checked = 0
        for size in [1, 2, 3, 5, 8, 13, 33, 64, 69, 70] {
            let n = UInt64(size)
            let root = try LogTree.rootHash(size: n, in: storage)
            let indexes = (0..<n).map { $0 } + (0..<n).reversed()
            let batch = try LogTree.inclusionProofs(indexes: indexes, size: n, in: storage)
            for (index, proof) in zip(indexes, batch) {
                #expect(proof == (try LogTree.inclusionProof(index: index, size: n, in: storage)))
                #expect(
                    LogTree.verifyInclusion(
                        leafHash: leafHashes[Int(index)], index: index, size: n, proof: proof, rootHash: root))
                checked += 1
            }
        }
        #expect(checked == 2 * (1 + 2 + 3 + 5 + 8 + 13 + 33 + 64 + 69 + 70))
        #expect(throws: LogError.self) { try LogTree.inclusionProofs(indexes: [0, 7], size: 7, in: storage) }
    }

    /// A bundle states the size of its version proofs before they are made: the size from the index, the number of
    /// hashes and the note's size is the size of the proof made.
    @Test func aProofsSizeIsKnownBeforeItsHashes() throws {
        let note = try SignedNote(parsing: SignedNoteTests.utf8(SignedNoteTests.specNote))
        var random = SplitMix64(seed: 0x7106)
        var checked = 0
        for size in [1, 2, 3, 7, 8, 9, 1000, 65_537, 1 << 40, (1 << 62) + 12345] as [UInt64] {
            for index in [0, size / 3, size - 1] + (0..<5).map({ _ in random.next() % size }) {
                let count = LogTree.inclusionProofLength(index: index, size: size)
                let hashes = (0..<count).map { _ in (0..<32).map { _ in UInt8(truncatingIfNeeded: random.next()) } }
                let proof = try TlogProof(index: index, hashes: hashes, checkpoint: note)
                #expect(
                    TlogProof.serializedSize(index: index, hashCount: count, checkpointBytes: note.serialized.count)
                        == proof.serialized.count, "index \(index) of \(size)")
                checked += 1
            }
        }
        #expect(LogTree.inclusionProofLength(index: 5, size: 5) == 0)
        #expect(checked == 80)
    }

    @Test func randomLargeSizes() throws {
        var random = SplitMix64(seed: 9162)
        let (storage, leafHashes) = try Self.tree(size: 1500, seed: 2)
        for _ in 0..<200 {
            let size = 1 + Int(random.next() % 1500)
            let old = 1 + Int(random.next() % UInt64(size))
            let index = Int(random.next() % UInt64(size))
            let root = try LogTree.rootHash(size: UInt64(size), in: storage)
            let oldRoot = try LogTree.rootHash(size: UInt64(old), in: storage)
            #expect(try root == Self.naiveRoot(leafHashes[0..<size]))
            let inclusion = try LogTree.inclusionProof(index: UInt64(index), size: UInt64(size), in: storage)
            #expect(
                LogTree.verifyInclusion(
                    leafHash: leafHashes[index], index: UInt64(index), size: UInt64(size), proof: inclusion,
                    rootHash: root))
            let consistency = try LogTree.consistencyProof(from: UInt64(old), to: UInt64(size), in: storage)
            #expect(
                LogTree.verifyConsistency(
                    oldSize: UInt64(old), newSize: UInt64(size), oldRoot: oldRoot, newRoot: root, proof: consistency))
        }
    }

    @Test func appendRefusesOutOfOrderAndBadInput() throws {
        var storage = InMemoryLogHashStorage()
        let leaf = try MerkleHash.leaf([1, 2, 3])
        #expect(throws: LogError.appendOutOfOrder(index: 1)) {
            try LogTree.append(leafHash: leaf, at: 1, to: &storage)
        }
        try LogTree.append(leafHash: leaf, at: 0, to: &storage)
        #expect(throws: LogError.appendOutOfOrder(index: 0)) {
            try LogTree.append(leafHash: leaf, at: 0, to: &storage)
        }
        #expect(throws: LogError.malformedHash(length: 31)) {
            try LogTree.append(leafHash: Array(leaf.dropLast()), at: 1, to: &storage)
        }
        #expect(throws: LogError.malformedHash(length: 33)) { try MerkleHash.node(leaf, leaf + [0]) }
        #expect(storage.leafCount == 1)
        #expect(throws: LogError.missingHash(level: 1, index: 0)) { try LogTree.rootHash(size: 2, in: storage) }
        #expect(throws: LogError.missingHash(level: 1, index: 0)) { try LogTree.rootHash(size: 3, in: storage) }
        #expect(throws: LogError.indexOutOfRange(index: 1, size: 1)) {
            try LogTree.inclusionProof(index: 1, size: 1, in: storage)
        }
        #expect(throws: LogError.sizeGoesBackwards(old: 2, new: 1)) {
            try LogTree.consistencyProof(from: 2, to: 1, in: storage)
        }
        #expect(throws: LogError.consistencyFromEmptyTree) { try LogTree.consistencyProof(from: 0, to: 1, in: storage) }
        #expect(throws: LogError.treeTooLarge(size: UInt64.max)) { try LogTree.rootHash(size: .max, in: storage) }
        #expect(try LogTree.consistencyProof(from: 1, to: 1, in: storage).isEmpty)
        // The in-memory storage refuses a gap and a short hash.
        #expect(throws: LogError.missingHash(level: 0, index: 1)) { try storage.store(level: 0, index: 5, hash: leaf) }
        #expect(throws: LogError.malformedHash(length: 2)) { try storage.store(level: 0, index: 1, hash: [1, 2]) }
        #expect(storage.leafCount == 1)
        // Verification never traps on absurd sizes.
        #expect(!LogTree.verifyInclusion(leafHash: leaf, index: .max - 1, size: .max, proof: [], rootHash: leaf))
        #expect(
            !LogTree.verifyConsistency(
                oldSize: .max - 1, newSize: .max, oldRoot: leaf, newRoot: leaf, proof: [leaf]))
        #expect(
            !LogTree.verifyInclusion(
                leafHash: leaf, index: 0, size: 1 << 62, proof: Array(repeating: leaf, count: 64), rootHash: leaf))
    }

    @Test func entryEncoding() throws {
        let digest = Array(0..<32).map { UInt8($0) }
        let entry = try LogEntry(kind: .publication, digest: digest)
        #expect(entry.encoded == [1, 3] + digest)
        #expect(try LogEntry(decoding: entry.encoded) == entry)
        #expect(try entry.leafHash() == MerkleHash.leaf([0x01, 0x03] + digest))
        for kind in LogEntry.Kind.allCases {
            #expect(try LogEntry(decoding: LogEntry(kind: kind, digest: digest).encoded).kind == kind)
        }
        #expect(throws: LogError.malformedEntry(reason: "33 bytes instead of 34")) {
            try LogEntry(decoding: entry.encoded.dropLast())
        }
        #expect(throws: LogError.malformedEntry(reason: "unknown version 2")) {
            try LogEntry(decoding: [2, 3] + digest)
        }
        #expect(throws: LogError.malformedEntry(reason: "unknown kind 0")) { try LogEntry(decoding: [1, 0] + digest) }
        #expect(throws: LogError.malformedEntry(reason: "unknown kind 6")) { try LogEntry(decoding: [1, 6] + digest) }
        #expect(throws: LogError.malformedHash(length: 20)) {
            try LogEntry(kind: .erasure, digest: Array(digest[0..<20]))
        }
    }
}
