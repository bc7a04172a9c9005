import AmanatCrypto

/// C2SP tlog-cosignature `cosignature/v1`: a partner's timestamped Ed25519 statement that, at that time, the
/// checkpoint was the largest consistent tree it had seen from the log (signature type 0x04).
///
/// The signature line's bytes after the key ID are an 8-byte big-endian timestamp and a 64-byte Ed25519
/// signature over:
///
/// ```
/// cosignature/v1
/// time <timestamp>
/// <the checkpoint body>
/// ```
public enum Cosignature {
    /// The first line of the signed message.
    public static let header = "cosignature/v1"
    /// The length of the signature after the key ID.
    public static let signatureCount = 72

    /// The message a cosigner signs for `checkpointBody` at `time`.
    public static func message(checkpointBody: String, time: UInt64) -> [UInt8] {
        Array((header + "\ntime " + String(time) + "\n" + checkpointBody).utf8)
    }

    /// The cosignature line of `key` under `name` for `checkpoint` at `time` (seconds since the Epoch).
    /// - Throws: ``LogError/timestampOutOfRange`` above 2^63 − 1; ``LogError/invalidKeyName``; a `CryptoError`.
    public static func make(
        for checkpoint: Checkpoint, name: String, key: Ed25519.SigningKey, time: UInt64
    ) throws -> NoteSignature {
        guard time <= UInt64(Int64.max) else { throw LogError.timestampOutOfRange }
        let verifier = try NoteVerifier(name: name, publicKey: key.publicKey, algorithm: .cosignatureV1)
        let signature = try key.signature(for: message(checkpointBody: checkpoint.body, time: time))
        let stamp = (0..<8).map { UInt8(truncatingIfNeeded: time >> (56 - 8 * $0)) }
        return try NoteSignature(name: name, keyID: verifier.keyID, signature: stamp + signature)
    }

    /// The time of `verifier`'s valid cosignature in `note`, whose text must be a checkpoint; nil if there is
    /// none, any cosignature by that key fails, or the verifier is not a cosignature verifier.
    public static func verify(_ note: SignedNote, verifier: NoteVerifier) -> UInt64? {
        guard verifier.algorithm == .cosignatureV1, (try? Checkpoint(parsing: note.text)) != nil else { return nil }
        let matching = note.signatures(name: verifier.name, keyID: verifier.keyID)
        var time: UInt64? = nil
        for signature in matching {
            guard let t = timestamp(of: signature, text: note.text, publicKey: verifier.publicKey) else { return nil }
            time = max(time ?? 0, t)
        }
        return time
    }

    /// The time of `signature` if it is `verifier`'s valid cosignature of `checkpoint`, else nil.
    public static func verify(_ signature: NoteSignature, for checkpoint: Checkpoint, verifier: NoteVerifier) -> UInt64?
    {
        guard verifier.algorithm == .cosignatureV1, signature.keyID == verifier.keyID,
            NoteText.same(signature.name, verifier.name)
        else { return nil }
        return timestamp(of: signature, text: checkpoint.body, publicKey: verifier.publicKey)
    }

    static func timestamp(of signature: NoteSignature, text: String, publicKey: Ed25519.VerifyingKey) -> UInt64? {
        let bytes = signature.signature
        guard bytes.count == signatureCount else { return nil }
        let time = bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard time <= UInt64(Int64.max) else { return nil }
        let valid = publicKey.isValidSignature(
            Array(bytes[8...]), for: message(checkpointBody: text, time: time))
        return valid ? time : nil
    }
}
