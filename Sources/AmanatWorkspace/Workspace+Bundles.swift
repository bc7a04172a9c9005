import AmanatBundle
import AmanatCrypto
import AmanatRecords
import Foundation

extension Workspace {
    /// Reads and fully validates a public identity file; errors name the file and the problem.
    public static func readIdentity(_ file: String) throws -> PublicIdentity {
        guard FileManager.default.fileExists(atPath: file) else {
            throw AmanatError(.inputMissing, "\(file) does not exist.")
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw AmanatError(.ioError, "cannot read \(file).")
        }
        guard data.count <= 64 * 1024 else {
            throw AmanatError(.malformedInput, "\(file) is too large to be a public identity (\(data.count) bytes).")
        }
        let identity: PublicIdentity
        do {
            identity = try JSONDecoder().decode(PublicIdentity.self, from: data)
        } catch {
            throw AmanatError(
                .malformedInput,
                "\(file) is not an Amanat public identity (expected the JSON written by `amanat identity export`).")
        }
        do {
            _ = try identity.validated()
        } catch PublicIdentity.ValidationError.bindingInvalid {
            throw AmanatError(
                .verificationFailed,
                "\(file): \(PublicIdentity.ValidationError.bindingInvalid). Do not trust it; ask the partner to export "
                    + "the identity again.")
        } catch let error as PublicIdentity.ValidationError {
            // The reason may quote the file (its type, its stated fingerprint): escaped.
            let why = UntrustedText.printable(error.description)
            if case .fingerprintMismatch = error {
                throw AmanatError(.verificationFailed, "\(file): \(why). Do not trust it.")
            }
            throw AmanatError(.malformedInput, "\(file): \(why).")
        }
        return identity
    }

    /// Resolves `-r/--to` values: a trust-list name, a public identity file, or a bare `age1…` recipient.
    public func resolveRecipients(_ values: [String]) throws -> [BundleRecipient] {
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
                    throw AmanatError(
                        .invalidRequest, "'\(UntrustedText.printable(value))' is not a valid age1… recipient.")
                }
            } else if FileManager.default.fileExists(atPath: value) {
                recipient = try BundleRecipient(identity: Workspace.readIdentity(value))
            } else {
                throw unknownPartnerError(value, option: "-r", also: ["a public identity file", "an age1… recipient"])
            }
            let key = AgeKeyEncoding.recipient(recipient.publicKey)
            if seen.insert(key).inserted { result.append(recipient) }
        }
        return result
    }

    /// A lookup of trusted signing keys by fingerprint (the trust list plus this workspace itself).
    public func trustedSigners() throws -> BundleOpener.TrustLookup {
        let keys = try trustedKeys()
        return { keys[$0] }
    }

    /// The local name of a trusted fingerprint, for messages.
    /// The name is safe to print (``AmanatRecords/UntrustedText/printable(_:)``): organization names come from
    /// identity files.
    public func partnerName(fingerprint: String) -> String? {
        if let own = try? identity(), own.fingerprint == fingerprint {
            return "this workspace (\(UntrustedText.printable(own.organization)))"
        }
        return ((try? trustList())?.entry(fingerprint: fingerprint)?.name).map(UntrustedText.printable)
    }
}

extension BundleError {
    /// The error as people read it, about the bundle file `file`.
    public func amanatError(file: String, workspace: Workspace?) -> AmanatError {
        switch self {
        case .noMatchingRecipient(let n):
            let fingerprint = (try? workspace?.identity().fingerprint) ?? nil
            return AmanatError(
                .verificationFailed,
                "\(file) could not be opened: none of its \(n) recipient\(n == 1 ? " is" : "s is") this workspace's key"
                    + (fingerprint.map { " (fingerprint \($0))" } ?? "") + ". Ask the sender to seal it for you.")
        case .tampered(let entry, let reason):
            return AmanatError(
                .verificationFailed,
                "\(file) was tampered with, damaged or cut short: \(entry): \(reason). Nothing was extracted; ask the sender to "
                    + "send it again.")
        case .truncated(let why):
            return AmanatError(
                .verificationFailed,
                "\(file) is truncated: cut short (\(why)). Nothing was extracted; ask for the whole file again.")
        case .untrustedSigner(let fingerprint, let organization):
            let who = organization.isEmpty ? "an organization" : "'\(UntrustedText.printable(organization))'"
            return AmanatError(
                .verificationFailed,
                "\(file) is signed by \(who) with fingerprint \(fingerprint), which is not on your trust list. Nothing was "
                    + "extracted. If you expect bundles from them, get their identity file, compare this fingerprint "
                    + "with them by phone, then run `amanat trust add FILE`.")
        case .badSignature:
            return AmanatError(
                .verificationFailed,
                "\(file): the manifest signature does not verify. Nothing was extracted; do not trust it.")
        case .notABundle(let why):
            return AmanatError(
                .malformedInput,
                "\(file) decrypts with your key but is not an Amanat bundle (\(why)). If it is a plain age file, open "
                    + "it with `age -d -i` and `amanat identity export --age`.")
        case .notAnAgeFile(let why):
            return AmanatError(.malformedInput, "\(file) is not an age-encrypted Amanat bundle (\(why)).")
        case .notAddressedToUs:
            let fingerprint = (try? workspace?.identity().fingerprint) ?? nil
            return AmanatError(
                .verificationFailed,
                "\(file) was refused: \(self), not for this workspace"
                    + (fingerprint.map { " (fingerprint \($0))" } ?? "")
                    + ". Nothing was extracted or imported. Records are forwarded by re-sealing: ask the sender to seal it for you."
            )
        case .hostileEntry, .entryTooLarge, .badManifest:
            return AmanatError(.malformedInput, "\(file) was refused: \(self). Nothing was extracted.")
        case .exceedsHeader(let why):
            return AmanatError(
                .verificationFailed,
                "\(file) was refused: \(why). Nothing was extracted or imported; do not trust it.")
        case .invalidInput(let why):
            return AmanatError(.invalidRequest, why)
        }
    }
}
