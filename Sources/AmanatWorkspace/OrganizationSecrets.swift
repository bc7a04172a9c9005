import AmanatCrypto
import AmanatRedaction

/// Every key an organization derives from its private keys, with its label, in one place (Specs/sync.md,
/// "Duplicates"; Specs/policies.md, "Pseudonyms"). Nothing here is stored: each key is derived when needed.
///
/// ```
/// master secret          HKDF-SHA-256(Ed25519 seed, info "amanat/master-secret/v1")
/// matching key           HKDF-SHA-256(master, info "amanat/matching/v1")
/// pseudonym key          RedactionOperators.pseudonymKey(master, purpose, recipient, kind)
/// partner matching key   HKDF-SHA-256(X25519(our sealing key, partner's age recipient),
///                                     salt: both age recipients sorted, joined by "\n",
///                                     info "amanat/matching/partner/v1")
/// ```
public struct OrganizationSecrets: Sendable {
    public static let masterSecretLabel = "amanat/master-secret/v1"
    public static let matchingLabel = "amanat/matching/v1"
    public static let partnerMatchingLabel = "amanat/matching/partner/v1"

    /// The organization's master secret.
    let master: SecretBytes

    /// Derives the master secret from the organization's signing key.
    public init(signingKey: Ed25519.SigningKey) throws {
        master = try HKDF.deriveKey(
            inputKeyMaterial: try signingKey.seed(), salt: [], info: Array(Self.masterSecretLabel.utf8),
            outputByteCount: 32)
    }

    /// The key for matching ID numbers across records: HMAC-SHA-256 with it (never an unkeyed hash: the
    /// population register would reverse it).
    public func matchingKey() throws -> SecretBytes {
        try HKDF.deriveKey(inputKeyMaterial: master, info: Array(Self.matchingLabel.utf8), outputByteCount: 32)
    }

    /// The key for the pseudonyms of one identifier kind under a policy's purpose and recipient.
    public func pseudonymKey(purpose: String, recipient: String, kind: IdentifierKind) throws -> SecretBytes {
        try RedactionOperators.pseudonymKey(master: master, purpose: purpose, recipient: recipient, kind: kind)
    }

    /// The matching key agreed with one partner, without any exchange: X25519 between this organization's sealing
    /// key and the partner's age recipient, then HKDF. Both sides derive the same key, so pseudonym lists can be
    /// compared between exactly these two organizations and nobody else.
    public static func partnerMatchingKey(sealingKey: X25519.PrivateKey, partner: PublicIdentity) throws -> SecretBytes
    {
        let peer = try AgeKeyEncoding.publicKey(recipient: partner.ageRecipient)
        let shared = try sealingKey.sharedSecret(with: peer)
        let ours = AgeKeyEncoding.recipient(sealingKey.publicKey)
        let pair = [ours, partner.ageRecipient].sorted().joined(separator: "\n")
        return try HKDF.deriveKey(
            inputKeyMaterial: shared, salt: Array(pair.utf8), info: Array(Self.partnerMatchingLabel.utf8),
            outputByteCount: 32)
    }
}
