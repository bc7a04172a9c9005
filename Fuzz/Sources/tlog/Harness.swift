import AmanatCrypto
import AmanatLog
import FuzzSupport

/// The log's fuzz key: a signed-note signer for the fuzz organization's Ed25519 key, so seeds signed with it reach
/// the code behind the signature checks.
let logSigner: NoteSigner = {
    do {
        return try NoteSigner(name: "amanat.log/FUZZ", key: FuzzKeys.signing)
    } catch {
        fatalError("cannot make the fuzz log signer: \(error)")
    }
}()

// Every parser of AmanatLog on every input: signed notes, checkpoints, tlog proofs, log entries, verifier keys and
// cosignatures. Whatever parses must serialize back to exactly the input (each format has one encoding), and the
// verifiers must return a verdict, never trap. The first bytes also drive the Merkle tree: proofs of a small tree
// must verify, and proofs made from the input's bytes with sizes and indices taken from it must not crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = fuzzInput(data, size)
    let text = String(validating: input, as: UTF8.self)

    if let note = try? SignedNote(parsing: input) {
        guard note.serialized == input else { fuzzFailure("tlog", "signed note does not round-trip") }
        _ = logSigner.verifier.verify(note)
        if let witness = try? NoteVerifier(
            name: "partner.example/fuzz", publicKey: FuzzKeys.signing.publicKey, algorithm: .cosignatureV1)
        {
            _ = Cosignature.verify(note, verifier: witness)
        }
        if let checkpoint = try? Checkpoint(parsing: note.text) {
            guard checkpoint.body == note.text else { fuzzFailure("tlog", "checkpoint in a note does not round-trip") }
        }
    }
    if let text, let checkpoint = try? Checkpoint(parsing: text) {
        guard checkpoint.body == text else { fuzzFailure("tlog", "checkpoint does not round-trip") }
        guard (try? Checkpoint(parsing: checkpoint.body)) == checkpoint else {
            fuzzFailure("tlog", "a checkpoint's body does not parse back to it")
        }
    }
    if let proof = try? TlogProof(parsing: input) {
        guard proof.serialized == input else { fuzzFailure("tlog", "tlog proof does not round-trip") }
        _ = try? proof.verify(leafHash: Array(repeating: 0, count: 32), verifier: logSigner.verifier)
    }
    if let entry = try? LogEntry(decoding: input) {
        guard entry.encoded == input else { fuzzFailure("tlog", "log entry does not round-trip") }
    }
    if let text, let verifier = try? NoteVerifier(verifierKey: text) {
        guard verifier.verifierKey == text else { fuzzFailure("tlog", "verifier key does not round-trip") }
    }

    // Proof verification over hostile numbers and hashes: never a trap.
    if input.count >= 16 {
        func number(_ offset: Int) -> UInt64 { input[offset..<offset + 8].reduce(0) { $0 << 8 | UInt64($1) } }
        let hashes = stride(from: 16, to: input.count - 31, by: 32).map { Array(input[$0..<$0 + 32]) }
        let root = hashes.first ?? MerkleHash.emptyTree
        _ = LogTree.verifyInclusion(
            leafHash: root, index: number(0), size: number(8), proof: Array(hashes.dropFirst()), rootHash: root)
        _ = LogTree.verifyConsistency(
            oldSize: number(0), newSize: number(8), oldRoot: root, newRoot: root, proof: Array(hashes.dropFirst()))
    }

    // A small tree whose shape comes from the input: every proof it makes verifies.
    if input.count >= 3 {
        let treeSize = UInt64(input[0] % 48) + 1
        let index = UInt64(input[1]) % treeSize
        let oldSize = UInt64(input[2]) % treeSize + 1
        do {
            var storage = InMemoryLogHashStorage()
            for leaf in 0..<treeSize {
                try LogTree.append(leafHash: MerkleHash.leaf([UInt8(leaf)] + input.prefix(8)), at: leaf, to: &storage)
            }
            let root = try LogTree.rootHash(size: treeSize, in: storage)
            let oldRoot = try LogTree.rootHash(size: oldSize, in: storage)
            let inclusion = try LogTree.inclusionProof(index: index, size: treeSize, in: storage)
            let leafHash = try MerkleHash.leaf([UInt8(index)] + input.prefix(8))
            guard
                LogTree.verifyInclusion(
                    leafHash: leafHash, index: index, size: treeSize, proof: inclusion, rootHash: root)
            else { fuzzFailure("tlog", "an inclusion proof does not verify") }
            let consistency = try LogTree.consistencyProof(from: oldSize, to: treeSize, in: storage)
            guard
                LogTree.verifyConsistency(
                    oldSize: oldSize, newSize: treeSize, oldRoot: oldRoot, newRoot: root, proof: consistency)
            else { fuzzFailure("tlog", "a consistency proof does not verify") }
        } catch {
            fuzzFailure("tlog", "building a small tree failed: \(error)")
        }
    }
    return 0
}
