import AmanatCrypto
import AmanatLog
import AmanatStore
import Foundation

/// The organization's transparency log (`Specs/log.md`): every record version, bundle manifest, publication,
/// retraction and erasure request it signs is appended (digests only), and checkpoints of the log are signed notes
/// that partners check against each other and cosign.
extension Workspace {
    /// The origin line of an organization's checkpoints, which is also the name of its note key.
    public static func logOrigin(fingerprint: String) throws -> String {
        try Checkpoint.origin(fingerprint: fingerprint)
    }

    /// This organization's log origin.
    public func logOrigin() throws -> String { try Self.logOrigin(fingerprint: try identity().fingerprint) }

    /// The note verifier of an organization's checkpoints: its Ed25519 key under the log's origin.
    public static func logVerifier(_ identity: PublicIdentity) throws -> NoteVerifier {
        guard let (key, _) = try? identity.validated() else {
            throw AmanatError(
                .malformedInput, "the identity of \(identity.fingerprint) does not hold a valid Ed25519 key")
        }
        return try NoteVerifier(name: try logOrigin(fingerprint: identity.fingerprint), publicKey: key)
    }

    /// The note verifiers of this workspace and every trusted partner, by origin.
    public func logVerifiers() throws -> [String: NoteVerifier] {
        var result: [String: NoteVerifier] = [:]
        for identity in [try identity()] + (try trustList().partners.map(\.identity)) {
            if let verifier = try? Self.logVerifier(identity) { result[verifier.name] = verifier }
        }
        return result
    }

    /// The fingerprint a log origin names, or nil.
    public static func fingerprint(ofOrigin origin: String) -> String? {
        origin.hasPrefix("amanat.log/") ? String(origin.dropFirst("amanat.log/".count)) : nil
    }

    /// The latest signed checkpoint of this organization's log: the stored one if the log has not grown since,
    /// otherwise a new one, signed now and kept.
    public func checkpoint(store: Store) throws -> (checkpoint: Checkpoint, note: SignedNote) {
        let size = try store.logSize()
        if let (storedSize, bytes) = try store.signedCheckpoint(), storedSize == size,
            let note = try? SignedNote(parsing: bytes), let checkpoint = try? Checkpoint(parsing: note.text)
        {
            return (checkpoint, note)
        }
        let checkpoint = try Checkpoint(
            origin: try logOrigin(), size: size, rootHash: try store.logRoot(size: size), extensions: [])
        let note = try NoteSigner(name: checkpoint.origin, key: try signingKey()).sign(text: checkpoint.body)
        try store.storeCheckpoint(size: size, note: note.serialized)
        return (checkpoint, note)
    }

    /// The C2SP tlog-proof that `entry` is in this organization's log, under the latest checkpoint.
    /// - Throws: ``AmanatError`` when the entry is not logged.
    public func inclusionProof(of entry: LogEntry, store: Store) throws -> TlogProof {
        guard let index = try store.logIndex(of: entry) else {
            throw AmanatError(.invalidRequest, "that \(entry.kind.name) is not in this organization's log")
        }
        let (checkpoint, note) = try self.checkpoint(store: store)
        return try TlogProof(
            index: index, hashes: try store.inclusionProof(index: index, size: checkpoint.size), checkpoint: note)
    }
}

extension Workspace {
    /// The public identity of this workspace or of a trusted partner, by fingerprint.
    public func trustedIdentity(fingerprint: String) throws -> PublicIdentity? {
        let own = try identity()
        if own.fingerprint == fingerprint { return own }
        return try trustList().entry(fingerprint: fingerprint)?.identity
    }
}
