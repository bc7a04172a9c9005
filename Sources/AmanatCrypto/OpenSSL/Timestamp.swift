internal import COpenSSL
import Foundation

// RFC 3161 time-stamp protocol over OpenSSL's TS API. The only file that touches TS_* and X509_*: callers see value
// types holding DER bytes; every C object lives within one function call and is freed by a `defer` next to the
// call that made it.

/// An RFC 3161 `TimeStampReq` over a SHA-256 digest, with a random 64-bit nonce and `certReq` true, so the reply
/// carries the TSA's certificate. Its ``der`` is sent as `application/timestamp-query` (a `.tsq` file).
public struct TimestampRequest: Sendable, Equatable {
    /// The SHA-256 digest being timestamped.
    public let digest: [UInt8]
    /// The nonce the reply must echo.
    public let nonce: UInt64
    /// The DER encoding.
    public let der: [UInt8]

    /// A request over `digest` (32 bytes of SHA-256) with a fresh random nonce.
    /// - Throws: ``TimestampError`` `malformed` for a digest that is not 32 bytes, `openssl` if encoding fails.
    public init(sha256Digest digest: [UInt8]) throws(TimestampError) {
        guard digest.count == 32 else {
            throw .malformed(what: "digest", reason: "a SHA-256 digest is 32 bytes, got \(digest.count)")
        }
        let random = try timestampTyped { try SecureRandom.bytes(8) }
        let nonce = random.reduce(UInt64(0)) { ($0 << 8) | UInt64($1) }
        try self.init(sha256Digest: digest, nonce: nonce)
    }

    /// A request over `digest` with the given nonce (tests, reproducible vectors).
    /// - Throws: ``TimestampError`` as ``init(sha256Digest:)``.
    public init(sha256Digest digest: [UInt8], nonce: UInt64) throws(TimestampError) {
        guard digest.count == 32 else {
            throw .malformed(what: "digest", reason: "a SHA-256 digest is 32 bytes, got \(digest.count)")
        }
        self.digest = digest
        self.nonce = nonce
        self.der = try timestampTyped { try encodeRequest(digest: digest, nonce: nonce) }
    }

    /// A request over the SHA-256 digest of `subject`.
    /// - Throws: ``TimestampError`` as ``init(sha256Digest:)``.
    public init(hashing subject: [UInt8]) throws(TimestampError) {
        let digest = try timestampTyped { try SHA256.hash(subject) }
        try self.init(sha256Digest: digest)
    }

    /// Reads back a request (a stored `.tsq`): it must be version 1, over SHA-256, with a nonce of at most 64 bits
    /// and `certReq` true — the only requests this implementation makes.
    /// - Throws: ``TimestampError`` `tooLarge`, `malformed` or `unsupportedHashAlgorithm`.
    public init(der: [UInt8]) throws(TimestampError) {
        guard der.count <= TimestampLimits.maximumRequestSize else {
            throw .tooLarge(what: "timestamp request", limit: TimestampLimits.maximumRequestSize, actual: der.count)
        }
        let parsed = try timestampTyped { try decodeRequest(der) }
        digest = parsed.digest
        nonce = parsed.nonce
        self.der = der
    }
}

/// PEM certificates of the CAs whose TSAs we trust (the `X509_STORE` a verification builds from them).
public struct TrustedCertificates: Sendable, Equatable {
    /// The DER of each certificate, in file order.
    public let certificates: [[UInt8]]
    /// The subject of each certificate (RFC 2253; untrusted text).
    public let subjects: [String]

    /// Parses one or more `-----BEGIN CERTIFICATE-----` blocks.
    /// - Throws: ``TimestampError`` `tooLarge` (file or count), `malformed` (not PEM, a damaged certificate, none).
    public init(pem: String) throws(TimestampError) {
        let size = pem.utf8.count
        guard size <= TimestampLimits.maximumCertificatesSize else {
            throw .tooLarge(what: "CA certificate file", limit: TimestampLimits.maximumCertificatesSize, actual: size)
        }
        let parsed = try timestampTyped { try parseCertificates(pem) }
        certificates = parsed.map(\.der)
        subjects = parsed.map(\.subject)
    }
}

/// A parsed `TimeStampResp` (`application/timestamp-reply`, a `.tsr` file). Parsing does not verify anything;
/// ``verify(request:trusting:)`` does.
public struct TimestampReply: Sendable, Equatable {
    /// The reply's DER.
    public let der: [UInt8]
    /// The PKIStatus: 0 granted, 1 granted with modifications, 2 rejection, 3 waiting, 4–5 revocation.
    public let status: Int
    /// The status text and failure bits, joined (untrusted text).
    public let statusText: String
    /// The token (a CMS `ContentInfo`), when the TSA granted one.
    public let token: TimestampToken?

    /// Parses a reply; trailing bytes after the DER are refused.
    /// - Throws: ``TimestampError`` `tooLarge` or `malformed`.
    public init(der: [UInt8]) throws(TimestampError) {
        guard der.count <= TimestampLimits.maximumReplySize else {
            throw .tooLarge(what: "timestamp reply", limit: TimestampLimits.maximumReplySize, actual: der.count)
        }
        let parsed = try timestampTyped { try decodeReply(der) }
        self.der = der
        status = parsed.status
        statusText = parsed.text
        token = parsed.token
    }

    /// Verifies the reply against the request it answers: status granted, imprint and nonce equal the request's,
    /// hash SHA-256, signature good, and the signer's certificate chains to `trusted` now with the critical
    /// timeStamping extended key usage (TS_RESP_verify_response).
    /// - Throws: ``TimestampError`` `notGranted`, `unsupportedHashAlgorithm`, `imprintMismatch`, `nonceMismatch`,
    ///   `untrustedSigner`, `badSignature`, `malformed`.
    public func verify(
        request: TimestampRequest, trusting trusted: TrustedCertificates
    ) throws(TimestampError)
        -> TimestampInfo
    {
        guard status == 0 || status == 1, let token else {
            throw .notGranted(status: status, text: statusText)
        }
        return try timestampTyped {
            try verifyDER(
                reply: der, token: token.der, digest: request.digest, requestDER: request.der, trusted: trusted)
        }
    }
}

/// An RFC 3161 timestamp token: a CMS `ContentInfo` of SignedData over a `TSTInfo`. This is what is stored and what
/// travels; `openssl ts -verify -token_in` reads it.
public struct TimestampToken: Sendable, Equatable {
    /// The DER.
    public let der: [UInt8]
    /// The TSTInfo's nonce, unverified (to find the request a carried reply answers).
    public let nonce: UInt64?
    /// The TSTInfo's imprint digest, unverified.
    public let digest: [UInt8]

    /// Parses a token; trailing bytes are refused.
    /// - Throws: ``TimestampError`` `tooLarge` or `malformed`.
    public init(der: [UInt8]) throws(TimestampError) {
        guard der.count <= TimestampLimits.maximumTokenSize else {
            throw .tooLarge(what: "timestamp token", limit: TimestampLimits.maximumTokenSize, actual: der.count)
        }
        let parsed = try timestampTyped { try decodeToken(der) }
        self.der = der
        nonce = parsed.nonce
        digest = parsed.digest
    }

    init(verifiedDER der: [UInt8], nonce: UInt64?, digest: [UInt8]) {
        self.der = der
        self.nonce = nonce
        self.digest = digest
    }

    /// Verifies the token over `digest` (the SHA-256 of the subject) without a request (TS_RESP_verify_token): hash
    /// SHA-256, imprint equal, signature good, signer chained to `trusted` now with the timeStamping usage.
    /// - Throws: ``TimestampError`` as ``TimestampReply/verify(request:trusting:)`` (no nonce check).
    public func verify(
        sha256Digest digest: [UInt8], trusting trusted: TrustedCertificates
    ) throws(TimestampError)
        -> TimestampInfo
    {
        guard digest.count == 32 else {
            throw .malformed(what: "digest", reason: "a SHA-256 digest is 32 bytes, got \(digest.count)")
        }
        return try timestampTyped {
            try verifyDER(reply: nil, token: der, digest: digest, requestDER: nil, trusted: trusted)
        }
    }

    /// Verifies the token over the SHA-256 digest of `subject`.
    /// - Throws: ``TimestampError`` as ``verify(sha256Digest:trusting:)``.
    public func verify(
        subject: [UInt8], trusting trusted: TrustedCertificates
    ) throws(TimestampError)
        -> TimestampInfo
    {
        let digest = try timestampTyped { try SHA256.hash(subject) }
        return try verify(sha256Digest: digest, trusting: trusted)
    }
}

// MARK: - Typed errors

/// Runs `body` and maps any error into ``TimestampError`` (CryptoError from a shared helper becomes `openssl`).
func timestampTyped<R>(_ body: () throws -> R) throws(TimestampError) -> R {
    do {
        return try body()
    } catch let error as TimestampError {
        throw error
    } catch let CryptoError.openssl(operation, reasons) {
        throw .openssl(operation: operation, reasons: reasons)
    } catch {
        throw .openssl(operation: "timestamp", reasons: ["\(error)"])
    }
}

private func tsError(_ operation: String) -> TimestampError {
    .openssl(operation: operation, reasons: drainOpenSSLErrors())
}

private func tsCheck(_ rc: Int32, _ operation: String) throws {
    guard rc == 1 else { throw tsError(operation) }
}

// MARK: - Requests

private func encodeRequest(digest: [UInt8], nonce: UInt64) throws -> [UInt8] {
    clearOpenSSLErrors()
    guard let request = TS_REQ_new() else { throw tsError("TS_REQ_new") }
    defer { TS_REQ_free(request) }
    try tsCheck(TS_REQ_set_version(request, 1), "TS_REQ_set_version")

    guard let imprint = TS_MSG_IMPRINT_new() else { throw tsError("TS_MSG_IMPRINT_new") }
    defer { TS_MSG_IMPRINT_free(imprint) }
    guard let algorithm = X509_ALGOR_new() else { throw tsError("X509_ALGOR_new") }
    defer { X509_ALGOR_free(algorithm) }
    guard let sha256 = OBJ_nid2obj(NID_sha256) else { throw tsError("OBJ_nid2obj") }
    try tsCheck(X509_ALGOR_set0(algorithm, sha256, V_ASN1_NULL, nil), "X509_ALGOR_set0")
    try tsCheck(TS_MSG_IMPRINT_set_algo(imprint, algorithm), "TS_MSG_IMPRINT_set_algo")
    var copy = digest
    try tsCheck(
        copy.withUnsafeMutableBufferPointer { TS_MSG_IMPRINT_set_msg(imprint, $0.baseAddress, Int32($0.count)) },
        "TS_MSG_IMPRINT_set_msg")
    try tsCheck(TS_REQ_set_msg_imprint(request, imprint), "TS_REQ_set_msg_imprint")

    guard let integer = ASN1_INTEGER_new() else { throw tsError("ASN1_INTEGER_new") }
    defer { ASN1_INTEGER_free(integer) }
    try tsCheck(ASN1_INTEGER_set_uint64(integer, nonce), "ASN1_INTEGER_set_uint64")
    try tsCheck(TS_REQ_set_nonce(request, integer), "TS_REQ_set_nonce")
    try tsCheck(TS_REQ_set_cert_req(request, 1), "TS_REQ_set_cert_req")

    let length = i2d_TS_REQ(request, nil)
    guard length > 0 else { throw tsError("i2d_TS_REQ") }
    var der = [UInt8](repeating: 0, count: Int(length))
    let written = der.withUnsafeMutableBufferPointer { buffer -> Int32 in
        var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
        return i2d_TS_REQ(request, &cursor)
    }
    guard written == length else { throw tsError("i2d_TS_REQ") }
    return der
}

private func decodeRequest(_ der: [UInt8]) throws -> (digest: [UInt8], nonce: UInt64) {
    clearOpenSSLErrors()
    let request = try parseDER(der, what: "timestamp request", free: { TS_REQ_free($0) }) { cursor, length in
        d2i_TS_REQ(nil, cursor, length)
    }
    defer { TS_REQ_free(request) }
    guard TS_REQ_get_version(request) == 1 else {
        throw TimestampError.malformed(what: "timestamp request", reason: "not version 1")
    }
    guard let imprint = TS_REQ_get_msg_imprint(request) else {
        throw TimestampError.malformed(what: "timestamp request", reason: "no message imprint")
    }
    let digest = try imprintDigest(imprint, what: "timestamp request")
    guard let nonceInteger = TS_REQ_get_nonce(request), let nonce = uint64(nonceInteger) else {
        throw TimestampError.malformed(what: "timestamp request", reason: "no 64-bit nonce")
    }
    guard TS_REQ_get_cert_req(request) != 0 else {
        throw TimestampError.malformed(what: "timestamp request", reason: "certReq is not set")
    }
    return (digest, nonce)
}

// MARK: - Replies and tokens

private func decodeReply(_ der: [UInt8]) throws -> (status: Int, text: String, token: TimestampToken?) {
    clearOpenSSLErrors()
    let response = try parseDER(der, what: "timestamp reply", free: { TS_RESP_free($0) }) { cursor, length in
        d2i_TS_RESP(nil, cursor, length)
    }
    defer { TS_RESP_free(response) }
    guard let info = TS_RESP_get_status_info(response), let statusInteger = TS_STATUS_INFO_get0_status(info) else {
        throw TimestampError.malformed(what: "timestamp reply", reason: "no status")
    }
    let status = ASN1_INTEGER_get(statusInteger)
    guard (0...5).contains(status) else {
        throw TimestampError.malformed(what: "timestamp reply", reason: "unknown status \(status)")
    }
    let text = statusText(info)
    guard status == 0 || status == 1 else { return (Int(status), text, nil) }
    guard let p7 = TS_RESP_get_token(response), let tstInfo = TS_RESP_get_tst_info(response) else {
        throw TimestampError.malformed(what: "timestamp reply", reason: "granted, but holds no token")
    }
    let tokenDER = try encodePKCS7(p7)
    guard tokenDER.count <= TimestampLimits.maximumTokenSize else {
        throw TimestampError.tooLarge(
            what: "timestamp token", limit: TimestampLimits.maximumTokenSize, actual: tokenDER.count)
    }
    let facts = try tokenFacts(tstInfo)
    return (Int(status), text, TimestampToken(verifiedDER: tokenDER, nonce: facts.nonce, digest: facts.digest))
}

private func decodeToken(_ der: [UInt8]) throws -> (nonce: UInt64?, digest: [UInt8]) {
    clearOpenSSLErrors()
    let p7 = try parseDER(der, what: "timestamp token", free: { PKCS7_free($0) }) { cursor, length in
        d2i_PKCS7(nil, cursor, length)
    }
    defer { PKCS7_free(p7) }
    guard let tstInfo = PKCS7_to_TS_TST_INFO(p7) else {
        throw TimestampError.malformed(
            what: "timestamp token", reason: "not a signed TSTInfo (\(drainOpenSSLErrors().joined(separator: "; ")))")
    }
    defer { TS_TST_INFO_free(tstInfo) }
    return try tokenFacts(tstInfo)
}

/// Parses DER with a `d2i_` function, refusing empty input, failures and trailing bytes.
private func parseDER<Object>(
    _ der: [UInt8], what: String, free: (Object) -> Void,
    _ decode: (UnsafeMutablePointer<UnsafePointer<UInt8>?>, Int) -> Object?
) throws -> Object {
    guard !der.isEmpty else { throw TimestampError.malformed(what: what, reason: "empty") }
    return try der.withUnsafeBufferPointer { buffer in
        var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
        guard let object = decode(&cursor, buffer.count) else {
            let reasons = drainOpenSSLErrors()
            throw TimestampError.malformed(
                what: what, reason: reasons.isEmpty ? "not DER" : "not DER (\(reasons.joined(separator: "; ")))")
        }
        guard let end = cursor, end == buffer.baseAddress! + buffer.count else {
            clearOpenSSLErrors()
            free(object)
            throw TimestampError.malformed(what: what, reason: "trailing bytes after the DER")
        }
        return object
    }
}

private func encodePKCS7(_ p7: UnsafeMutablePointer<PKCS7>) throws -> [UInt8] {
    let length = i2d_PKCS7(p7, nil)
    guard length > 0 else { throw tsError("i2d_PKCS7") }
    var der = [UInt8](repeating: 0, count: Int(length))
    let written = der.withUnsafeMutableBufferPointer { buffer -> Int32 in
        var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
        return i2d_PKCS7(p7, &cursor)
    }
    guard written == length else { throw tsError("i2d_PKCS7") }
    return der
}

private func statusText(_ info: OpaquePointer) -> String {
    var parts: [String] = []
    if let texts = TS_STATUS_INFO_get0_text(info) {
        let count = min(OPENSSL_sk_num(texts), 8)
        for index in 0..<max(count, 0) {
            guard let raw = OPENSSL_sk_value(texts, index) else { continue }
            let string = raw.assumingMemoryBound(to: ASN1_STRING.self)
            parts.append(String(decoding: asn1Bytes(string).prefix(512), as: UTF8.self))
        }
    }
    if let bits = TS_STATUS_INFO_get0_failure_info(info) {
        let names: [(Int32, String)] = [
            (TS_INFO_BAD_ALG, "badAlg"), (TS_INFO_BAD_REQUEST, "badRequest"),
            (TS_INFO_BAD_DATA_FORMAT, "badDataFormat"), (TS_INFO_TIME_NOT_AVAILABLE, "timeNotAvailable"),
            (TS_INFO_UNACCEPTED_POLICY, "unacceptedPolicy"), (TS_INFO_UNACCEPTED_EXTENSION, "unacceptedExtension"),
            (TS_INFO_ADD_INFO_NOT_AVAILABLE, "addInfoNotAvailable"), (TS_INFO_SYSTEM_FAILURE, "systemFailure"),
        ]
        for (bit, name) in names where ASN1_BIT_STRING_get_bit(bits, bit) == 1 { parts.append(name) }
    }
    return parts.joined(separator: "; ")
}

private func asn1Bytes(_ string: UnsafePointer<ASN1_STRING>) -> [UInt8] {
    let length = Int(ASN1_STRING_length(string))
    guard length > 0, let data = ASN1_STRING_get0_data(string) else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: length))
}

private func uint64(_ integer: UnsafePointer<ASN1_INTEGER>) -> UInt64? {
    var value: UInt64 = 0
    guard ASN1_INTEGER_get_uint64(&value, integer) == 1 else {
        clearOpenSSLErrors()
        return nil
    }
    return value
}

/// The imprint's SHA-256 digest; another algorithm or length is refused.
private func imprintDigest(_ imprint: OpaquePointer, what: String) throws -> [UInt8] {
    guard let algorithm = TS_MSG_IMPRINT_get_algo(imprint) else {
        throw TimestampError.malformed(what: what, reason: "no imprint algorithm")
    }
    var object: OpaquePointer? = nil
    X509_ALGOR_get0(&object, nil, nil, algorithm)
    let nid = object.map { OBJ_obj2nid($0) } ?? NID_undef
    guard nid == NID_sha256 else {
        throw TimestampError.unsupportedHashAlgorithm(object.map(objectText) ?? "an unknown algorithm")
    }
    guard let message = TS_MSG_IMPRINT_get_msg(imprint) else {
        throw TimestampError.malformed(what: what, reason: "no imprint digest")
    }
    let digest = asn1Bytes(message)
    guard digest.count == 32 else {
        throw TimestampError.malformed(what: what, reason: "a SHA-256 imprint of \(digest.count) bytes")
    }
    return digest
}

/// The short name of a known algorithm, else its dotted OID.
private func objectText(_ object: OpaquePointer) -> String {
    let nid = OBJ_obj2nid(object)
    if nid != NID_undef, let name = OBJ_nid2sn(nid) { return String(cString: name) }
    var buffer = [CChar](repeating: 0, count: 128)
    let length = OBJ_obj2txt(&buffer, Int32(buffer.count), object, 1)
    guard length > 0, Int(length) < buffer.count else { return "an unknown algorithm" }
    return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

private func tokenFacts(_ tstInfo: OpaquePointer) throws -> (nonce: UInt64?, digest: [UInt8]) {
    guard let imprint = TS_TST_INFO_get_msg_imprint(tstInfo) else {
        throw TimestampError.malformed(what: "timestamp token", reason: "no message imprint")
    }
    let digest = try imprintDigest(imprint, what: "timestamp token")
    let nonce = TS_TST_INFO_get_nonce(tstInfo).flatMap(uint64)
    return (nonce, digest)
}

// MARK: - Certificates

private func parseCertificates(_ pem: String) throws -> [(der: [UInt8], subject: String)] {
    clearOpenSSLErrors()
    var bytes = Array(pem.utf8)
    guard !bytes.isEmpty else { throw TimestampError.malformed(what: "CA certificate file", reason: "empty") }
    return try bytes.withUnsafeMutableBytes { raw in
        guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { throw tsError("BIO_new_mem_buf") }
        defer { BIO_free(bio) }
        var result: [(der: [UInt8], subject: String)] = []
        while let certificate = PEM_read_bio_X509(bio, nil, nil, nil) {
            defer { X509_free(certificate) }
            guard result.count < TimestampLimits.maximumCertificates else {
                throw TimestampError.tooLarge(
                    what: "CA certificate file (certificates)", limit: TimestampLimits.maximumCertificates,
                    actual: result.count + 1)
            }
            result.append((try encodeCertificate(certificate), try subjectName(certificate)))
        }
        // The loop ends with PEM_R_NO_START_LINE at the end of the input; anything else is a damaged block.
        let last = ERR_peek_last_error()
        let cleanEnd = last == 0 || (ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE)
        let reasons = drainOpenSSLErrors()
        guard cleanEnd else {
            throw TimestampError.malformed(
                what: "CA certificate file", reason: "a damaged certificate (\(reasons.joined(separator: "; ")))")
        }
        guard !result.isEmpty else {
            throw TimestampError.malformed(what: "CA certificate file", reason: "no -----BEGIN CERTIFICATE----- block")
        }
        return result
    }
}

private func encodeCertificate(_ certificate: OpaquePointer) throws -> [UInt8] {
    let length = i2d_X509(certificate, nil)
    guard length > 0 else { throw tsError("i2d_X509") }
    var der = [UInt8](repeating: 0, count: Int(length))
    let written = der.withUnsafeMutableBufferPointer { buffer -> Int32 in
        var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
        return i2d_X509(certificate, &cursor)
    }
    guard written == length else { throw tsError("i2d_X509") }
    return der
}

private func subjectName(_ certificate: OpaquePointer) throws -> String {
    guard let name = X509_get_subject_name(certificate) else { throw tsError("X509_get_subject_name") }
    guard let bio = BIO_new(BIO_s_mem()) else { throw tsError("BIO_new") }
    defer { BIO_free(bio) }
    guard X509_NAME_print_ex(bio, name, 0, amanat_xn_flag_rfc2253()) >= 0 else {
        throw tsError("X509_NAME_print_ex")
    }
    var data: UnsafeMutablePointer<CChar>? = nil
    let length = amanat_bio_get_mem_data(bio, &data)
    guard length >= 0 else { throw tsError("BIO_get_mem_data") }
    guard let data, length > 0 else { return "" }
    return String(decoding: UnsafeRawBufferPointer(start: data, count: Int(length)), as: UTF8.self)
}

/// A fresh X509_STORE holding the trusted certificates; the caller owns it.
private func makeStore(_ trusted: TrustedCertificates) throws -> OpaquePointer {
    guard !trusted.certificates.isEmpty else { throw TimestampError.noTrustedCertificates }
    guard let store = X509_STORE_new() else { throw tsError("X509_STORE_new") }
    do {
        for der in trusted.certificates {
            let certificate = try der.withUnsafeBufferPointer { buffer -> OpaquePointer in
                var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
                guard let certificate = d2i_X509(nil, &cursor, buffer.count) else { throw tsError("d2i_X509") }
                return certificate
            }
            defer { X509_free(certificate) }
            try tsCheck(X509_STORE_add_cert(store, certificate), "X509_STORE_add_cert")
        }
        return store
    } catch {
        X509_STORE_free(store)
        throw error
    }
}

// MARK: - Verification

private func verifyDER(
    reply: [UInt8]?, token: [UInt8], digest: [UInt8], requestDER: [UInt8]?, trusted: TrustedCertificates
) throws -> TimestampInfo {
    clearOpenSSLErrors()
    // Parse what is verified once more: the values hold bytes, the C objects live for this call.
    var response: OpaquePointer? = nil
    let p7: UnsafeMutablePointer<PKCS7>
    var ownedToken: UnsafeMutablePointer<PKCS7>? = nil
    if let reply {
        let parsed = try parseDER(reply, what: "timestamp reply", free: { TS_RESP_free($0) }) { cursor, length in
            d2i_TS_RESP(nil, cursor, length)
        }
        response = parsed
        guard let inner = TS_RESP_get_token(parsed) else {
            TS_RESP_free(parsed)
            throw TimestampError.malformed(what: "timestamp reply", reason: "granted, but holds no token")
        }
        p7 = inner
    } else {
        let parsed = try parseDER(token, what: "timestamp token", free: { PKCS7_free($0) }) { cursor, length in
            d2i_PKCS7(nil, cursor, length)
        }
        ownedToken = parsed
        p7 = parsed
    }
    defer {
        if let response { TS_RESP_free(response) }
        if let ownedToken { PKCS7_free(ownedToken) }
    }
    guard let tstInfo = PKCS7_to_TS_TST_INFO(p7) else {
        throw TimestampError.malformed(
            what: "timestamp token", reason: "not a signed TSTInfo (\(drainOpenSSLErrors().joined(separator: "; ")))")
    }
    defer { TS_TST_INFO_free(tstInfo) }

    // Our own checks first, so that each refusal has its own type; OpenSSL repeats them below.
    let facts = try tokenFacts(tstInfo)
    guard facts.digest == digest else { throw TimestampError.imprintMismatch }
    var expectedNonce: UInt64? = nil
    if let requestDER {
        let request = try decodeRequest(requestDER)
        guard request.digest == digest else { throw TimestampError.imprintMismatch }
        guard facts.nonce == request.nonce else { throw TimestampError.nonceMismatch }
        expectedNonce = request.nonce
    }

    let context = try makeVerifyContext(digest: digest, requestDER: requestDER)
    defer { TS_VERIFY_CTX_free(context) }
    let store = try makeStore(trusted)
    _ = TS_VERIFY_CTX_set_store(context, store)  // the context owns the store from here on

    let rc = response.map { TS_RESP_verify_response(context, $0) } ?? TS_RESP_verify_token(context, p7)
    guard rc == 1 else { throw classifyVerificationFailure() }

    var info = try describe(tstInfo, p7: p7)
    info.nonce = expectedNonce ?? facts.nonce
    return info
}

private func makeVerifyContext(digest: [UInt8], requestDER: [UInt8]?) throws -> OpaquePointer {
    let flags = TS_VFY_SIGNATURE | TS_VFY_VERSION | TS_VFY_IMPRINT | TS_VFY_SIGNER
    if let requestDER {
        let request = try parseDER(requestDER, what: "timestamp request", free: { TS_REQ_free($0) }) {
            cursor, length in d2i_TS_REQ(nil, cursor, length)
        }
        defer { TS_REQ_free(request) }
        // Sets the imprint (with its algorithm), the nonce and the version and imprint flags from the request.
        guard let context = TS_REQ_to_TS_VERIFY_CTX(request, nil) else { throw tsError("TS_REQ_to_TS_VERIFY_CTX") }
        _ = TS_VERIFY_CTX_add_flags(context, Int32(flags | TS_VFY_NONCE))
        return context
    }
    guard let context = TS_VERIFY_CTX_new() else { throw tsError("TS_VERIFY_CTX_new") }
    _ = TS_VERIFY_CTX_set_flags(context, Int32(flags))
    // The context frees the imprint with OPENSSL_free: it must come from OpenSSL's allocator.
    guard let copy = CRYPTO_malloc(digest.count, nil, 0) else {
        TS_VERIFY_CTX_free(context)
        throw tsError("CRYPTO_malloc")
    }
    digest.withUnsafeBytes { copy.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    _ = TS_VERIFY_CTX_set_imprint(context, copy.assumingMemoryBound(to: UInt8.self), digest.count)
    return context
}

/// Turns OpenSSL's error queue after a failed TS_RESP_verify_* into a typed error (and empties the queue).
private func classifyVerificationFailure() -> TimestampError {
    var reasons: [Int32] = []
    var details: [String] = []
    while true {
        var data: UnsafePointer<CChar>? = nil
        var flags: Int32 = 0
        let code = ERR_get_error_all(nil, nil, nil, &data, &flags)
        if code == 0 { break }
        if ERR_GET_LIB(code) == ERR_LIB_TS { reasons.append(ERR_GET_REASON(code)) }
        if details.count < 6 {
            var text = ERR_reason_error_string(code).map { String(cString: $0) } ?? "error \(ERR_GET_REASON(code))"
            if let data, (flags & ERR_TXT_STRING) != 0, data.pointee != 0 { text += " (\(String(cString: data)))" }
            details.append(text)
        }
    }
    let detail = details.joined(separator: "; ")
    if reasons.contains(TS_R_MESSAGE_IMPRINT_MISMATCH) { return .imprintMismatch }
    if reasons.contains(TS_R_NONCE_MISMATCH) || reasons.contains(TS_R_NONCE_NOT_RETURNED) { return .nonceMismatch }
    if reasons.contains(TS_R_CERTIFICATE_VERIFY_ERROR) || reasons.contains(TS_R_INVALID_SIGNER_CERTIFICATE_PURPOSE)
        || reasons.contains(TS_R_TSA_UNTRUSTED) || reasons.contains(TS_R_ESS_SIGNING_CERTIFICATE_ERROR)
    {
        return .untrustedSigner(reason: detail)
    }
    if reasons.contains(TS_R_SIGNATURE_FAILURE) { return .badSignature(reason: detail) }
    if reasons.contains(TS_R_UNSUPPORTED_VERSION) {
        return .malformed(what: "timestamp token", reason: "unsupported version")
    }
    return .malformed(what: "timestamp token", reason: detail.isEmpty ? "does not verify" : detail)
}

private func describe(_ tstInfo: OpaquePointer, p7: UnsafeMutablePointer<PKCS7>) throws -> TimestampInfo {
    guard let time = TS_TST_INFO_get_time(tstInfo) else {
        throw TimestampError.malformed(what: "timestamp token", reason: "no genTime")
    }
    var parts = tm()
    guard ASN1_TIME_to_tm(time, &parts) == 1 else {
        throw TimestampError.malformed(what: "timestamp token", reason: "an unreadable genTime")
    }
    let genTime = Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))

    var serial = ""
    if let integer = TS_TST_INFO_get_serial(tstInfo) {
        guard let number = ASN1_INTEGER_to_BN(integer, nil) else { throw tsError("ASN1_INTEGER_to_BN") }
        defer { BN_free(number) }
        guard let hex = BN_bn2hex(number) else { throw tsError("BN_bn2hex") }
        serial = String(cString: hex)
        amanat_openssl_free(hex)
    }
    let policy = TS_TST_INFO_get_policy_id(tstInfo).map(objectText) ?? ""

    guard let signers = PKCS7_get0_signers(p7, nil, 0) else { throw tsError("PKCS7_get0_signers") }
    defer { OPENSSL_sk_free(signers) }
    guard OPENSSL_sk_num(signers) == 1, let signer = OPENSSL_sk_value(signers, 0) else {
        throw TimestampError.malformed(what: "timestamp token", reason: "not exactly one signer")
    }
    let tsaName = try subjectName(OpaquePointer(signer))
    return TimestampInfo(
        genTime: genTime, tsaName: tsaName, serialNumber: serial, policy: policy, hashAlgorithm: "sha256",
        digest: try tokenFacts(tstInfo).digest, nonce: nil)
}
