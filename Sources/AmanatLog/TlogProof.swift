import Foundation

/// A C2SP tlog-proof (`c2sp.org/tlog-proof@v1`): an entry's index, its inclusion proof, and the signed (and
/// possibly cosigned) checkpoint it leads to, verifiable offline. Stored as `<name>.tlog-proof`.
///
/// ```
/// c2sp.org/tlog-proof@v1
/// extra <base64>            (optional)
/// index 73894
/// <base64 hash>             (zero or more, leaf sibling first)
///
/// <signed checkpoint note>
/// ```
public struct TlogProof: Sendable, Hashable {
    /// The first line.
    public static let header = "c2sp.org/tlog-proof@v1"
    /// The most proof hashes accepted (a tree of at most 2^63 − 1 leaves needs at most 63).
    public static let maxHashes = 63
    /// The largest extra data accepted, in bytes.
    public static let maxExtraBytes = 4096

    /// The entry's zero-based index.
    public let index: UInt64
    /// The inclusion proof, from the leaf's sibling up to the root's child.
    public let hashes: [LogHash]
    /// The signed checkpoint note (its text is a ``Checkpoint`` body).
    public let checkpoint: SignedNote
    /// Opaque, unauthenticated extra data; never trust it.
    public let extra: [UInt8]?

    /// A proof with these parts.
    /// - Throws: ``LogError/malformedProof(reason:)`` for more than ``maxHashes`` hashes, an index over
    ///   2^63 − 1, empty or oversized extra data; ``LogError/malformedHash(length:)``.
    public init(index: UInt64, hashes: [LogHash], checkpoint: SignedNote, extra: [UInt8]? = nil) throws {
        guard index <= LogTree.maxSize else { throw LogError.malformedProof(reason: "index over 2^63 - 1") }
        guard hashes.count <= Self.maxHashes else {
            throw LogError.malformedProof(reason: "more than \(Self.maxHashes) proof hashes")
        }
        for hash in hashes { try MerkleHash.checkLength(hash) }
        if let extra {
            guard !extra.isEmpty, extra.count <= Self.maxExtraBytes else {
                throw LogError.malformedProof(reason: "extra data empty or over \(Self.maxExtraBytes) bytes")
            }
        }
        self.index = index
        self.hashes = hashes
        self.checkpoint = checkpoint
        self.extra = extra
    }

    /// The size of ``serialized`` for a proof without extra data, from its index, its number of hashes and the size
    /// of its serialized checkpoint note, without the hashes themselves (a bundle's header states its entries' sizes
    /// before their bytes are made).
    public static func serializedSize(index: UInt64, hashCount: Int, checkpointBytes: Int) -> Int {
        // header, "index N", one padded base64 line of 44 characters per hash, the blank line, the note
        header.utf8.count + 1 + "index ".utf8.count + String(index).utf8.count + 1 + hashCount * 45 + 1
            + checkpointBytes
    }

    /// The proof's bytes.
    public var serialized: [UInt8] {
        var out: [UInt8] = []
        append(to: &out, checkpoint: SerializedNote(checkpoint))
        return out
    }

    /// A signed note and its bytes, made once for the many proofs of a bundle that lead to the same checkpoint.
    public struct SerializedNote: Sendable {
        public let note: SignedNote
        public let bytes: [UInt8]

        public init(_ note: SignedNote) {
            self.note = note
            bytes = note.serialized
        }
    }

    /// Appends ``serialized`` to `out`, taking the checkpoint's bytes from `checkpoint` when it holds this proof's
    /// checkpoint (comparing the notes costs less than writing one), else writing them.
    public func append(to out: inout [UInt8], checkpoint prepared: SerializedNote) {
        let checkpointBytes = prepared.note == checkpoint ? prepared.bytes : checkpoint.serialized
        let needed =
            out.count
            + Self.serializedSize(index: index, hashCount: hashes.count, checkpointBytes: checkpointBytes.count)
            + (extra.map { 7 + ($0.count + 2) / 3 * 4 } ?? 0)
        // Grown geometrically: a caller appending many proofs to one buffer stays linear.
        if out.capacity < needed { out.reserveCapacity(max(needed, 2 * out.capacity)) }
        out += Self.header.utf8
        out.append(0x0A)
        if let extra {
            out += "extra ".utf8
            out += NoteText.base64(extra).utf8
            out.append(0x0A)
        }
        out += "index ".utf8
        out += String(index).utf8
        out.append(0x0A)
        for hash in hashes {
            out += NoteText.base64(hash).utf8
            out.append(0x0A)
        }
        out.append(0x0A)
        out += checkpointBytes
    }

    /// Parses a tlog proof.
    /// - Throws: ``LogError/malformedProof(reason:)`` unless it has exactly the format above (canonical
    ///   numbers and padded base64, 32-byte hashes, at most ``maxHashes``); the checkpoint note's errors
    ///   (``LogError/malformedNote(reason:)``); ``LogError/tooLarge(what:limit:)``.
    public init(parsing bytes: some ContiguousBytes) throws {
        let raw = bytes.withUnsafeBytes { Array($0) }
        let limit = SignedNote.maxBytes + 16 * 1024
        guard raw.count <= limit else { throw LogError.tooLarge(what: "tlog proof", limit: limit) }
        var position = 0
        /// The next line without its newline, or nil at the end of the input or without a newline.
        func nextLine() -> ArraySlice<UInt8>? {
            guard position < raw.count, let newline = raw[position...].firstIndex(of: 0x0A) else { return nil }
            defer { position = newline + 1 }
            return raw[position..<newline]
        }
        func text(_ line: ArraySlice<UInt8>) -> Substring? {
            guard NoteText.isNoteText(line) else { return nil }
            return Substring(String(decoding: line, as: UTF8.self))
        }
        guard let first = nextLine(), first.elementsEqual(Self.header.utf8) else {
            throw LogError.malformedProof(reason: "the first line is not \(Self.header)")
        }
        guard var line = nextLine().flatMap(text) else { throw LogError.malformedProof(reason: "truncated") }
        var extra: [UInt8]? = nil
        if line.hasPrefix("extra ") {
            guard let data = NoteText.decodeBase64(line.dropFirst(6).utf8), !data.isEmpty else {
                throw LogError.malformedProof(reason: "the extra data is not canonical base64")
            }
            guard data.count <= Self.maxExtraBytes else {
                throw LogError.tooLarge(what: "tlog proof extra data", limit: Self.maxExtraBytes)
            }
            extra = data
            guard let next = nextLine().flatMap(text) else { throw LogError.malformedProof(reason: "truncated") }
            line = next
        }
        guard line.hasPrefix("index "), let index = NoteText.decimal(line.dropFirst(6).utf8) else {
            throw LogError.malformedProof(reason: "no canonical index line")
        }
        var hashes: [LogHash] = []
        while true {
            guard let next = nextLine() else { throw LogError.malformedProof(reason: "truncated") }
            if next.isEmpty { break }
            guard hashes.count < Self.maxHashes else {
                throw LogError.malformedProof(reason: "more than \(Self.maxHashes) proof hashes")
            }
            guard let hashText = text(next), let hash = NoteText.decodeHash(hashText.utf8) else {
                throw LogError.malformedProof(reason: "a proof line is not base64 of 32 bytes")
            }
            hashes.append(hash)
        }
        let note = try SignedNote(parsing: Array(raw[position...]))
        try self.init(index: index, hashes: hashes, checkpoint: note, extra: extra)
    }

    /// Verifies the proof for the entry with `leafHash`: the checkpoint is signed by `verifier` (whose name must
    /// be the checkpoint's origin, Amanat's convention), parses, and the inclusion proof leads from the leaf at
    /// ``index`` to its root hash. Cosignatures are the caller's to check (``Cosignature/verify(_:verifier:)``).
    /// - Returns: the verified checkpoint.
    /// - Throws: ``LogError/notSignedByKey(name:)``, ``LogError/badSignature(name:)``,
    ///   ``LogError/malformedCheckpoint(reason:)``, ``LogError/originMismatch(expected:found:)``,
    ///   ``LogError/indexOutOfRange(index:size:)``, ``LogError/proofDoesNotVerify(what:)``.
    public func verify(leafHash: LogHash, verifier: NoteVerifier) throws -> Checkpoint {
        try MerkleHash.checkLength(leafHash)
        try verifier.check(checkpoint)
        let parsed = try Checkpoint(parsing: checkpoint.text)
        guard NoteText.same(parsed.origin, verifier.name) else {
            throw LogError.originMismatch(expected: verifier.name, found: parsed.origin)
        }
        try verifyInclusion(leafHash: leafHash, under: parsed)
        return parsed
    }

    /// The inclusion part of ``verify(leafHash:verifier:)`` alone, under `checkpoint`: for many proofs that carry
    /// one checkpoint note, whose signature the caller has verified once (``verify(leafHash:verifier:)`` on the
    /// first) and compared with this proof's ``checkpoint`` byte for byte.
    /// - Throws: ``LogError/indexOutOfRange(index:size:)``, ``LogError/proofDoesNotVerify(what:)``.
    public func verifyInclusion(leafHash: LogHash, under checkpoint: Checkpoint) throws {
        try MerkleHash.checkLength(leafHash)
        guard index < checkpoint.size else { throw LogError.indexOutOfRange(index: index, size: checkpoint.size) }
        guard
            LogTree.verifyInclusion(
                leafHash: leafHash, index: index, size: checkpoint.size, proof: hashes, rootHash: checkpoint.rootHash)
        else { throw LogError.proofDoesNotVerify(what: "inclusion") }
    }
}

/// Verifies many proofs of one log, as a bundle's version proofs come: they carry one checkpoint as a rule, so its
/// note's signature is verified once, and a proof whose note is the same, byte for byte, as the last one verified
/// checks only its inclusion. A proof with any other note is verified whole (and its note remembered instead).
public struct TlogProofBatchVerifier {
    public let verifier: NoteVerifier
    private var last: (note: SignedNote, checkpoint: Checkpoint)?

    public init(verifier: NoteVerifier) { self.verifier = verifier }

    /// ``TlogProof/verify(leafHash:verifier:)`` of `proof`, its note's signature taken from the last proof when
    /// the note is identical.
    /// - Returns: the verified checkpoint.
    public mutating func verify(_ proof: TlogProof, leafHash: LogHash) throws -> Checkpoint {
        if let last, last.note == proof.checkpoint {
            try proof.verifyInclusion(leafHash: leafHash, under: last.checkpoint)
            return last.checkpoint
        }
        let checkpoint = try proof.verify(leafHash: leafHash, verifier: verifier)
        last = (proof.checkpoint, checkpoint)
        return checkpoint
    }
}
