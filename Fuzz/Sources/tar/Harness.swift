import AmanatAge
import AmanatBundle
import AmanatCrypto
import FuzzSupport

// The bundle's tar reader, through the public `BundleOpener.open`: the input is the tar archive (the decrypted
// content of a bundle), encrypted here to the fuzz organization's key so that the opener decrypts it and parses it
// as it would a partner's bundle. The fuzz organization trusts itself, so seeds sealed by it (Fuzz/seed) verify and
// the fuzzer reaches the entries, the signed header and the manifest. On success, every entry the manifest lists
// must have reached the output with its declared size, and nothing else.

/// Receives entries in memory and checks the order of calls.
private final class Collector: BundleEntryOutput {
    var sizes: [String: UInt64] = [:]
    var current: (path: String, declared: UInt64, got: UInt64)?

    func begin(path: String, size: UInt64) throws {
        guard current == nil else { fuzzFailure("tar", "begin() while an entry is open") }
        guard sizes[path] == nil else { fuzzFailure("tar", "the same path was output twice") }
        current = (path, size, 0)
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let open = current else { fuzzFailure("tar", "write() outside an entry") }
        current = (open.path, open.declared, open.got + UInt64(bytes.count))
        guard current!.got <= open.declared else { fuzzFailure("tar", "more bytes than the entry declares") }
    }

    func end() throws {
        guard let open = current else { fuzzFailure("tar", "end() outside an entry") }
        guard open.got == open.declared else { fuzzFailure("tar", "an entry ended short of its declared size") }
        sizes[open.path] = open.got
        current = nil
    }
}

private let recipient = X25519AgeRecipient(publicKey: FuzzKeys.sealing.publicKey)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let tar = fuzzInput(data, size)
    guard let file = try? Age.encrypt(tar, to: [recipient]) else { fatalError("age encryption failed") }
    let collector = Collector()
    do {
        let opened = try BundleOpener.open(
            source: Age.memorySource(file), sizeLimit: UInt64(file.count), identity: FuzzKeys.sealing,
            trustedSigner: FuzzKeys.trusted, ownFingerprint: FuzzKeys.fingerprint, output: collector)
        guard collector.current == nil else { fuzzFailure("tar", "open() returned with an entry still open") }
        let listed = Dictionary(opened.manifest.contentEntries.map { ($0.path, $0.size) }) { a, _ in a }
        guard listed == collector.sizes else {
            fuzzFailure("tar", "the files output differ from the verified manifest")
        }
    } catch let error as BundleError {
        _ = error.description
    } catch {
        fuzzFailure("tar", "BundleOpener.open threw a non-BundleError: \(error)")
    }
    return 0
}
