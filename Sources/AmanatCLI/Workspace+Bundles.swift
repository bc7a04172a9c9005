import AmanatBundle
import AmanatCrypto
import Foundation

extension Workspace {
    /// Resolves `-r/--to` values: a trust-list name, a public identity file, or a bare `age1…` recipient.
    func resolveRecipients(_ values: [String]) throws -> [BundleRecipient] {
        let list = try trustList()
        var result: [BundleRecipient] = []
        var seen = Set<String>()
        for value in values {
            let recipient: BundleRecipient
            if let entry = list.entry(named: value) {
                recipient = try BundleRecipient(identity: entry.identity)
            } else if value.hasPrefix("age1") {
                do {
                    recipient = try BundleRecipient(ageRecipient: value)
                } catch {
                    throw CLIError(.usage, "'\(value)' is not a valid age1… recipient.")
                }
            } else if FileManager.default.fileExists(atPath: value) {
                recipient = try BundleRecipient(identity: TrustAddCommand.readIdentity(value))
            } else {
                throw CLIError(
                    .usage,
                    "'\(value)' is neither a partner on the trust list, an identity file, nor an age1… recipient. "
                        + "See `amanat trust list`.")
            }
            let key = AgeKeyEncoding.recipient(recipient.publicKey)
            if seen.insert(key).inserted { result.append(recipient) }
        }
        return result
    }

    /// A lookup of trusted signing keys by fingerprint (the trust list plus this workspace itself).
    func trustedSigners() throws -> BundleOpener.TrustLookup {
        let keys = try trustedKeys()
        return { keys[$0] }
    }

    /// The local name of a trusted fingerprint, for messages.
    func partnerName(fingerprint: String) -> String? {
        if let own = try? identity(), own.fingerprint == fingerprint { return "this workspace (\(own.organization))" }
        return (try? trustList())?.entry(fingerprint: fingerprint)?.name
    }
}

extension BundleError {
    /// The error as people read it, about the bundle file `file`.
    func cliError(file: String, workspace: Workspace?) -> CLIError {
        switch self {
        case .noMatchingRecipient(let n):
            let fingerprint = (try? workspace?.identity().fingerprint) ?? nil
            return CLIError(
                .verificationFailed,
                "\(file) could not be opened: none of its \(n) recipient\(n == 1 ? " is" : "s is") this workspace's key"
                    + (fingerprint.map { " (fingerprint \($0))" } ?? "") + ". Ask the sender to seal it for you.")
        case .tampered(let entry, let reason):
            return CLIError(
                .verificationFailed,
                "\(file) was tampered with, damaged or cut short: \(entry): \(reason). Nothing was extracted; ask the sender to "
                    + "send it again.")
        case .truncated(let why):
            return CLIError(
                .verificationFailed,
                "\(file) is truncated: cut short (\(why)). Nothing was extracted; ask for the whole file again.")
        case .untrustedSigner(let fingerprint, let organization):
            let who = organization.isEmpty ? "an organization" : "'\(organization)'"
            return CLIError(
                .verificationFailed,
                "\(file) is signed by \(who) with fingerprint \(fingerprint), which is not on your trust list. Nothing was "
                    + "extracted. If you expect bundles from them, get their identity file, compare this fingerprint "
                    + "with them by phone, then run `amanat trust add FILE`.")
        case .badSignature:
            return CLIError(
                .verificationFailed,
                "\(file): the manifest signature does not verify. Nothing was extracted; do not trust it.")
        case .notABundle(let why):
            return CLIError(
                .malformedInput,
                "\(file) decrypts with your key but is not an Amanat bundle (\(why)). If it is a plain age file, open "
                    + "it with `age -d -i` and `amanat identity export --age`.")
        case .notAnAgeFile(let why):
            return CLIError(.malformedInput, "\(file) is not an age-encrypted Amanat bundle (\(why)).")
        case .notAddressedToUs:
            let fingerprint = (try? workspace?.identity().fingerprint) ?? nil
            return CLIError(
                .verificationFailed,
                "\(file) was refused: \(self), not for this workspace"
                    + (fingerprint.map { " (fingerprint \($0))" } ?? "")
                    + ". Nothing was extracted or imported. Records are forwarded by re-sealing: ask the sender to seal it for you."
            )
        case .hostileEntry, .entryTooLarge, .badManifest:
            return CLIError(.malformedInput, "\(file) was refused: \(self). Nothing was extracted.")
        case .invalidInput(let why):
            return CLIError(.usage, why)
        }
    }
}
