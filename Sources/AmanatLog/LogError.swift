/// Errors thrown by ``AmanatLog``. They carry structured facts, never secret bytes.
///
/// The `malformed…` and ``tooLarge(what:limit:)`` cases mean the input could not be read at all (exit 65 in the
/// CLI); the others mean it was read but does not hold up (exit 1), or that the caller asked for something
/// impossible.
///
/// - Important: `name`, `origin` and `reason` texts may come from untrusted input (a key name in a note, an origin
///   line). Parsed notes contain no control characters, but escape them before they reach a terminal.
public enum LogError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A hash that should be 32 bytes (SHA-256) has another length.
    case malformedHash(length: Int)
    /// A log entry's encoding is not one this version knows.
    case malformedEntry(reason: String)
    /// A checkpoint body breaks the C2SP tlog-checkpoint format.
    case malformedCheckpoint(reason: String)
    /// A signed note breaks the C2SP signed-note format.
    case malformedNote(reason: String)
    /// A C2SP tlog-proof breaks its format.
    case malformedProof(reason: String)
    /// A verifier key (`name+hex8+base64`) is not well formed, or its key ID does not match its key.
    case malformedVerifierKey(reason: String)
    /// A key name is empty, or contains a Unicode space, a plus sign or a control character.
    case invalidKeyName
    /// An input is over one of the parser's limits.
    case tooLarge(what: String, limit: Int)
    /// A leaf was appended at an index other than the tree's current size.
    case appendOutOfOrder(index: UInt64)
    /// The storage lacks a hash the tree needs (the storage is incomplete or corrupt).
    case missingHash(level: Int, index: UInt64)
    /// A leaf index is not below the tree size.
    case indexOutOfRange(index: UInt64, size: UInt64)
    /// A consistency proof was asked for, or checked, from a larger tree to a smaller one.
    case sizeGoesBackwards(old: UInt64, new: UInt64)
    /// A consistency proof from the empty tree was asked for: there is none (every tree extends the empty one).
    case consistencyFromEmptyTree
    /// A tree size beyond 2^63 − 1 (the largest size C2SP and Go's tlog handle).
    case treeTooLarge(size: UInt64)
    /// The note has no signature by the expected key (same name and key ID).
    case notSignedByKey(name: String)
    /// The note has a signature by the expected key, and it does not verify.
    case badSignature(name: String)
    /// The checkpoint's origin is not the one the verifier is configured for.
    case originMismatch(expected: String, found: String)
    /// An inclusion or consistency proof does not verify (`what` says which).
    case proofDoesNotVerify(what: String)
    /// Two checkpoints of the same origin and size have different root hashes: the log forked.
    case inconsistentCheckpoints(size: UInt64)
    /// A cosignature timestamp is above 2^63 − 1.
    case timestampOutOfRange

    public var description: String {
        switch self {
        case .malformedHash(let length): return "malformed hash: \(length) bytes instead of 32"
        case .malformedEntry(let reason): return "malformed log entry: \(reason)"
        case .malformedCheckpoint(let reason): return "malformed checkpoint: \(reason)"
        case .malformedNote(let reason): return "malformed signed note: \(reason)"
        case .malformedProof(let reason): return "malformed tlog proof: \(reason)"
        case .malformedVerifierKey(let reason): return "malformed verifier key: \(reason)"
        case .invalidKeyName: return "invalid key name (empty, or with a space, a plus sign or a control character)"
        case .tooLarge(let what, let limit): return "\(what) is over the limit of \(limit)"
        case .appendOutOfOrder(let index): return "leaf \(index) is not the next leaf of the log"
        case .missingHash(let level, let index):
            return "the log storage lacks the hash at level \(level), index \(index)"
        case .indexOutOfRange(let index, let size): return "index \(index) is not in a tree of size \(size)"
        case .sizeGoesBackwards(let old, let new): return "tree size goes backwards from \(old) to \(new)"
        case .consistencyFromEmptyTree: return "there is no consistency proof from the empty tree"
        case .treeTooLarge(let size): return "tree size \(size) is over 2^63 - 1"
        case .notSignedByKey(let name): return "not signed by the key \(name)"
        case .badSignature(let name): return "the signature by \(name) does not verify"
        case .originMismatch(let expected, let found): return "checkpoint origin is \(found), expected \(expected)"
        case .proofDoesNotVerify(let what): return "the \(what) proof does not verify"
        case .inconsistentCheckpoints(let size):
            return "two checkpoints of size \(size) have different root hashes: the log forked"
        case .timestampOutOfRange: return "cosignature timestamp is over 2^63 - 1"
        }
    }
}
