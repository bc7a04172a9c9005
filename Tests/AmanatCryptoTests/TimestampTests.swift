import AmanatCrypto
import AmanatTestSupport
import Foundation
import Testing

/// The recorded exchange in Tests/Vectors/rfc3161 (SOURCE.md there says how it was made).
@Suite("Recorded RFC 3161 vectors")
struct RecordedTimestampVectorTests {
    struct Cases: Decodable {
        struct Case: Decodable {
            var name: String
            var request: String?
            var reply: String?
            var token: String?
            var expect: String
            var genTime: String?
            var serialNumber: String?
            var nonce: String?
            var policy: String?
            var tsaName: String?
        }
        var subject: String
        var subjectSHA256: String
        var cases: [Case]
    }

    static let folder = TestVectors.folder.appendingPathComponent("rfc3161")

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: folder.appendingPathComponent(name)))
    }

    @Test("every recorded case gives what cases.json says")
    func recordedCases() throws {
        let cases = try JSONDecoder().decode(Cases.self, from: Data(try Self.bytes("cases.json")))
        let trusted = try TrustedCertificates(pem: String(decoding: try Self.bytes("ca.pem"), as: UTF8.self))
        let subject = try Self.bytes(cases.subject)
        let digest = try SHA256.hash(subject)
        #expect(Self.hex(digest) == cases.subjectSHA256)
        var ran = 0
        for item in cases.cases {
            let result: Result<TimestampInfo, TimestampError>
            do {
                if let token = item.token {
                    result = .success(
                        try TimestampToken(der: try Self.bytes(token)).verify(subject: subject, trusting: trusted))
                } else {
                    let reply = try TimestampReply(der: try Self.bytes(item.reply!))
                    if let request = item.request {
                        let parsed = try TimestampRequest(der: try Self.bytes(request))
                        result = .success(try reply.verify(request: parsed, trusting: trusted))
                    } else if let token = reply.token {
                        result = .success(try token.verify(sha256Digest: digest, trusting: trusted))
                    } else {
                        result = .failure(.notGranted(status: reply.status, text: reply.statusText))
                    }
                }
            } catch let error as TimestampError {
                result = .failure(error)
            }
            switch (item.expect, result) {
            case ("valid", .success(let info)):
                let formatter = ISO8601DateFormatter()
                #expect(formatter.string(from: info.genTime) == item.genTime, "\(item.name)")
                #expect(info.serialNumber == item.serialNumber, "\(item.name)")
                #expect(info.policy == item.policy, "\(item.name)")
                #expect(info.tsaName == item.tsaName, "\(item.name)")
                #expect(info.hashAlgorithm == "sha256")
                #expect(info.digest == digest)
                #expect(info.nonce.map { String($0, radix: 16, uppercase: true) } == item.nonce, "\(item.name)")
            case ("unsupportedHashAlgorithm", .failure(.unsupportedHashAlgorithm(let name))):
                #expect(name == "SHA512", "\(item.name)")
            case ("notGranted", .failure(.notGranted(let status, let text))):
                #expect(status == 2, "\(item.name)")
                #expect(text.contains("badAlg"), "\(item.name): \(text)")
            default:
                Issue.record("\(item.name): expected \(item.expect), got \(result)")
            }
            ran += 1
        }
        #expect(ran == 4)
    }

    @Test("the recorded request reads back with its digest and nonce")
    func recordedRequest() throws {
        let request = try TimestampRequest(der: try Self.bytes("sha256.tsq"))
        #expect(Self.hex(request.digest) == "5f8703f9b1d71429656e5e62efe00404079861d562b4748a4371dd2719271631")
        #expect(request.nonce == 0x6543_8559_0775_A0F1)
        #expect(throws: TimestampError.unsupportedHashAlgorithm("SHA512")) {
            try TimestampRequest(der: try Self.bytes("sha512.tsq"))
        }
    }

    @Test("the recorded token is refused over other bytes and with the wrong CA")
    func recordedRefusals() throws {
        let token = try TimestampToken(der: try Self.bytes("sha256.token.der"))
        let trusted = try TrustedCertificates(pem: String(decoding: try Self.bytes("ca.pem"), as: UTF8.self))
        #expect(throws: TimestampError.imprintMismatch) {
            try token.verify(subject: Array("another checkpoint".utf8), trusting: trusted)
        }
        // The TSA certificate is no CA: trusting it alone does not make a chain to a trust anchor.
        let tsaOnly = try TrustedCertificates(pem: String(decoding: try Self.bytes("tsa.pem"), as: UTF8.self))
        #expect(tsaOnly.subjects == ["CN=Amanat Test TSA,O=Amanat Test"])
        let subject = try Self.bytes("subject.txt")
        let outcome = Result { () throws(TimestampError) in try token.verify(subject: subject, trusting: tsaOnly) }
        guard case .failure(.untrustedSigner) = outcome else {
            Issue.record("expected untrustedSigner, got \(outcome)")
            return
        }
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
}

/// Requests made here, replies made by `openssl ts -reply` with a throw-away CA: acceptance and every refusal.
@Suite("RFC 3161 timestamps against a local TSA", .requires(.openssl))
struct TimestampTests {
    /// One local TSA (CA, TSA certificate, configuration) for the whole suite.
    static let tsa = Result { try LocalTSA() }

    let subject = Array("amanat.example/test-log\n42\nsynthetic checkpoint hash\n".utf8)

    func trusted() throws -> TrustedCertificates { try TrustedCertificates(pem: try Self.tsa.get().caPEM) }

    @Test("our request, answered by openssl ts -reply, verifies and says when")
    func roundTrip() throws {
        let tsa = try Self.tsa.get()
        let before = Date().addingTimeInterval(-2)
        let request = try TimestampRequest(hashing: subject)
        let reply = try TimestampReply(der: try tsa.reply(to: request.der))
        #expect(reply.status == 0)
        let info = try reply.verify(request: request, trusting: try trusted())
        #expect(info.genTime >= before && info.genTime <= Date().addingTimeInterval(2))
        #expect(info.tsaName == "CN=Local Test TSA,O=Amanat Test")
        #expect(info.policy == "1.3.6.1.4.1.55555.1.1")
        #expect(info.nonce == request.nonce)
        #expect(info.digest == (try SHA256.hash(subject)))
        #expect(!info.serialNumber.isEmpty)

        // The token alone verifies over the subject, and openssl ts -verify accepts it too.
        let token = try #require(reply.token)
        #expect(try token.verify(subject: subject, trusting: try trusted()) == info)
        #expect(try tsa.opensslVerifies(token: token.der, data: subject))
        // A stored request reads back the same.
        #expect(try TimestampRequest(der: request.der) == request)
    }

    @Test("two requests over the same bytes carry different nonces")
    func freshNonces() throws {
        let a = try TimestampRequest(hashing: subject)
        let b = try TimestampRequest(hashing: subject)
        #expect(a.digest == b.digest)
        #expect(a.nonce != b.nonce)
        #expect(a.der != b.der)
    }

    @Test("only 32-byte SHA-256 digests are requested")
    func digestLength() {
        #expect(throws: TimestampError.self) { try TimestampRequest(sha256Digest: [UInt8](repeating: 1, count: 20)) }
        #expect(throws: TimestampError.self) { try TimestampRequest(sha256Digest: []) }
    }

    @Test("a reply over another digest is refused")
    func otherDigest() throws {
        let tsa = try Self.tsa.get()
        let request = try TimestampRequest(hashing: subject)
        let other = try TimestampReply(der: try tsa.reply(to: try tsa.query(over: Array("other bytes".utf8))))
        #expect(throws: TimestampError.imprintMismatch) { try other.verify(request: request, trusting: try trusted()) }
    }

    @Test("a reply carrying another request's nonce is refused")
    func otherNonce() throws {
        let tsa = try Self.tsa.get()
        let ours = try TimestampRequest(hashing: subject)
        let theirs = try TimestampRequest(sha256Digest: ours.digest, nonce: ours.nonce ^ 1)
        let reply = try TimestampReply(der: try tsa.reply(to: theirs.der))
        #expect(throws: TimestampError.nonceMismatch) { try reply.verify(request: ours, trusting: try trusted()) }
        // The same reply verifies for the request it answers.
        _ = try reply.verify(request: theirs, trusting: try trusted())
    }

    @Test("a reply over a SHA-512 digest is refused")
    func sha512Reply() throws {
        let tsa = try Self.tsa.get()
        let der = try tsa.reply(to: try tsa.query(over: subject, digest: "-sha512"))
        // Refused as soon as it is read, as a reply and as a bare token.
        #expect(throws: TimestampError.unsupportedHashAlgorithm("SHA512")) { try TimestampReply(der: der) }
        let token = try Self.extractToken(from: der)
        #expect(throws: TimestampError.unsupportedHashAlgorithm("SHA512")) { try TimestampToken(der: token) }
    }

    @Test("a TSA whose CA is not trusted is refused")
    func untrustedCA() throws {
        let tsa = try Self.tsa.get()
        let request = try TimestampRequest(hashing: subject)
        let reply = try TimestampReply(der: try tsa.reply(to: request.der))
        let other = try TrustedCertificates(pem: tsa.otherCAPEM)
        let outcome = Result { () throws(TimestampError) in try reply.verify(request: request, trusting: other) }
        guard case .failure(.untrustedSigner(let reason)) = outcome else {
            Issue.record("expected untrustedSigner, got \(outcome)")
            return
        }
        #expect(reason.contains("unable to get local issuer certificate"), "\(reason)")
    }

    @Test("a flipped byte in the signature or in the signed TSTInfo is refused")
    func flippedBytes() throws {
        let tsa = try Self.tsa.get()
        let request = try TimestampRequest(hashing: subject)
        let der = try tsa.reply(to: request.der)
        // The ECDSA signature value is the last field of the reply.
        var flipped = der
        flipped[flipped.count - 4] ^= 0x01
        let trusted = try trusted()
        let outcome = Result { () throws(TimestampError) in
            try TimestampReply(der: flipped).verify(request: request, trusting: trusted)
        }
        guard case .failure(.badSignature) = outcome else {
            Issue.record("signature flip: expected badSignature, got \(outcome)")
            return
        }
        // The serial number's byte inside the signed TSTInfo (found by its policy OID, which precedes the imprint).
        let reply = try TimestampReply(der: der)
        let token = try #require(reply.token)
        var tampered = token.der
        let imprintStart = try #require(Self.find(request.digest, in: tampered))
        tampered[imprintStart + 40] ^= 0x01  // past the digest: the serial number or genTime
        let second = Result { () throws(TimestampError) in
            try TimestampToken(der: tampered).verify(subject: subject, trusting: trusted)
        }
        switch second {
        case .failure(.badSignature), .failure(.malformed): break
        default: Issue.record("TSTInfo flip: expected badSignature or malformed, got \(second)")
        }
    }

    @Test("truncated, oversized, garbage and trailing-byte replies are refused as malformed")
    func malformedReplies() throws {
        let tsa = try Self.tsa.get()
        let request = try TimestampRequest(hashing: subject)
        let der = try tsa.reply(to: request.der)
        for cut in [0, 1, 10, der.count / 2, der.count - 1] {
            #expect(throws: TimestampError.self, "cut at \(cut)") { try TimestampReply(der: Array(der.prefix(cut))) }
        }
        #expect(throws: TimestampError.malformed(what: "timestamp reply", reason: "trailing bytes after the DER")) {
            try TimestampReply(der: der + [0])
        }
        #expect(throws: TimestampError.tooLarge(what: "timestamp reply", limit: 65536, actual: 65537)) {
            try TimestampReply(der: [UInt8](repeating: 0x30, count: 65537))
        }
        var rng = SplitMix64(seed: 3161)
        for _ in 0..<50 {
            let garbage = (0..<Int(rng.next() % 400)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            #expect(throws: TimestampError.self) { try TimestampReply(der: garbage) }
            #expect(throws: TimestampError.self) { try TimestampToken(der: garbage) }
            #expect(throws: TimestampError.self) { try TimestampRequest(der: garbage) }
        }
    }

    @Test("CA certificate files: garbage, empty, damaged and too many are refused")
    func certificateFiles() throws {
        let tsa = try Self.tsa.get()
        #expect(throws: TimestampError.self) { try TrustedCertificates(pem: "") }
        #expect(throws: TimestampError.self) { try TrustedCertificates(pem: "not a certificate") }
        var damaged = tsa.caPEM
        let middle = damaged.index(damaged.startIndex, offsetBy: 100)
        damaged.replaceSubrange(middle...middle, with: "!")
        #expect(throws: TimestampError.self) { try TrustedCertificates(pem: damaged) }
        #expect(throws: TimestampError.self) {
            try TrustedCertificates(pem: String(repeating: tsa.caPEM, count: 17))
        }
        let two = try TrustedCertificates(pem: tsa.caPEM + tsa.otherCAPEM)
        #expect(two.subjects == ["CN=Local Test TSA Root,O=Amanat Test", "CN=Other CA,O=Elsewhere"])
    }

    @Test("our request reads in openssl ts -query -text: SHA-256, nonce, certReq")
    func requestInterop() throws {
        let tsa = try Self.tsa.get()
        let request = try TimestampRequest(sha256Digest: try SHA256.hash(subject), nonce: 0x0123_4567_89AB_CDEF)
        let file = tsa.folder.appendingPathComponent("ours-\(UUID().uuidString).tsq")
        try Data(request.der).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try Subprocess.run(
            try ExternalTool.openssl.require(), ["ts", "-query", "-in", file.path, "-text"])
        #expect(result.status == 0)
        #expect(result.stdoutText.contains("Hash Algorithm: sha256"))
        #expect(result.stdoutText.contains("Nonce: 0x0123456789ABCDEF"))
        #expect(result.stdoutText.contains("Certificate required: yes"))
    }

    /// The token inside a reply, cut out by `openssl ts -reply -in … -token_out`.
    static func extractToken(from reply: [UInt8]) throws -> [UInt8] {
        let tsa = try Self.tsa.get()
        let replyURL = tsa.folder.appendingPathComponent("reply-\(UUID().uuidString).tsr")
        let tokenURL = tsa.folder.appendingPathComponent("token-\(UUID().uuidString).der")
        defer {
            try? FileManager.default.removeItem(at: replyURL)
            try? FileManager.default.removeItem(at: tokenURL)
        }
        try Data(reply).write(to: replyURL)
        let result = try Subprocess.run(
            try ExternalTool.openssl.require(),
            ["ts", "-reply", "-in", replyURL.path, "-token_out", "-out", tokenURL.path])
        #expect(result.status == 0, "\(result.stderrText)")
        return Array(try Data(contentsOf: tokenURL))
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        for start in 0...(haystack.count - needle.count) where Array(haystack[start..<start + needle.count]) == needle {
            return start
        }
        return nil
    }
}
