import AmanatCrypto
import AmanatRecords
import Foundation

/// A JWS a publisher signs beside a publication (record annotations, media annotations): parsed strictly, of the
/// expected `typ`, signed by a key the reader trusts.
enum PublisherJWS {
    /// The verified JWS and its signer (`kid`, a fingerprint); `what` names it in errors ("annotation", "media
    /// annotation").
    /// - Throws: ``PublicationError`` `malformed` or `verificationFailed`, naming `file`.
    static func open(
        _ text: String, file: String, type: String, what: String, trustedKey: (String) -> Ed25519.VerifyingKey?
    ) throws -> (jwt: SignedJWT, kid: String) {
        let jwt: SignedJWT
        do {
            jwt = try SignedJWT.parse(text.trimmingCharacters(in: .whitespacesAndNewlines))
            try jwt.checkAlgorithm()
        } catch let error as SDJWTError {
            throw PublicationError(
                .malformed, "\(file) is not a valid \(what): \(UntrustedText.printable(error.description)).")
        }
        guard jwt.header["typ"]?.stringValue == type else {
            throw PublicationError(.malformed, "\(file) is not an Amanat \(what) (typ is not \(type)).")
        }
        guard let kid = jwt.header["kid"]?.stringValue else {
            throw PublicationError(.malformed, "\(file) has no kid.")
        }
        guard let key = trustedKey(kid) else {
            throw PublicationError(
                .verificationFailed,
                "\(file) is signed by \(UntrustedText.printable(String(kid.prefix(60)))), which is neither this workspace nor in the trust list (nor "
                    + "among the identities given). Add the publisher's public identity with `amanat trust add`, or give "
                    + "it with `amanat verify --identity FILE` (publish writes it beside the records as <fingerprint>.identity.json)."
            )
        }
        guard jwt.verify(with: key) else {
            throw PublicationError(.verificationFailed, "\(file): the publisher's signature does not verify.")
        }
        return (jwt, kid)
    }
}
