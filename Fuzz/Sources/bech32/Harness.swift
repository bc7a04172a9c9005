import AmanatAge
import AmanatCrypto
import FuzzSupport

// Bech32 (`Bech32.decode`) and the age key strings built on it (`age1…` recipients, `AGE-SECRET-KEY-1…`
// identities). Decoding is strict, so whatever decodes must encode back to the same text (in lower case; identities
// in upper case).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let (hrp, bytes) = Bech32.decode(text) {
        guard Bech32.encode(hrp: hrp, data: bytes) == text.lowercased() else {
            fuzzFailure("bech32", "decode then encode does not give the input back")
        }
    }
    if let key = try? AgeKeyEncoding.publicKey(recipient: text) {
        guard AgeKeyEncoding.recipient(key) == text.lowercased() else {
            fuzzFailure("bech32", "a recipient does not encode back to its text")
        }
        _ = try? X25519AgeRecipient(text)
    }
    if let key = try? AgeKeyEncoding.privateKey(secretKey: text) {
        guard let encoded = try? AgeKeyEncoding.secretKey(key),
            String(decoding: encoded.unprotectedArray, as: UTF8.self) == text.uppercased()
        else { fuzzFailure("bech32", "an identity does not encode back to its text") }
        _ = try? X25519AgeIdentity(secretKey: text)
    }
    return 0
}
