/// Errors thrown by ``AmanatAge``. They carry structured facts about the file, never key material, passphrases or
/// plaintext.
///
/// Each case belongs to one of the age test kit's failure classes (``failureClass``), so callers can tell a
/// malformed file (``header(_:)``) from a file for someone else (``noMatch(recipientStanzas:)``), a tampered header
/// (``hmac``), a damaged or cut payload (``payload(_:)``) and broken ASCII armor (``armor(_:)``).
///
/// Errors thrown by the caller's own `source` or `sink` closures are passed through unchanged.
public enum AgeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The header is malformed: bad version line, stanza, base64, MAC line, a malformed stanza of a known type, a
    /// missing payload nonce, or a header beyond the size limits.
    case header(String)
    /// An scrypt stanza asks for more work than the identity allows (a header failure).
    case scryptWorkFactorTooHigh(workFactor: Int, maximum: Int)
    /// None of the identities could unwrap the file key from any of the header's recipient stanzas.
    case noMatch(recipientStanzas: Int)
    /// A file key was unwrapped but the header MAC does not match: the header was altered.
    case hmac
    /// The encrypted payload is damaged, cut short, or followed by extra data.
    case payload(PayloadFailure)
    /// The ASCII armor is not the strict PEM encoding age requires.
    case armor(String)
    /// An `age1…` recipient or `AGE-SECRET-KEY-1…` identity could not be parsed.
    case invalidKey(String)
    /// The API was used in a way it does not allow (no recipients, scrypt mixed with other recipients, a write
    /// after `finish()`, a bad work factor).
    case invalidUse(String)

    /// What went wrong with the payload.
    public enum PayloadFailure: Equatable, Sendable, CustomStringConvertible {
        /// The data ended before a chunk marked final was read (the file was cut short).
        case truncated(afterChunks: UInt64)
        /// There is data after the final chunk.
        case trailingData(afterChunks: UInt64)
        /// A chunk failed authentication (tampered, corrupted, or shorter than a tag).
        case authenticationFailed(chunk: UInt64)
        /// A final chunk was empty although it is not the only chunk.
        case emptyFinalChunk(chunk: UInt64)

        public var description: String {
            switch self {
            case .truncated(let n): return "the payload is cut short after \(n) chunk(s) (no final chunk)"
            case .trailingData(let n): return "unexpected data after the final chunk (chunk \(n))"
            case .authenticationFailed(let c): return "payload chunk \(c) failed authentication"
            case .emptyFinalChunk(let c): return "payload chunk \(c) is an empty final chunk"
            }
        }
    }

    /// The age test kit's failure classes.
    public enum FailureClass: String, Sendable, CaseIterable {
        case header = "header failure"
        case noMatch = "no match"
        case hmac = "HMAC failure"
        case payload = "payload failure"
        case armor = "armor failure"
        /// Not a file problem: a key string or an API misuse.
        case usage = "usage"
    }

    /// The test-kit failure class this error belongs to.
    public var failureClass: FailureClass {
        switch self {
        case .header, .scryptWorkFactorTooHigh: return .header
        case .noMatch: return .noMatch
        case .hmac: return .hmac
        case .payload: return .payload
        case .armor: return .armor
        case .invalidKey, .invalidUse: return .usage
        }
    }

    public var description: String {
        switch self {
        case .header(let reason): return "malformed age header: \(reason)"
        case .scryptWorkFactorTooHigh(let wf, let max):
            return "the passphrase stanza asks for scrypt work factor 2^\(wf), above the allowed 2^\(max)"
        case .noMatch(let n):
            return "none of the file's \(n) recipient stanza(s) can be opened with the given identities"
        case .hmac: return "the age header MAC does not match: the header was altered"
        case .payload(let failure): return "damaged age payload: \(failure)"
        case .armor(let reason): return "malformed age ASCII armor: \(reason)"
        case .invalidKey(let reason): return "invalid age key: \(reason)"
        case .invalidUse(let reason): return "invalid use of the age API: \(reason)"
        }
    }
}
