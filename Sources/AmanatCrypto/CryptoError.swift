/// Errors thrown by ``AmanatCrypto``. They carry structured facts, never secret bytes.
public enum CryptoError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An OpenSSL call failed; `reasons` is OpenSSL's drained error queue (library reason strings only).
    case openssl(operation: String, reasons: [String])
    /// A key, nonce or tag had the wrong length.
    case invalidLength(what: String, expected: Int, actual: Int)
    /// Authenticated decryption failed: the ciphertext, tag, nonce, key or associated data is wrong.
    case authenticationFailed
    /// X25519 with this peer key gives the all-zero shared secret (a low-order peer key); RFC 7748 §6.1 says to
    /// refuse it. OpenSSL 3 refuses to derive it; a derivation that did yield all zeroes is refused the same way.
    case zeroSharedSecret
    /// OpenSSL refused an X25519 derivation for a reason other than a low-order peer key; `reasons` is OpenSSL's
    /// drained error queue.
    case keyAgreementFailed(reasons: [String])
    /// An encoded key or structure could not be parsed.
    case malformed(what: String, reason: String)
    /// The passphrase did not decrypt the key file.
    case wrongPassphrase
    /// The key is of a type this operation does not accept (e.g. an X25519 key where Ed25519 is expected).
    case unsupportedKey(String)
    /// A key-derivation parameter is out of the accepted range (e.g. scrypt work factor too high).
    case parameterOutOfRange(String)

    public var description: String {
        switch self {
        case .openssl(let operation, let reasons):
            return reasons.isEmpty ? "\(operation) failed" : "\(operation) failed: \(reasons.joined(separator: "; "))"
        case .invalidLength(let what, let expected, let actual):
            return "\(what) must be \(expected) bytes, got \(actual)"
        case .authenticationFailed:
            return "authentication failed (wrong key or tampered data)"
        case .zeroSharedSecret:
            return "the peer's X25519 key is a low-order point (all-zero shared secret)"
        case .keyAgreementFailed(let reasons):
            return reasons.isEmpty
                ? "X25519 key agreement failed" : "X25519 key agreement failed: \(reasons.joined(separator: "; "))"
        case .malformed(let what, let reason):
            return "malformed \(what): \(reason)"
        case .wrongPassphrase:
            return "wrong passphrase"
        case .unsupportedKey(let kind):
            return "unsupported key: \(kind)"
        case .parameterOutOfRange(let what):
            return "parameter out of range: \(what)"
        }
    }
}

/// Runs `body` (whose closures throw only ``CryptoError`` through untyped `rethrows` APIs such as
/// `withUnsafeBytes`) and restores the typed error.
@inline(__always)
func typed<R>(_ body: () throws -> R) throws -> R {
    do {
        return try body()
    } catch let error as CryptoError {
        throw error
    } catch {
        throw CryptoError.malformed(what: "input", reason: "unexpected error")
    }
}
