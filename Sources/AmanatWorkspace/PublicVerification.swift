import AmanatCrypto
import AmanatPublish
import AmanatRecords
import Foundation

/// The keys a verification accepts: a workspace's (its own identity and its trust list), public identity files
/// a reader was given (`amanat verify --identity FILE`), or both.
///
/// Anyone can check a published record without a workspace and without a passphrase: the identities are given as
/// files (a publication carries them beside its records as `<fingerprint>.identity.json`), each checked as `amanat trust add` checks one (its
/// signing key signed its name and age recipient, and its fingerprint is that key's). Inside a workspace the
/// identities given are accepted **in addition to** the trust list: giving a file never makes a trusted key
/// untrusted, and an organization the trust list names keeps the name it has there.
///
/// An identity file that travels with a publication only proves that the files agree with one another, not who
/// made them: a reader compares its fingerprint with the one the organization publishes elsewhere (its web site, a
/// printed report, a phone call). ``given`` lists them for that.
public struct VerificationKeys: Sendable {
    /// A public identity read from a file.
    public struct GivenIdentity: Sendable, Equatable {
        public var identity: PublicIdentity
        /// The file it was read from.
        public var file: String
    }

    /// The workspace whose trust list is used, if any.
    public let workspace: Workspace?
    /// Identities given as files, in the order given, once per fingerprint.
    public let given: [GivenIdentity]
    private let keys: [String: Ed25519.VerifyingKey]

    /// Reads and checks every identity file and collects the keys.
    /// - Parameters:
    ///   - workspace: the workspace whose own identity and trust list are accepted too; nil outside any workspace.
    ///   - identityFiles: public identity files (JSON from `amanat identity export`, or `<fingerprint>.identity.json` of a
    ///     publication).
    /// - Throws: ``AmanatError``: `inputMissing` for a missing file, `verificationFailed` for an identity whose
    ///   self-signature or fingerprint does not verify, `malformedInput` for a file that is not an identity,
    ///   `invalidRequest` when there is neither a workspace nor an identity.
    public init(workspace: Workspace?, identityFiles: [String]) throws {
        guard workspace != nil || !identityFiles.isEmpty else {
            throw AmanatError(
                .invalidRequest,
                "there is nothing to verify against: no workspace here and no --identity. Give the signers' public "
                    + "identities with --identity FILE (a publication carries them as <fingerprint>.identity.json), or run "
                    + "the command in a workspace.")
        }
        var keys = try workspace?.trustedKeys() ?? [:]
        var given: [GivenIdentity] = []
        for file in identityFiles {
            let identity = try Workspace.readIdentity(file)
            let (signing, _) = try identity.validated()
            guard !given.contains(where: { $0.identity.fingerprint == identity.fingerprint }) else { continue }
            keys[identity.fingerprint] = signing
            given.append(GivenIdentity(identity: identity, file: file))
        }
        self.workspace = workspace
        self.given = given
        self.keys = keys
    }

    /// The key of the signer with this fingerprint, if accepted.
    public func key(_ fingerprint: String) -> Ed25519.VerifyingKey? { keys[fingerprint] }

    /// The identity file given for this fingerprint, if any.
    public func givenIdentity(_ fingerprint: String) -> GivenIdentity? {
        given.first { $0.identity.fingerprint == fingerprint }
    }

    /// How to name a signer, safe to print: "this workspace (…)" or its trust-list name; else the organization an
    /// identity file names, marked as such ("'Steppe Rights Archive' (identity file)"); else the fingerprint.
    public func name(_ fingerprint: String) -> String {
        if let name = workspace?.partnerName(fingerprint: fingerprint) { return name }
        if let given = givenIdentity(fingerprint) {
            return "'\(UntrustedText.printable(given.identity.organization))' (identity file)"
        }
        return UntrustedText.printable(fingerprint)
    }

    /// Verifies an SD-JWT record version or presentation against these keys.
    /// - Throws: ``AmanatRecords/SDJWTError``.
    public func verify(_ sdjwt: SDJWT) throws -> VerifiedVersion {
        try RecordVerifier.verify(sdjwt, trustedKey: { keys[$0] })
    }

    /// Verifies a publisher's annotation against these keys: its signature, its binding to the presentation
    /// `verified` came from, the collector it names, and that it overlays no disclosed value.
    /// - Throws: ``AmanatError``.
    public func verifyAnnotation(
        _ text: String, file: String, presentation: SDJWT, verified: VerifiedVersion
    ) throws -> Annotation.Verified {
        do {
            return try Annotation.verify(
                text, file: file, presentation: presentation, verified: verified, trustedKey: { keys[$0] })
        } catch let error as PublicationError {
            throw AmanatError(error)
        }
    }

    /// Why a version did not verify, as people read it: for an unknown signer, where its key may come from.
    public func explain(_ error: SDJWTError) -> String {
        guard case .untrustedSigner(let fingerprint) = error else { return error.description }
        let shown = UntrustedText.printable(fingerprint)
        switch (workspace != nil, given.isEmpty) {
        case (true, true):
            return "signed by fingerprint \(shown), which is not on the trust list; add its public identity with "
                + "`amanat trust add FILE`, or give it with --identity FILE"
        case (true, false):
            return "signed by fingerprint \(shown), which is neither on the trust list nor among the identities given "
                + "with --identity"
        default:
            return "signed by fingerprint \(shown), which none of the identities given with --identity has: the file "
                + "was not signed by them, or was altered"
        }
    }
}
