// The transparency log's figures (issue #16 "Numbers"): appending COUNT entries and signing a checkpoint
// (target ≤ 2 s at 1M), inclusion and consistency proofs at that size (≤ 1 ms each), and the bytes a proof adds to
// a bundle or publication (≤ 2 KB per item).
// Usage: amanat-bench tlog [COUNT]      (default 1000000)
import AmanatCrypto
import AmanatLog
import Foundation

func tlogBenchmark(count: Int) throws {
    precondition(count >= 2, "COUNT must be at least 2")
    print("tlog benchmark: \(count) entries, in-memory hash storage, one thread")
    var storage = InMemoryLogHashStorage()
    let key = try Ed25519.SigningKey.generate()
    let origin = try Checkpoint.origin(fingerprint: Fingerprint.of(key.publicKey))
    let signer = try NoteSigner(name: origin, key: key)

    // Synthetic digests (the index spread over 32 bytes): entries only ever hold digests.
    var digest = [UInt8](repeating: 0x5A, count: 32)
    var t = now()
    for index in 0..<count {
        for byte in 0..<8 { digest[byte] = UInt8(truncatingIfNeeded: index >> (8 * byte)) }
        let entry = try LogEntry(kind: .recordVersion, digest: digest)
        try LogTree.append(leafHash: entry.leafHash(), at: UInt64(index), to: &storage)
    }
    let appendSeconds = now() - t
    t = now()
    let size = UInt64(count)
    let checkpoint = try Checkpoint(origin: origin, size: size, rootHash: LogTree.rootHash(size: size, in: storage))
    let note = try signer.sign(text: checkpoint.body)
    let checkpointSeconds = now() - t
    print(
        String(
            format: "  append %d entries: %.3f s (%.0f ns each); root + signed checkpoint: %.3f ms; total %.3f s",
            count, appendSeconds, appendSeconds * 1e9 / Double(count), checkpointSeconds * 1e3,
            appendSeconds + checkpointSeconds))

    var random = SystemRandomNumberGenerator()
    let rounds = 1000
    var inclusionBytes = 0
    t = now()
    var proofs: [(UInt64, [LogHash])] = []
    for _ in 0..<rounds {
        let index = UInt64.random(in: 0..<size, using: &random)
        let proof = try LogTree.inclusionProof(index: index, size: size, in: storage)
        inclusionBytes = max(inclusionBytes, proof.count * 32)
        proofs.append((index, proof))
    }
    let inclusionSeconds = (now() - t) / Double(rounds)
    t = now()
    for (index, proof) in proofs {
        guard let leaf = storage.hash(level: 0, index: index),
            LogTree.verifyInclusion(
                leafHash: leaf, index: index, size: size, proof: proof, rootHash: checkpoint.rootHash)
        else { fatalError("an inclusion proof did not verify") }
    }
    let inclusionVerify = (now() - t) / Double(rounds)

    var consistencyBytes = 0
    var consistency: [(UInt64, LogHash, [LogHash])] = []
    t = now()
    for _ in 0..<rounds {
        let old = UInt64.random(in: 1..<size, using: &random)
        let proof = try LogTree.consistencyProof(from: old, to: size, in: storage)
        consistencyBytes = max(consistencyBytes, proof.count * 32)
        consistency.append((old, [], proof))
    }
    let consistencySeconds = (now() - t) / Double(rounds)
    for i in consistency.indices { consistency[i].1 = try LogTree.rootHash(size: consistency[i].0, in: storage) }
    t = now()
    for (old, oldRoot, proof) in consistency {
        guard
            LogTree.verifyConsistency(
                oldSize: old, newSize: size, oldRoot: oldRoot, newRoot: checkpoint.rootHash, proof: proof)
        else { fatalError("a consistency proof did not verify") }
    }
    let consistencyVerify = (now() - t) / Double(rounds)
    print(
        String(
            format: "  inclusion proof: %.1f us to make, %.1f us to verify (mean of %d random leaves)",
            inclusionSeconds * 1e6, inclusionVerify * 1e6, rounds))
    print(
        String(
            format: "  consistency proof: %.1f us to make, %.1f us to verify (mean of %d random old sizes)",
            consistencySeconds * 1e6, consistencyVerify * 1e6, rounds))

    // What one item carries: a tlog-proof with the signed checkpoint and two partner cosignatures.
    var cosigned = note
    for partner in 0..<2 {
        let partnerKey = try Ed25519.SigningKey.generate()
        cosigned = try cosigned.adding(
            Cosignature.make(
                for: checkpoint, name: "partner\(partner).example/amanat", key: partnerKey, time: 1_765_000_000))
    }
    let (index, proof) = proofs[0]
    let tlogProof = try TlogProof(index: index, hashes: proof, checkpoint: cosigned)
    print(
        "  sizes: inclusion proof \(inclusionBytes) bytes raw at most; .tlog-proof with signed checkpoint and 2"
            + " cosignatures \(tlogProof.serialized.count) bytes; consistency proof \(consistencyBytes) bytes raw at most"
    )
}
