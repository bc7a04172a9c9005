import AmanatCrypto
import AmanatLog
import AmanatTestSupport
import Foundation
import Testing

/// Signed notes, checkpoints, cosignatures and tlog proofs: the examples of the C2SP specs, edge cases of their
/// grammar, and truncated, oversized and tampered inputs.
@Suite struct SignedNoteTests {
    /// A synthetic key derived from a public label; never for anything real.
    static func key(_ label: String) throws -> Ed25519.SigningKey {
        try Ed25519.SigningKey(seed: SecretBytes(SHA256.hash(Array(label.utf8))))
    }

    static func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }

    // The example of c2sp.org/signed-note ("Verifier keys").
    static let specVerifierKey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
    static let specNote =
        "This is an example message.\n\n\u{2014} example.com/foo "
        + "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"

    @Test func specExampleVerifies() throws {
        let verifier = try NoteVerifier(verifierKey: Self.specVerifierKey)
        #expect(verifier.name == "example.com/foo")
        #expect(verifier.keyID == 0x530d_903a)
        #expect(verifier.verifierKey == Self.specVerifierKey)
        #expect(try NoteVerifier(name: "example.com/foo", publicKey: verifier.publicKey).keyID == 0x530d_903a)
        let note = try SignedNote(parsing: Self.utf8(Self.specNote))
        #expect(note.text == "This is an example message.\n")
        #expect(note.signatures.count == 1)
        #expect(note.serialized == Self.utf8(Self.specNote))
        #expect(verifier.verify(note))
        // The same bytes with one changed letter in the text fail.
        let tampered = try SignedNote(parsing: Self.utf8(Self.specNote.replacingOccurrences(of: "an", with: "An")))
        #expect(throws: LogError.badSignature(name: "example.com/foo")) { try verifier.check(tampered) }
        // A verifier with the same name but another key (so another ID) ignores the signature: not signed.
        let other = try NoteVerifier(name: "example.com/foo", publicKey: Self.key("other").publicKey)
        #expect(throws: LogError.notSignedByKey(name: "example.com/foo")) { try other.check(note) }
    }

    @Test func signAndVerifyWithUnknownSignaturesKept() throws {
        let signer = try NoteSigner(name: "amanat.log/TEST-ORG", key: Self.key("log"))
        let note = try signer.sign(text: "line one\n\nline three after a blank line\n")
        #expect(signer.verifier.verify(note))
        let reparsed = try SignedNote(parsing: note.serialized)
        #expect(reparsed == note)
        // A second, unknown signer's line is kept and ignored.
        let partner = try NoteSigner(name: "partner.example/w1", key: Self.key("partner"))
        let both = try partner.sign(note)
        #expect(both.signatures.count == 2)
        #expect(signer.verifier.verify(both) && partner.verifier.verify(both))
        #expect(try SignedNote(parsing: both.serialized) == both)
        // Signing again replaces the earlier signature by the same key.
        #expect(try signer.sign(both).signatures.count == 2)
        let verifier = try NoteVerifier(verifierKey: signer.verifier.verifierKey)
        #expect(verifier == signer.verifier)
    }

    @Test func malformedNotesAreRefused() throws {
        let signer = try NoteSigner(name: "a.example/log", key: Self.key("log"))
        let good = try signer.sign(text: "hello\n")
        let text = String(decoding: good.serialized, as: UTF8.self)
        let signatureLine = String(text.split(separator: "\n").last!)
        let cases: [(String, [UInt8])] = [
            ("empty", []),
            ("no blank line", Self.utf8("hello\n" + signatureLine + "\n")),
            ("no final newline", Self.utf8(String(text.dropLast()))),
            ("no signature", Self.utf8("hello\n\n")),
            ("hyphen instead of em dash", Self.utf8(text.replacingOccurrences(of: "\u{2014}", with: "-"))),
            ("no space after the name", Self.utf8("hello\n\n\u{2014} a.example/log\n")),
            ("two spaces", Self.utf8(text.replacingOccurrences(of: "log ", with: "log  "))),
            ("carriage return", Self.utf8(text.replacingOccurrences(of: "hello", with: "hel\rlo"))),
            ("tab", Self.utf8(text.replacingOccurrences(of: "hello", with: "hel\tlo"))),
            ("NUL", Self.utf8(text.replacingOccurrences(of: "hello", with: "hel\u{0}lo"))),
            ("invalid UTF-8", [0x68, 0xFF, 0x0A, 0x0A] + Self.utf8(signatureLine + "\n")),
            ("unpadded base64", Self.utf8(text.replacingOccurrences(of: "=\n", with: "\n"))),
            ("short signature", Self.utf8("hello\n\n\u{2014} a.example/log AAAA\n")),
            ("plus in name", Self.utf8(text.replacingOccurrences(of: "a.example/log", with: "a+b"))),
            ("empty line among signatures", Self.utf8(text + "\n" + signatureLine + "\n\n")),
            ("trailing garbage", Self.utf8(text + "x")),
        ]
        for (label, bytes) in cases {
            #expect(throws: LogError.self, "\(label)") { try SignedNote(parsing: bytes) }
        }
        // Oversized: too many signatures, too many bytes.
        var many = "hello\n\n"
        for _ in 0...SignedNote.maxSignatures { many += signatureLine + "\n" }
        #expect(throws: LogError.tooLarge(what: "number of note signatures", limit: SignedNote.maxSignatures)) {
            try SignedNote(parsing: Self.utf8(many))
        }
        let huge = String(repeating: "x", count: SignedNote.maxBytes) + "\n\n" + signatureLine + "\n"
        #expect(throws: LogError.tooLarge(what: "signed note", limit: SignedNote.maxBytes)) {
            try SignedNote(parsing: Self.utf8(huge))
        }
        // The text may contain a line that looks like a signature: the last blank line splits.
        let tricky = try SignedNote(parsing: Self.utf8("a\n\n" + signatureLine + "\n\n" + signatureLine + "\n"))
        #expect(tricky.text == "a\n\n" + signatureLine + "\n")
        #expect(throws: LogError.invalidKeyName) { try NoteSigner(name: "has space", key: Self.key("log")) }
        #expect(throws: LogError.invalidKeyName) { try NoteSigner(name: "", key: Self.key("log")) }
        #expect(throws: LogError.invalidKeyName) { try NoteSigner(name: "nbsp\u{00A0}name", key: Self.key("log")) }
        #expect(throws: LogError.self) { try signer.sign(text: "no newline") }
        #expect(throws: LogError.self) { try signer.sign(text: "bell\u{7}\n") }
    }

    @Test func nonCanonicalBase64IsRefused() throws {
        // "AAAAAAB=" decodes (leniently) to the same 5 bytes as "AAAAAAA=": trailing bits must be zero.
        #expect(throws: LogError.self) { try SignedNote(parsing: Self.utf8("t\n\n\u{2014} n AAAAAAB=\n")) }
        #expect(throws: LogError.self) { try SignedNote(parsing: Self.utf8("t\n\n\u{2014} n AAAAAAA\n")) }
        #expect(throws: LogError.self) { try SignedNote(parsing: Self.utf8("t\n\n\u{2014} n AAAAAAA==\n")) }
        let parsed = try SignedNote(parsing: Self.utf8("t\n\n\u{2014} n AAAAAAA=\n"))
        #expect(parsed.signatures[0].keyID == 0 && parsed.signatures[0].signature == [0])
    }

    @Test func verifierKeysAreStrict() throws {
        let good = Self.specVerifierKey
        for bad in [
            "", "example.com/foo", "example.com/foo+530d903a",
            "example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
            "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
            "example.com/fop+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
            "example.com/foo+530d903a+AkyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
            "example.com/foo+530d903a+BekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
            good + "+extra", "exa mple+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        ] {
            #expect(throws: LogError.self, "\(bad)") { try NoteVerifier(verifierKey: bad) }
        }
    }

    static func checkpoint(size: UInt64 = 5) throws -> Checkpoint {
        try Checkpoint(origin: "amanat.log/TEST-ORG", size: size, rootHash: Array(repeating: 7, count: 32))
    }

    @Test func checkpointFormat() throws {
        // The example of c2sp.org/tlog-checkpoint.
        let body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        let parsed = try Checkpoint(parsing: body)
        #expect(parsed.origin == "example.com/behind-the-sofa")
        #expect(parsed.size == 20_852_163)
        #expect(parsed.rootHash.count == 32)
        #expect(parsed.extensions.isEmpty)
        #expect(parsed.body == body)
        let withExtension = try Checkpoint(parsing: body + "ext one\n")
        #expect(withExtension.extensions == ["ext one"])
        #expect(withExtension.body == body + "ext one\n")
        #expect(try Checkpoint(parsing: "o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n").size == 0)
        let root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
        for bad in [
            "", "example\n1\n", "example\n1\n" + root, "\n1\n" + root + "\n", "example\n01\n" + root + "\n",
            "example\n-1\n" + root + "\n", "example\n+1\n" + root + "\n", "example\n1 \n" + root + "\n",
            "example\n9223372036854775808\n" + root + "\n", "example\n1\n" + root.dropLast() + "\n",
            "example\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n", "example\n1\n" + root + "\n\n",
            "example\n1\n" + root + "\next\n\n", "exa\rmple\n1\n" + root + "\n",
            "example\n1\nCsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=\n",
            "example\n1\n" + root + "\n" + String(repeating: "e\n", count: 17),
        ] {
            #expect(throws: LogError.self, "\(bad.debugDescription)") { try Checkpoint(parsing: bad) }
        }
        #expect(try Checkpoint.origin(fingerprint: "4KQ7-M2XA") == "amanat.log/4KQ7-M2XA")
        #expect(throws: LogError.invalidKeyName) { try Checkpoint.origin(fingerprint: "4KQ7 M2XA") }
    }

    @Test func checkpointConsistencyAndForks() throws {
        var storage = InMemoryLogHashStorage()
        for index in 0..<9 {
            try LogTree.append(leafHash: MerkleHash.leaf([UInt8(index)]), at: UInt64(index), to: &storage)
        }
        func checkpoint(_ size: UInt64) throws -> Checkpoint {
            try Checkpoint(origin: "o.example/log", size: size, rootHash: LogTree.rootHash(size: size, in: storage))
        }
        let old = try checkpoint(3)
        let new = try checkpoint(9)
        try old.checkConsistency(to: new, proof: LogTree.consistencyProof(from: 3, to: 9, in: storage))
        try checkpoint(0).checkConsistency(to: new, proof: [])
        try new.checkConsistency(to: new, proof: [])
        #expect(throws: LogError.sizeGoesBackwards(old: 9, new: 3)) { try new.checkConsistency(to: old, proof: []) }
        #expect(throws: LogError.proofDoesNotVerify(what: "consistency")) {
            try old.checkConsistency(to: new, proof: LogTree.consistencyProof(from: 4, to: 9, in: storage))
        }
        // A fork: the same size with another root.
        let forked = try Checkpoint(origin: "o.example/log", size: 9, rootHash: Array(repeating: 1, count: 32))
        #expect(throws: LogError.inconsistentCheckpoints(size: 9)) { try new.checkConsistency(to: forked, proof: []) }
        let elsewhere = try Checkpoint(origin: "p.example/log", size: 9, rootHash: new.rootHash)
        #expect(throws: LogError.originMismatch(expected: "o.example/log", found: "p.example/log")) {
            try new.checkConsistency(to: elsewhere, proof: [])
        }
    }

    @Test func cosignatures() throws {
        let checkpoint = try Self.checkpoint()
        let log = try NoteSigner(name: checkpoint.origin, key: Self.key("log"))
        let witnessKey = try Self.key("witness")
        let witness = try NoteVerifier(
            name: "partner.example/w", publicKey: witnessKey.publicKey, algorithm: .cosignatureV1)
        let line = try Cosignature.make(for: checkpoint, name: witness.name, key: witnessKey, time: 1_679_315_147)
        #expect(line.keyID == witness.keyID)
        #expect(line.signature.count == 72)
        // Hand-checked against the spec text: the first 8 bytes are the big-endian time, the rest an Ed25519
        // signature over "cosignature/v1\ntime 1679315147\n" followed by the checkpoint body.
        #expect(Array(line.signature[0..<8]) == [0, 0, 0, 0, 0x64, 0x18, 0x50, 0xCB])
        let message = Self.utf8("cosignature/v1\ntime 1679315147\n" + checkpoint.body)
        #expect(Cosignature.message(checkpointBody: checkpoint.body, time: 1_679_315_147) == message)
        #expect(witnessKey.publicKey.isValidSignature(Array(line.signature[8...]), for: message))
        // The key ID uses type 0x04, unlike an ordinary note signature by the same key and name.
        let digest = try SHA256.hash(Self.utf8("partner.example/w\n") + [4] + witnessKey.publicKey.rawRepresentation)
        #expect(line.keyID == digest.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        #expect(try NoteVerifier(name: witness.name, publicKey: witnessKey.publicKey).keyID != witness.keyID)
        let encodedKey = try #require(witness.verifierKey.split(separator: "+", maxSplits: 2).last)
        #expect(
            Data(base64Encoded: String(encodedKey)).map { Array($0) } == [4] + witnessKey.publicKey.rawRepresentation)
        #expect(try NoteVerifier(verifierKey: witness.verifierKey) == witness)

        let note = try log.sign(text: checkpoint.body).adding(line)
        let reparsed = try SignedNote(parsing: note.serialized)
        #expect(log.verifier.verify(reparsed))
        #expect(Cosignature.verify(reparsed, verifier: witness) == 1_679_315_147)
        #expect(witness.verify(reparsed))
        #expect(Cosignature.verify(line, for: checkpoint, verifier: witness) == 1_679_315_147)
        // Another checkpoint, a changed time, or the wrong verifier type: refused.
        #expect(Cosignature.verify(line, for: try Self.checkpoint(size: 6), verifier: witness) == nil)
        var changed = line.signature
        changed[7] ^= 1
        let moved = try NoteSignature(name: line.name, keyID: line.keyID, signature: changed)
        #expect(Cosignature.verify(moved, for: checkpoint, verifier: witness) == nil)
        #expect(Cosignature.verify(reparsed, verifier: log.verifier) == nil)
        #expect(throws: LogError.timestampOutOfRange) {
            try Cosignature.make(for: checkpoint, name: witness.name, key: witnessKey, time: 1 << 63)
        }
    }

    static func proofFixture() throws -> (TlogProof, NoteVerifier, LogHash) {
        var storage = InMemoryLogHashStorage()
        var leaves: [LogHash] = []
        for index in 0..<11 {
            let leaf = try LogEntry(kind: .recordVersion, digest: SHA256.hash([UInt8(index)])).leafHash()
            leaves.append(leaf)
            try LogTree.append(leafHash: leaf, at: UInt64(index), to: &storage)
        }
        let checkpoint = try Checkpoint(
            origin: "amanat.log/TEST-ORG", size: 11, rootHash: LogTree.rootHash(size: 11, in: storage))
        let signer = try NoteSigner(name: checkpoint.origin, key: Self.key("log"))
        let proof = try TlogProof(
            index: 6, hashes: LogTree.inclusionProof(index: 6, size: 11, in: storage),
            checkpoint: signer.sign(text: checkpoint.body), extra: Self.utf8("synthetic extra"))
        return (proof, signer.verifier, leaves[6])
    }

    @Test func tlogProofRoundTripAndVerify() throws {
        let (proof, verifier, leaf) = try Self.proofFixture()
        let text = String(decoding: proof.serialized, as: UTF8.self)
        #expect(text.hasPrefix("c2sp.org/tlog-proof@v1\nextra c3ludGhldGljIGV4dHJh\nindex 6\n"))
        let parsed = try TlogProof(parsing: proof.serialized)
        #expect(parsed == proof)
        #expect(parsed.serialized == proof.serialized)
        #expect(try parsed.verify(leafHash: leaf, verifier: verifier).size == 11)
        #expect(throws: LogError.proofDoesNotVerify(what: "inclusion")) {
            try parsed.verify(leafHash: MerkleHash.leaf([9]), verifier: verifier)
        }
        let stranger = try NoteVerifier(name: verifier.name, publicKey: Self.key("stranger").publicKey)
        #expect(throws: LogError.notSignedByKey(name: verifier.name)) {
            try parsed.verify(leafHash: leaf, verifier: stranger)
        }
        let wrongIndex = try TlogProof(index: 7, hashes: proof.hashes, checkpoint: proof.checkpoint)
        #expect(throws: LogError.proofDoesNotVerify(what: "inclusion")) {
            try wrongIndex.verify(leafHash: leaf, verifier: verifier)
        }
        let pastEnd = try TlogProof(index: 11, hashes: proof.hashes, checkpoint: proof.checkpoint)
        #expect(throws: LogError.indexOutOfRange(index: 11, size: 11)) {
            try pastEnd.verify(leafHash: leaf, verifier: verifier)
        }
        // No extra line, no hashes (a one-leaf tree) also round-trips.
        let bare = try TlogProof(index: 0, hashes: [], checkpoint: proof.checkpoint)
        #expect(try TlogProof(parsing: bare.serialized) == bare)
    }

    @Test func proofsAppendedWithAPreparedNoteAreTheirSerializedBytes() throws {
        let (proof, _, _) = try Self.proofFixture()
        let other = try NoteSigner(name: "amanat.log/OTHER", key: Self.key("other")).sign(text: "other\n1\nAAAA\n")
        // Appended one after another to one buffer, with the proof's own note prepared and with another's
        var out: [UInt8] = []
        proof.append(to: &out, checkpoint: TlogProof.SerializedNote(proof.checkpoint))
        proof.append(to: &out, checkpoint: TlogProof.SerializedNote(other))
        let bare = try TlogProof(index: 0, hashes: [], checkpoint: proof.checkpoint)
        bare.append(to: &out, checkpoint: TlogProof.SerializedNote(proof.checkpoint))
        // The bytes are each proof's own, its checkpoint included (a note that is not its own is not used)
        #expect(out == proof.serialized + proof.serialized + bare.serialized)
        #expect(
            proof.serialized.count == TlogProof.serializedSize(
                index: 6, hashCount: proof.hashes.count, checkpointBytes: proof.checkpoint.serialized.count)
                + "extra c3ludGhldGljIGV4dHJh\n".utf8.count)
    }

    /// A batch of proofs verifies its shared note's signature once, never trusting a note that differs: a forged
    /// note after a good one is refused, as is a bad inclusion under the note already verified.
    @Test func aBatchVerifiesEachNoteItHasNotSeenWhole() throws {
        let (proof, verifier, leaf) = try Self.proofFixture()
        var batch = TlogProofBatchVerifier(verifier: verifier)
        #expect(try batch.verify(proof, leafHash: leaf).size == 11)
        #expect(try batch.verify(proof, leafHash: leaf).size == 11)
        // The same note, a wrong leaf or index: the inclusion is still checked.
        #expect(throws: LogError.proofDoesNotVerify(what: "inclusion")) {
            try batch.verify(proof, leafHash: MerkleHash.leaf([9]))
        }
        let wrongIndex = try TlogProof(index: 7, hashes: proof.hashes, checkpoint: proof.checkpoint)
        #expect(throws: LogError.proofDoesNotVerify(what: "inclusion")) { try batch.verify(wrongIndex, leafHash: leaf) }
        // The same checkpoint text signed by someone else: a different note, so its signature is checked.
        let forged = try NoteSigner(name: verifier.name, key: Self.key("stranger")).sign(text: proof.checkpoint.text)
        let forgedProof = try TlogProof(index: 6, hashes: proof.hashes, checkpoint: forged)
        #expect(throws: LogError.notSignedByKey(name: verifier.name)) { try batch.verify(forgedProof, leafHash: leaf) }
        #expect(try batch.verify(proof, leafHash: leaf).size == 11)
    }

    @Test func malformedTlogProofsAreRefused() throws {
        let (proof, _, _) = try Self.proofFixture()
        let text = String(decoding: proof.serialized, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let hashLine = lines[3]
        var cases: [(String, String)] = [
            ("empty", ""),
            ("wrong header", text.replacingOccurrences(of: "tlog-proof@v1", with: "tlog-proof@v2")),
            ("index leading zero", text.replacingOccurrences(of: "index 6", with: "index 06")),
            ("no index", text.replacingOccurrences(of: "index 6\n", with: "")),
            ("index twice", text.replacingOccurrences(of: "index 6\n", with: "index 6\nindex 6\n")),
            ("empty extra", text.replacingOccurrences(of: "extra c3ludGhldGljIGV4dHJh", with: "extra ")),
            ("short hash", text.replacingOccurrences(of: hashLine, with: String(hashLine.dropFirst(4)))),
            ("hash of 33 bytes", text.replacingOccurrences(of: hashLine, with: "AAAA" + hashLine)),
            ("no blank line", text.replacingOccurrences(of: "\n\namanat", with: "\namanat")),
            ("CRLF", text.replacingOccurrences(of: "\n", with: "\r\n")),
        ]
        for cut in [10, 40, 60, text.utf8.count - 1] {
            cases.append(("truncated at \(cut)", String(decoding: Array(text.utf8.prefix(cut)), as: UTF8.self)))
        }
        let tooMany = text.replacingOccurrences(
            of: hashLine + "\n", with: String(repeating: hashLine + "\n", count: TlogProof.maxHashes + 1))
        cases.append(("64 hashes", tooMany))
        for (label, bad) in cases {
            #expect(throws: LogError.self, "\(label)") { try TlogProof(parsing: Self.utf8(bad)) }
        }
        #expect(throws: LogError.self) {
            try TlogProof(parsing: Self.utf8(text) + Array(repeating: 0x41, count: SignedNote.maxBytes + 16 * 1024))
        }
    }
}
