import Foundation

/// Why an RFC 3161 timestamp request, reply or token was refused. Each case carries structured facts; none carries
/// the timestamped bytes (only digests are ever timestamped).
public enum TimestampError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The DER (a `TimeStampResp`, a token or a request) or a PEM certificate file could not be parsed.
    case malformed(what: String, reason: String)
    /// An input is larger than this implementation accepts.
    case tooLarge(what: String, limit: Int, actual: Int)
    /// The TSA answered, but did not grant the request; `status` is the PKIStatus (2 rejection, 3 waiting, …),
    /// `text` the TSA's status text and failure bits (untrusted: escape before showing it).
    case notGranted(status: Int, text: String)
    /// The token timestamps a digest made with another algorithm than SHA-256 (`algorithm` is its short name).
    case unsupportedHashAlgorithm(String)
    /// The token timestamps another digest than the one we asked about.
    case imprintMismatch
    /// The token does not carry the nonce of our request (a replayed or mismatched reply).
    case nonceMismatch
    /// The signer's certificate does not chain to a trusted CA certificate, is not valid now, or lacks the
    /// critical timeStamping extended key usage; `reason` is OpenSSL's verification error.
    case untrustedSigner(reason: String)
    /// The signature over the token does not verify (the token was altered).
    case badSignature(reason: String)
    /// No trusted CA certificate was given.
    case noTrustedCertificates
    /// An OpenSSL call failed for another reason; `reasons` is OpenSSL's drained error queue.
    case openssl(operation: String, reasons: [String])

    public var description: String {
        switch self {
        case .malformed(let what, let reason): return "malformed \(what): \(reason)"
        case .tooLarge(let what, let limit, let actual):
            return "\(what) is \(actual) bytes, more than the \(limit) accepted"
        case .notGranted(let status, let text):
            return "the TSA did not grant the timestamp (status \(status)\(text.isEmpty ? "" : ": \(text)"))"
        case .unsupportedHashAlgorithm(let name):
            return "the token timestamps a \(name) digest; only SHA-256 is accepted"
        case .imprintMismatch: return "the token timestamps a different digest (message imprint mismatch)"
        case .nonceMismatch: return "the token does not carry the nonce of the request (nonce mismatch)"
        case .untrustedSigner(let reason): return "the TSA's certificate is not trusted: \(reason)"
        case .badSignature(let reason): return "the token's signature does not verify: \(reason)"
        case .noTrustedCertificates: return "no trusted TSA CA certificate was given"
        case .openssl(let operation, let reasons):
            return reasons.isEmpty ? "\(operation) failed" : "\(operation) failed: \(reasons.joined(separator: "; "))"
        }
    }

    /// True for the failures that mean "this token is not evidence" (exit 1), as opposed to unreadable input.
    public var isVerificationFailure: Bool {
        switch self {
        case .notGranted, .unsupportedHashAlgorithm, .imprintMismatch, .nonceMismatch, .untrustedSigner,
            .badSignature, .noTrustedCertificates:
            return true
        case .malformed, .tooLarge, .openssl:
            return false
        }
    }
}

/// What a verified RFC 3161 token says: the subject's digest existed no later than ``genTime``, per ``tsaName``.
public struct TimestampInfo: Sendable, Equatable, Codable {
    /// The TSA's time (`genTime`), to the second.
    public var genTime: Date
    /// The subject of the certificate that signed the token (RFC 2253 form; untrusted text: escape it).
    public var tsaName: String
    /// The token's serial number, in upper-case hex.
    public var serialNumber: String
    /// The TSA policy under which the token was issued (a dotted OID).
    public var policy: String
    /// The hash algorithm of the message imprint (always `sha256` once verified).
    public var hashAlgorithm: String
    /// The timestamped digest (32 bytes).
    public var digest: [UInt8]
    /// The nonce in the token, if any.
    public var nonce: UInt64?

    public init(
        genTime: Date, tsaName: String, serialNumber: String, policy: String, hashAlgorithm: String, digest: [UInt8],
        nonce: UInt64?
    ) {
        self.genTime = genTime
        self.tsaName = tsaName
        self.serialNumber = serialNumber
        self.policy = policy
        self.hashAlgorithm = hashAlgorithm
        self.digest = digest
        self.nonce = nonce
    }
}

/// Input size limits for timestamp structures (a reply from a real TSA is 3–8 KiB).
public enum TimestampLimits {
    /// The largest `TimeStampResp` accepted (also the HTTP reply limit).
    public static let maximumReplySize = 64 * 1024
    /// The largest token (`ContentInfo`) accepted.
    public static let maximumTokenSize = 64 * 1024
    /// The largest request accepted when a stored request is read back.
    public static let maximumRequestSize = 4 * 1024
    /// The largest PEM file of trusted CA certificates accepted.
    public static let maximumCertificatesSize = 256 * 1024
    /// The most certificates accepted in one PEM file.
    public static let maximumCertificates = 16
}
