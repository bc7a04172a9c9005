import AmanatAge

/// Errors thrown while sealing or opening a bundle. They carry structured facts (entry paths, fingerprints,
/// counts), never key material or plaintext.
public enum BundleError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input is not an age file at all.
    case notAnAgeFile(String)
    /// None of the bundle's recipient stanzas opens with this workspace's key.
    case noMatchingRecipient(recipients: Int)
    /// The age payload failed authentication, or an entry does not match the signed manifest.
    case tampered(entry: String, reason: String)
    /// The bundle ends early.
    case truncated(String)
    /// The manifest is signed by a key that is not on the trust list.
    case untrustedSigner(fingerprint: String, organization: String)
    /// The manifest signature does not verify under the trusted key.
    case badSignature
    /// The age file decrypts, but what is inside is not an Amanat bundle.
    case notABundle(String)
    /// A tar entry that Amanat refuses to extract (absolute path, `..`, link, device, duplicate…).
    case hostileEntry(path: String, reason: String)
    /// A tar header declares more bytes than the bundle can hold.
    case entryTooLarge(path: String, declared: UInt64, limit: UInt64)
    /// The manifest is malformed.
    case badManifest(String)
    /// The signed manifest does not name this workspace as a recipient (it lists these, for the message).
    case notAddressedToUs(recipients: [String])
    /// The bundle holds more (or other) than its signed header declared.
    case exceedsHeader(String)
    /// A problem with the sender's inputs when sealing (duplicate names, unreadable files).
    case invalidInput(String)

    public var description: String {
        switch self {
        case .notAnAgeFile(let why): return "not an age-encrypted file (\(why))"
        case .noMatchingRecipient(let n):
            return "none of its \(n) recipient\(n == 1 ? "" : "s") is this workspace's key"
        case .tampered(let entry, let reason): return "tampered or corrupted (\(entry)): \(reason)"
        case .truncated(let why): return "truncated: \(why)"
        case .untrustedSigner(let fingerprint, let organization):
            return
                "signed by \(organization.isEmpty ? "an organization" : "'\(organization)'") with fingerprint \(fingerprint), which is not on the trust list"
        case .badSignature: return "the manifest signature does not verify"
        case .notABundle(let why): return "a valid age file, but not an Amanat bundle (\(why))"
        case .hostileEntry(let path, let reason): return "refused entry '\(path)': \(reason)"
        case .entryTooLarge(let path, let declared, let limit):
            return "entry '\(path)' declares \(declared) bytes but the bundle can hold at most \(limit)"
        case .badManifest(let why): return "malformed manifest: \(why)"
        case .notAddressedToUs(let recipients):
            return "the signed manifest does not name this workspace as a recipient (it was sealed for "
                + (recipients.isEmpty ? "nobody" : recipients.joined(separator: ", ")) + ")"
        case .exceedsHeader(let why): return "refused: \(why)"
        case .invalidInput(let why): return why
        }
    }

    /// Maps an age error met while reading a bundle.
    static func from(_ error: AgeError) -> BundleError {
        switch error {
        case .noMatch(let n): return .noMatchingRecipient(recipients: n)
        case .hmac: return .tampered(entry: "age header", reason: "the header MAC does not match")
        case .payload(let failure):
            switch failure {
            case .truncated: return .truncated(failure.description)
            case .trailingData, .authenticationFailed, .emptyFinalChunk:
                return .tampered(entry: "encrypted payload", reason: failure.description)
            }
        case .header(let why): return .notAnAgeFile(why)
        case .armor(let why): return .notAnAgeFile(why)
        case .scryptWorkFactorTooHigh, .invalidKey, .invalidUse: return .notAnAgeFile(error.description)
        }
    }
}
