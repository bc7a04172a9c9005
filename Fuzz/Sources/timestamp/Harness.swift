import AmanatCrypto
import FuzzSupport

/// The CA of the recorded exchange in Tests/Vectors/rfc3161 (a throw-away test CA whose key was deleted), so that
/// the seeds (its replies and token) reach the signature and certificate checks.
private let trusted: TrustedCertificates = {
    do {
        return try TrustedCertificates(
            pem: """
                -----BEGIN CERTIFICATE-----
                MIIB0jCCAXegAwIBAgIUVo3Y6qZyplBCV/MtVXrILU6jR88wCgYIKoZIzj0EAwIw
                NTEUMBIGA1UECgwLQW1hbmF0IFRlc3QxHTAbBgNVBAMMFEFtYW5hdCBUZXN0IFRT
                QSBSb290MCAXDTI2MTIwNjE1MzIzMVoYDzIxMjYxMTEyMTUzMjMxWjA1MRQwEgYD
                VQQKDAtBbWFuYXQgVGVzdDEdMBsGA1UEAwwUQW1hbmF0IFRlc3QgVFNBIFJvb3Qw
                WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQZo6WqJxKEtixSemNidyeDCnLjjW5a
                0R9eopy4sDVI9JnqwmGAwf3h/Ki6ZADCj0/6CzqZYLaFXEtluKtcjYyUo2MwYTAd
                BgNVHQ4EFgQU8AlWzxG25cn23u8sc/nl8pEMtrswHwYDVR0jBBgwFoAU8AlWzxG2
                5cn23u8sc/nl8pEMtrswDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYw
                CgYIKoZIzj0EAwIDSQAwRgIhAK6EusZx8Wz7PukAHItKwKLWeYuHXVSh1FmF/h0j
                c1M+AiEAr/5LPYuSlExf5NYX8VergXAPKIc1jldSTLg/xn1+Clg=
                -----END CERTIFICATE-----
                """)
    } catch {
        fatalError("cannot read the fuzz TSA CA: \(error)")
    }
}()

// Hostile RFC 3161 DER: `TimestampReply(der:)` (a TimeStampResp), `TimestampToken(der:)` (a ContentInfo),
// `TimestampRequest(der:)`, each parsed token verified against its own imprint with the recorded test CA, and the
// input read as a PEM CA file. A token that verifies must state a SHA-256 imprint equal to the digest it was
// verified over; a reply that is not granted carries no token.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    var tokens: [TimestampToken] = []
    if let reply = try? TimestampReply(der: bytes) {
        if reply.status >= 2, reply.token != nil { fuzzFailure("timestamp", "a refused reply holds a token") }
        if let token = reply.token { tokens.append(token) }
        if let request = try? TimestampRequest(sha256Digest: reply.token?.digest ?? [UInt8](repeating: 0, count: 32)) {
            _ = try? reply.verify(request: request, trusting: trusted)
        }
    }
    if let token = try? TimestampToken(der: bytes) { tokens.append(token) }
    for token in tokens {
        do {
            let info = try token.verify(sha256Digest: token.digest, trusting: trusted)
            guard info.hashAlgorithm == "sha256", info.digest == token.digest else {
                fuzzFailure("timestamp", "a verified token's imprint differs from the digest it was checked over")
            }
        } catch {
            _ = error.description
            _ = error.isVerificationFailure
        }
    }
    if let request = try? TimestampRequest(der: bytes) {
        guard request.digest.count == 32 else { fuzzFailure("timestamp", "a parsed request's digest length") }
    }
    if let certificates = try? TrustedCertificates(pem: String(decoding: bytes, as: UTF8.self)) {
        guard !certificates.certificates.isEmpty, certificates.certificates.count == certificates.subjects.count
        else { fuzzFailure("timestamp", "a parsed CA file without certificates") }
    }
    return 0
}
