/// A C2SP tlog-checkpoint: the text a log signs to commit to its tree at one size.
///
/// ```
/// amanat.log/4KQ7-M2XA-…
/// 20852163
/// CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=
/// ```
///
/// The body is the note text of a ``SignedNote``; `Specs/log.md` gives Amanat's origin convention.
public struct Checkpoint: Sendable, Hashable {
    /// The most extension lines accepted.
    public static let maxExtensions = 16
    /// The longest origin or extension line accepted, in bytes.
    public static let maxLineBytes = 1024

    /// The log's identity (first line).
    public let origin: String
    /// The number of leaves.
    public let size: UInt64
    /// The RFC 6962 root hash of the tree of `size` leaves.
    public let rootHash: LogHash
    /// Opaque extension lines (C2SP does not recommend them; Amanat writes none).
    public let extensions: [String]

    /// A checkpoint with these parts.
    /// - Throws: ``LogError/malformedCheckpoint(reason:)`` for an empty origin or extension line, a newline or
    ///   control character in one, a size over 2^63 − 1, too many or too long lines;
    ///   ``LogError/malformedHash(length:)`` unless the root is 32 bytes.
    public init(origin: String, size: UInt64, rootHash: LogHash, extensions: [String] = []) throws {
        try MerkleHash.checkLength(rootHash)
        try Self.checkLine(origin, what: "origin")
        guard size <= LogTree.maxSize else { throw LogError.malformedCheckpoint(reason: "size over 2^63 - 1") }
        guard extensions.count <= Self.maxExtensions else {
            throw LogError.malformedCheckpoint(reason: "more than \(Self.maxExtensions) extension lines")
        }
        for line in extensions { try Self.checkLine(line, what: "extension line") }
        self.origin = origin
        self.size = size
        self.rootHash = rootHash
        self.extensions = extensions
    }

    /// Amanat's origin (and log key name) for an organization: `amanat.log/` followed by its fingerprint.
    /// - Throws: ``LogError/invalidKeyName`` if the fingerprint contains a space, plus sign or control character.
    public static func origin(fingerprint: String) throws -> String {
        let origin = "amanat.log/" + fingerprint
        guard NoteText.isValidKeyName(fingerprint), NoteText.isValidKeyName(origin) else {
            throw LogError.invalidKeyName
        }
        return origin
    }

    /// The note text: origin, size, base64 root hash and any extension lines, each ending in a newline.
    public var body: String {
        var text = origin + "\n" + String(size) + "\n" + NoteText.base64(rootHash) + "\n"
        for line in extensions { text += line + "\n" }
        return text
    }

    /// Parses a checkpoint body (a note's text, including its final newline).
    /// - Throws: ``LogError/malformedCheckpoint(reason:)`` for anything but the exact format: three or more
    ///   non-empty lines each ending in a newline, a canonical decimal size, a padded base64 32-byte root hash.
    public init(parsing body: String) throws {
        let utf8 = Substring(body).utf8
        let limit = (Self.maxExtensions + 3) * (Self.maxLineBytes + 1)
        guard utf8.count <= limit else { throw LogError.tooLarge(what: "checkpoint", limit: limit) }
        guard utf8.last == 0x0A else { throw LogError.malformedCheckpoint(reason: "does not end in a newline") }
        let lines = utf8.dropLast().split(separator: 0x0A, omittingEmptySubsequences: false)
        guard lines.count >= 3 else { throw LogError.malformedCheckpoint(reason: "fewer than three lines") }
        let origin = String(Substring(lines[0]))
        guard let size = NoteText.decimal(Substring(lines[1]).utf8) else {
            throw LogError.malformedCheckpoint(reason: "the size is not a canonical decimal up to 2^63 - 1")
        }
        guard let root = NoteText.decodeHash(Substring(lines[2]).utf8) else {
            throw LogError.malformedCheckpoint(reason: "the root hash is not base64 of 32 bytes")
        }
        try self.init(
            origin: origin, size: size, rootHash: root, extensions: lines.dropFirst(3).map { String(Substring($0)) })
    }

    static func checkLine(_ line: String, what: String) throws(LogError) {
        guard !line.isEmpty else { throw LogError.malformedCheckpoint(reason: "empty \(what)") }
        guard line.utf8.count <= maxLineBytes else {
            throw LogError.malformedCheckpoint(reason: "\(what) longer than \(maxLineBytes) bytes")
        }
        guard !line.utf8.contains(where: { $0 < 0x20 }) else {
            throw LogError.malformedCheckpoint(reason: "control character or newline in the \(what)")
        }
    }

    /// Checks that `newer` extends this checkpoint: same origin, size not smaller, and `proof` a valid consistency
    /// proof (none is needed from size 0, or for the same size, where the roots must be equal).
    /// - Throws: ``LogError/originMismatch(expected:found:)``, ``LogError/sizeGoesBackwards(old:new:)``,
    ///   ``LogError/inconsistentCheckpoints(size:)`` (same size, different roots: a fork),
    ///   ``LogError/proofDoesNotVerify(what:)``.
    public func checkConsistency(to newer: Checkpoint, proof: [LogHash]) throws {
        guard NoteText.same(origin, newer.origin) else {
            throw LogError.originMismatch(expected: origin, found: newer.origin)
        }
        guard size <= newer.size else { throw LogError.sizeGoesBackwards(old: size, new: newer.size) }
        if size == newer.size {
            guard rootHash == newer.rootHash else { throw LogError.inconsistentCheckpoints(size: size) }
            guard proof.isEmpty else { throw LogError.proofDoesNotVerify(what: "consistency") }
            return
        }
        if size == 0 {
            guard rootHash == MerkleHash.emptyTree, proof.isEmpty else {
                throw LogError.proofDoesNotVerify(what: "consistency")
            }
            return
        }
        guard
            LogTree.verifyConsistency(
                oldSize: size, newSize: newer.size, oldRoot: rootHash, newRoot: newer.rootHash, proof: proof)
        else { throw LogError.proofDoesNotVerify(what: "consistency") }
    }
}
