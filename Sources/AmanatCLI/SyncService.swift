import AmanatCrypto
import AmanatRecords
import AmanatRedaction
import AmanatStore
import AmanatSync
import Foundation

/// Derives the sync view (heads, merges, conflicts, state hash) from the store.
struct SyncService {
    let service: RecordService

    init(workspace: Workspace) throws { service = try RecordService(workspace: workspace) }

    var workspace: Workspace { service.workspace }

    /// The view derived from every version in the store.
    func view() throws -> SyncView {
        do {
            return try service.store.deriveView(authority: service.authority)
        } catch let error as StoreError {
            throw CLIError(.malformedInput, "\(error); restore the store from a backup.")
        }
    }

    /// An organization named on the command line: a trust-list name, this workspace's name, or a fingerprint.
    func fingerprint(forOrganization text: String) throws -> String? {
        if let entry = try workspace.trustList().entry(named: text) { return entry.identity.fingerprint }
        let own = try workspace.identity()
        if text == own.organization || text == "self" { return own.fingerprint }
        return Fingerprint.normalize(text)
    }

    // MARK: Duplicates

    /// The key for matching ID numbers across records: HMAC-SHA-256 with a key derived from the organization's
    /// master secret (never an unkeyed hash: the population register would reverse it).
    static func matchingKey(signingKey: Ed25519.SigningKey) throws -> SecretBytes {
        let master = try HKDF.deriveKey(
            inputKeyMaterial: try signingKey.seed(), info: Array("amanat/master-secret/v1".utf8), outputByteCount: 32)
        return try HKDF.deriveKey(inputKeyMaterial: master, info: Array("amanat/matching/v1".utf8), outputByteCount: 32)
    }

    /// The matching key agreed with one partner, without any exchange: X25519 between this organization's sealing
    /// key and the partner's age recipient, then HKDF. Both sides derive the same key, so pseudonym lists can be
    /// compared between exactly these two organizations and nobody else.
    static func matchingKey(sealingKey: X25519.PrivateKey, partner: PublicIdentity) throws -> SecretBytes {
        let peer = try AgeKeyEncoding.publicKey(recipient: partner.ageRecipient)
        let shared = try sealingKey.sharedSecret(with: peer)
        let ours = AgeKeyEncoding.recipient(sealingKey.publicKey)
        let pair = [ours, partner.ageRecipient].sorted().joined(separator: "\n")
        return try HKDF.deriveKey(
            inputKeyMaterial: shared, salt: Array(pair.utf8), info: Array("amanat/matching/partner/v1".utf8),
            outputByteCount: 32)
    }

    /// Keyed pseudonyms of the normalized ID numbers (Chinese resident IDs, IINs) in a record.
    static func matchingKeys(_ content: JSONValue, key: SecretBytes) throws -> Set<String> {
        var values: [(IdentifierKind, String)] = []
        func collect(_ person: JSONValue?) {
            guard let person else { return }
            if let id = person["cnResidentId"]?.stringValue, let normalized = ChineseResidentID.normalize(id) {
                values.append((.cnResidentID, normalized))
            }
            if let iin = person["kzIin"]?.stringValue, KazakhIIN.isValid(iin) { values.append((.kzIIN, iin)) }
        }
        collect(content["testifier"])
        for detainee in content["detainees"]?.arrayValue ?? [] { collect(detainee) }
        var keys = Set<String>()
        for (kind, value) in values {
            let mac = try HMACSHA256.authenticationCode(key: key, message: Array("\(kind.rawValue)\u{0}\(value)".utf8))
            keys.insert(Base64URL.encode(mac.prefix(16)))
        }
        return keys
    }

    /// The matching pseudonyms of every record that is not retracted and still has content.
    static func matchingKeys(_ view: SyncView, key: SecretBytes) throws -> [String: Set<String>] {
        var keys: [String: Set<String>] = [:]
        for record in view.records where record.status != .retracted {
            if let content = record.content { keys[record.recordId] = try matchingKeys(content, key: key) }
        }
        return keys
    }

    /// Link assertions made with `amanat link` (links of kind same_person / different_person).
    static func assertions(_ view: SyncView) -> [LinkAssertion] {
        var result: [LinkAssertion] = []
        for record in view.records {
            guard let content = record.content else { continue }
            for link in content["links"]?.arrayValue ?? [] {
                guard let other = link["recordId"]?.stringValue, let kind = link["kind"]?.stringValue else { continue }
                let relation: LinkAssertion.Relation
                switch kind {
                case "same_person": relation = .same
                case "different_person": relation = .different
                default: continue
                }
                result.append(
                    LinkAssertion(
                        recordA: record.recordId, recordB: other, relation: relation,
                        signer: record.heads.first?.signer ?? "",
                        issuedAt: 0))
            }
        }
        return result
    }
}
