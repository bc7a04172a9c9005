import AmanatCrypto
import FuzzSupport

// The strict base64 and base64url decoders (every JWS, SD-JWT disclosure, identity and age stanza goes through
// them). Canonical decoding means one encoding per byte string: whatever decodes must encode back to the input, and
// the several entry points (string, buffer, into an array, 43-character digest) must agree.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let buffer = UnsafeBufferPointer(start: data, count: size)
    let text = String(decoding: buffer, as: UTF8.self)
    let url = Base64URL.decode(text)
    if let url, Base64URL.encode(url) != text { fuzzFailure("base64", "base64url decode/encode is not the identity") }
    let standard = Base64.decodeCanonical(text, urlSafe: false)
    if let standard, Base64.encodeUnpadded(standard) != text {
        fuzzFailure("base64", "base64 decode/encode is not the identity")
    }
    // The raw-buffer decoder reads the input bytes as they are (text above may have replacement characters).
    let rawURL = Base64.decode(buffer, table: Base64.urlTable)
    let rawStandard = Base64.decode(buffer, table: Base64.standardTable)
    if String(validating: buffer, as: UTF8.self) != nil {
        guard rawURL == url, rawStandard == standard else { fuzzFailure("base64", "buffer and string decoders differ") }
    }
    var out: [UInt8] = [1, 2, 3]
    for (urlSafe, expected) in [(true, url), (false, standard)] {
        let ok = Base64.decode(utf8Of: text, urlSafe: urlSafe, into: &out)
        guard ok == (expected != nil), !ok || out == expected! else {
            fuzzFailure("base64", "decode(utf8Of:into:) differs from decodeCanonical")
        }
        guard ok || out.isEmpty else { fuzzFailure("base64", "a failed decode(utf8Of:into:) left bytes behind") }
    }
    if let digest = Base64.decodeDigest(text) {
        guard let url, url.count == 32, digest.bytes == url else { fuzzFailure("base64", "decodeDigest differs") }
    } else if let url, url.count == 32, text.utf8.count == 43 {
        fuzzFailure("base64", "decodeDigest refused a canonical 32-byte digest")
    }
    return 0
}
