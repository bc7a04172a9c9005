import AmanatBundle
import AmanatCrypto
import FuzzSupport

// The bundle's signed JWS entries: MANIFEST.jws (`BundleManifest.parse(jws:)`) and HEADER.jws
// (`BundleHeader.parse(jws:)`), then the signature check against the fuzz organization's key (seeds from Fuzz/seed
// are signed by it). A manifest or header that verifies must come from the seeds' signer.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    do {
        let manifest = try BundleManifest.parse(jws: bytes)
        if manifest.verify(with: FuzzKeys.signing.publicKey) {
            // Only the seeds' signer made signatures, and it always names itself.
            guard manifest.keyID == FuzzKeys.fingerprint else { fuzzFailure("manifest", "a verified manifest's kid") }
            _ = manifest.manifest.contentEntries
        }
    } catch let error as BundleError {
        _ = error.description
    } catch {
        fuzzFailure("manifest", "BundleManifest.parse threw a non-BundleError: \(error)")
    }
    do {
        let header = try BundleHeader.parse(jws: bytes)
        if header.verify(with: FuzzKeys.signing.publicKey) {
            guard header.keyID == FuzzKeys.fingerprint else { fuzzFailure("manifest", "a verified header's kid") }
        }
    } catch let error as BundleError {
        _ = error.description
    } catch {
        fuzzFailure("manifest", "BundleHeader.parse threw a non-BundleError: \(error)")
    }
    return 0
}
