/// Why an SD-JWT (RFC 9901) was refused. Messages never contain disclosed values; what they quote from the token
/// (an algorithm, a type, a claim name) is escaped with ``UntrustedText/printable(_:)``.
public enum SDJWTError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed(String)
    case unsupportedAlgorithm(String)
    case wrongType(String)
    case untrustedSigner(fingerprint: String)
    case badSignature
    case unsupportedDigestAlgorithm(String)
    case badDisclosure(index: Int, reason: String)
    case unreferencedDisclosures(count: Int)
    case duplicateDigest
    case reservedClaimName(String)
    case claimAlreadyPresent(String)
    case keyBindingNotSupported
    case tooLarge(String)

    public var description: String {
        switch self {
        case .malformed(let why): return "malformed SD-JWT: \(UntrustedText.printable(why))"
        case .unsupportedAlgorithm(let alg):
            return "unsupported JWS algorithm '\(UntrustedText.printable(alg))' (EdDSA or Ed25519 expected)"
        case .wrongType(let typ): return "unexpected JWT type '\(UntrustedText.printable(typ))'"
        case .untrustedSigner(let fingerprint):
            return "signed by fingerprint \(UntrustedText.printable(fingerprint)), which is not on the trust list"
        case .badSignature: return "the issuer signature does not verify"
        case .unsupportedDigestAlgorithm(let alg):
            return "unsupported _sd_alg '\(UntrustedText.printable(alg))' (sha-256 expected)"
        case .badDisclosure(let index, let reason):
            return "disclosure \(index + 1) is invalid: \(UntrustedText.printable(reason))"
        case .unreferencedDisclosures(let count):
            return "\(count) disclosure\(count == 1 ? " is" : "s are") not referenced by the signed payload"
        case .duplicateDigest: return "a digest appears more than once in the signed payload"
        case .reservedClaimName(let name):
            return "a disclosure uses the reserved claim name '\(UntrustedText.printable(name))'"
        case .claimAlreadyPresent(let name):
            return "a disclosure would overwrite the claim '\(UntrustedText.printable(name))'"
        case .keyBindingNotSupported: return "key binding JWTs are not used by Amanat"
        case .tooLarge(let what): return "\(UntrustedText.printable(what)) is too large"
        }
    }
}
