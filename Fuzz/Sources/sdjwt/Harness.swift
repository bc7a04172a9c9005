import AmanatCrypto
import AmanatRecords
import FuzzSupport

// SD-JWT record versions as they arrive from partners: `SDJWT.parse`, then every reader of its parts (the JWT,
// each disclosure, the disclosure map, the verifier against the fuzz organization's key, which signed the seeds, and
// the incoming-version rules), and the presentation withholding every disclosure must verify again.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let sdjwt = try? SDJWT.parse(text) else { return 0 }
    _ = sdjwt.compact
    if let jwt = try? SignedJWT.parse(sdjwt.jwt) {
        _ = try? jwt.checkAlgorithm()
        _ = jwt.verify(with: FuzzKeys.signing.publicKey)
    }
    _ = try? SignedVersion.versionId(jwt: sdjwt.jwt)
    for (i, encoded) in sdjwt.disclosures.enumerated() { _ = try? Disclosure(encoded: encoded, index: i) }
    _ = try? DisclosureResolver(disclosures: sdjwt.disclosures)
    if let map = try? DisclosureMap(sdjwt) {
        for site in map.sites { _ = DisclosureMap.pointer(site.path) }
    }
    guard let verified = try? RecordVerifier.verify(sdjwt, trustedKey: FuzzKeys.trusted) else { return 0 }
    guard verified.signerFingerprint == FuzzKeys.fingerprint else { fuzzFailure("sdjwt", "verified by another key") }
    _ = verified.content.canonical()
    for lacking in [false, true] {
        do {
            try IncomingVersion.validate(verified, sdjwt: sdjwt, mayLackDisclosures: lacking)
        } catch {
            _ = error.description
        }
    }
    // Withholding every disclosure is always a valid presentation (a nested disclosure without its parent is not).
    guard let presented = try? sdjwt.presenting({ _ in false }) else {
        fuzzFailure("sdjwt", "the disclosures of a verified SD-JWT do not decode")
    }
    do {
        let again = try RecordVerifier.verify(presented, trustedKey: FuzzKeys.trusted)
        guard again.versionId == verified.versionId, again.disclosedCount == 0 else {
            fuzzFailure("sdjwt", "a presentation changed the version id or disclosed something")
        }
    } catch {
        fuzzFailure("sdjwt", "withholding every disclosure of a verified SD-JWT: \(error)")
    }
    return 0
}
