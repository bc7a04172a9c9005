import AmanatCrypto
import Foundation
import Testing

@testable import AmanatRecords

/// The verifier's fast paths (disclosures read without building their array, digests compared as bytes,
/// payloads resolved in place, one verifier reused across versions) must give exactly the verdicts, values and
/// errors of the plain reading, on good and hostile input.
@Suite("Record verification fast paths")
struct VerifierFastPathTests {
    let key: Ed25519.SigningKey
    let fingerprint: String

    init() throws {
        key = try .generate()
        fingerprint = Fingerprint.of(key.publicKey)
    }

    func trust(_ kid: String) -> Ed25519.VerifyingKey? { kid == fingerprint ? key.publicKey : nil }

    /// Disclosure JSON texts: well formed, oddly spaced, escaped, non-ASCII, and every kind of wrong.
    static let disclosureTexts: [String] = [
        #"["c2FsdA","name","value"]"#,
        #"["c2FsdA","value"]"#,
        #" ["c2FsdA","name","value"]"#,
        #"[ "c2FsdA" , "name" , "value" ]"#,
        "[\"c2FsdA\",\n\"name\",\t\"value\"]\r\n",
        #"["s\u0061lt","n\u00e4me","v\"al\\ue"]"#,
        #"["sält","имя","Ләйлә 测试"]"#,
        #"["salt","nested",{"_sd":["x"],"a":[1,2,{"b":null}]}]"#,
        #"["salt",{"...":"x"}]"#,
        #"["salt","n",-0.5e+3]"#,
        #"["salt","n",true]"#,
        #"["salt",[]]"#,
        // Wrong shapes.
        #"["salt"]"#, #"["salt","n","v",4]"#, #"[1,"n","v"]"#, #"["salt",1,"v"]"#, #"{"salt":"n"}"#, #""salt""#,
        "[]", #"[null,"v"]"#, #"["salt",["n"],"v"]"#,
        // Not JSON.
        #"["salt","n","v"]x"#, #"["salt","n","v""#, #"["salt","n",]"#, #"["salt",,"v"]"#, #"["salt" "n" "v"]"#,
        #"["sa"#, "", "[", #"["salt","n","v"]]"#, #"["salt","n",tru]"#, #"["salt","n",01]"#,
        "[\"sa\u{01}lt\",\"n\",\"v\"]", #"["salt","n","\ud800"]"#, #"["salt","n",{"a":1,"a":2}]"#,
    ]

    /// The outcome of one reading: the salt (when kept), the name and the value, or the error's description.
    static func outcome(_ read: () throws -> (String?, JSONValue, String?)) -> String {
        do {
            let (name, value, salt) = try read()
            return "ok \(salt ?? "<no salt>") \(name ?? "<element>") \(value.serialized())"
        } catch {
            return "error \(error)"
        }
    }

    @Test func fastDisclosureReadingAgreesWithTheGeneralParser() throws {
        var scratch: [UInt8] = Array(repeating: 0xAA, count: 500)
        var accepted = 0
        var refused = 0
        for text in Self.disclosureTexts {
            let encoded = Base64URL.encode(Array(text.utf8))
            let general = Self.outcome {
                let (_, name, value) = try Disclosure.parseContent(encoded, index: 3)
                return (name, value, nil)
            }
            let fast = Self.outcome { try Disclosure.parseContent(encoded, index: 3, scratch: &scratch) }
            #expect(fast == general, "\(text)")
            // Keeping the salt (a verifier that hands its disclosures to a DisclosureMap) reads the same salt.
            let generalSalted = Self.outcome {
                let (salt, name, value) = try Disclosure.parseContent(encoded, index: 3)
                return (name, value, salt)
            }
            let fastSalted = Self.outcome {
                try Disclosure.parseContent(encoded, index: 3, scratch: &scratch, keepingSalt: true)
            }
            #expect(fastSalted == generalSalted, "\(text)")
            if general.hasPrefix("ok") { accepted += 1 } else { refused += 1 }
        }
        #expect(accepted == 12)
        #expect(refused == Self.disclosureTexts.count - 12)
        // Errors name the disclosure and the problem, never its content.
        var other: [UInt8] = []
        #expect(throws: SDJWTError.badDisclosure(index: 3, reason: "not base64url")) {
            try Disclosure.parseContent("a~b", index: 3, scratch: &other)
        }
        #expect(
            throws: SDJWTError.badDisclosure(
                index: 3, reason: "not an array of [salt, name, value] or [salt, value]")
        ) {
            try Disclosure.parseContent(Base64URL.encode(Array(#"["s","secret-value",1,2]"#.utf8)), index: 3)
        }
    }

    @Test func theSaltIsKeptForTheFullDisclosure() throws {
        let made = try Disclosure(name: "phone", value: .string("+77012345678"))
        let read = try Disclosure(encoded: made.encoded, index: 0)
        #expect(read == made)
        #expect(read.salt.utf8.count == 22)
    }

    /// Builds a JWT by hand (signed with the trusted key) with the given `rec` and disclosures.
    func handmade(_ rec: JSONValue, _ disclosures: [String]) throws -> SDJWT {
        let header = JSONValue.object([("typ", .string(SignedVersion.jwtType)), ("kid", .string(fingerprint))])
        let payload = JSONValue.object([
            ("_sd_alg", .string("sha-256")), ("iat", .number("1")), ("kind", .string("create")), ("prev", .array([])),
            ("att", .array([])), ("rec", rec),
        ])
        return SDJWT(jwt: try SignedJWT.sign(header: header, payload: payload, key: key), disclosures: disclosures)
    }

    @Test func payloadDigestsAreComparedExactly() throws {
        let d = try Disclosure(name: "a", value: .string("x"))
        let decoy = Base64URL.encode(try SecureRandom.bytes(32))
        // The same withheld digest twice, and the same non-digest string twice, are duplicates.
        let twiceWithheld = try handmade(.object([("_sd", .array([.string(decoy), .string(decoy)]))]), [])
        #expect(throws: SDJWTError.duplicateDigest) { try RecordVerifier.verify(twiceWithheld, trustedKey: trust) }
        let twiceOdd = try handmade(.object([("_sd", .array([.string("not a digest"), .string("not a digest")]))]), [])
        #expect(throws: SDJWTError.duplicateDigest) { try RecordVerifier.verify(twiceOdd, trustedKey: trust) }
        // Distinct strings that are not digests count as withheld.
        let odd = try handmade(.object([("_sd", .array([.string("x"), .string("y"), .string(decoy)]))]), [])
        #expect(try RecordVerifier.verify(odd, trustedKey: trust).withheldCount == 3)
        // One element disclosure named twice in an array.
        let e = try Disclosure(name: nil, value: .string("y"))
        let element = JSONValue.object([("...", .string(e.digest))])
        let both = try handmade(.object([("list", .array([element, element]))]), [e.encoded])
        #expect(throws: SDJWTError.duplicateDigest) { try RecordVerifier.verify(both, trustedKey: trust) }
        // Another spelling of the digest (unused low bits of the last character set) names nothing.
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        let last = alphabet.firstIndex(of: d.digest.utf8.last!)!
        let twin = String(decoding: Array(d.digest.utf8.dropLast()) + [alphabet[last ^ 1]], as: UTF8.self)
        let spelled = try handmade(.object([("_sd", .array([.string(twin)]))]), [d.encoded])
        #expect(throws: SDJWTError.unreferencedDisclosures(count: 1)) {
            try RecordVerifier.verify(spelled, trustedKey: trust)
        }
        // The real digest resolves.
        let good = try handmade(.object([("_sd", .array([.string(decoy), .string(d.digest)]))]), [d.encoded])
        let verified = try RecordVerifier.verify(good, trustedKey: trust)
        #expect(verified.content == .object([("a", .string("x"))]))
        #expect(verified.withheldCount == 1)
        #expect(verified.disclosedCount == 1)
    }

    @Test func onlySegmentedTextsAreJoined() throws {
        let s1 = try Disclosure(name: nil, value: .string("First sentence. "))
        let s2 = try Disclosure(name: nil, value: .string("Second one."))
        let segments = JSONValue.object([
            ("segments", .array([.object([("...", .string(s1.digest))]), .object([("...", .string(s2.digest))])]))
        ])
        let rec = JSONValue.object([
            ("testimony", .object([("transcript", segments)])),
            ("provenance", .object([("notes", .object([("segments", .array([.string("a"), .string("b")]))]))])),
        ])
        let full = try RecordVerifier.verify(try handmade(rec, [s1.encoded, s2.encoded]), trustedKey: trust)
        #expect(full.content["testimony"]?["transcript"] == .string("First sentence. Second one."))
        #expect(full.content["provenance"]?["notes"] == .object([("segments", .array([.string("a"), .string("b")]))]))
        #expect(full.partialTexts.isEmpty)
        let partial = try RecordVerifier.verify(try handmade(rec, [s2.encoded]), trustedKey: trust)
        #expect(partial.content["testimony"]?["transcript"] == .string("Second one."))
        #expect(partial.partialTexts == ["/testimony/transcript"])
        #expect(partial.withheldCount == 1)
    }

    @Test func resolvingInPlaceLeavesTheCallersValuesAlone() throws {
        let version = try RecordSigner.sign(
            content: try JSONValue.parse(
                #"{"testifier":{"names":{"latn":"Test Person"},"phones":[{"number":"+77012345678"}]},"#
                    + #""testimony":{"transcript":"One. Two."}}"#),
            kind: .create, recordId: nil, prev: [], key: key,
            policy: DisclosurePolicy(isConcealable: { $0.hasPrefix("/testifier") || $0 == "/testimony/transcript" }))
        let jwt = try SignedJWT.parse(version.sdjwt.jwt)
        let payload = jwt.payload.removing("_sd_alg")
        let kept = payload
        var first = try DisclosureResolver(disclosures: version.sdjwt.disclosures)
        let once = try first.resolve(payload)
        var second = try DisclosureResolver(disclosures: version.sdjwt.disclosures)
        let twice = try second.resolve(payload)
        #expect(payload == kept)
        #expect(payload == jwt.payload.removing("_sd_alg"))
        #expect(once == twice)
        #expect(once["rec"]?["testifier"]?["phones"] == .array([.object([("number", .string("+77012345678"))])]))
    }

    @Test func oneVerifierServesManyVersionsAndSurvivesFailures() throws {
        let verifier = try RecordVerifier()
        var checked = 0
        for i in 0..<40 {
            let content = JSONValue.object([
                ("testifier", .object([("names", .object([("latn", .string("Person \(i)"))]))])),
                ("testimony", .object([("transcript", .string("Sentence \(i). Another one."))])),
            ])
            let version = try RecordSigner.sign(
                content: content, kind: .create, recordId: nil, prev: [], key: key,
                policy: DisclosurePolicy(isConcealable: { $0.hasPrefix("/testifier") || $0.hasPrefix("/testimony/") }))
            let reused = try verifier.verify(version.sdjwt, trustedKey: trust)
            let fresh = try RecordVerifier.verify(version.sdjwt, trustedKey: trust)
            #expect(reused.content.sortedKeys() == content.sortedKeys())
            #expect(reused.content == fresh.content)
            #expect(reused.versionId == version.versionId)
            #expect(reused.disclosedCount == fresh.disclosedCount)
            // A tampered copy fails, and the next version still verifies with the same verifier.
            var tampered = version.sdjwt
            tampered.disclosures[0] = String(tampered.disclosures[0].dropLast(4))
            #expect(throws: (any Error).self) { try verifier.verify(tampered, trustedKey: trust) }
            checked += 1
        }
        #expect(checked == 40)
    }

    @Test func compactFormsAreSplitOnBytes() throws {
        let version = try RecordSigner.sign(
            content: .object([("testifier", .object([("names", .object([("latn", .string("Test Person"))]))]))]),
            kind: .create, recordId: nil, prev: [], key: key,
            policy: DisclosurePolicy(isConcealable: { $0.hasPrefix("/testifier") }))
        let compact = version.sdjwt.compact
        #expect(try SDJWT.parse(" \t" + compact + "\r\n") == version.sdjwt)
        #expect(throws: SDJWTError.malformed("no '~' separator (a plain JWT is not an SD-JWT)")) {
            try SDJWT.parse(" \n ")
        }
        #expect(throws: SDJWTError.malformed("unexpected text after the last '~'")) {
            try SDJWT.parse(compact + "\u{0C}")
        }
        #expect(throws: SDJWTError.keyBindingNotSupported) { try SDJWT.parse(compact + "a.b.c") }
        #expect(throws: SDJWTError.malformed("an empty disclosure ('~~')")) {
            try SDJWT.parse(version.sdjwt.jwt + "~~" + version.sdjwt.disclosures[0] + "~")
        }
        // A '~' followed by a combining mark is still a separator (bytes, not Characters).
        let parsed = try SDJWT.parse(version.sdjwt.jwt + "~\u{301}x~")
        #expect(parsed.disclosures == ["\u{301}x"])
    }

    @Test func signedJWTPartsAreCheckedInPlace() throws {
        let jwt = try SignedJWT.sign(header: .object([]), payload: .object([("a", .number("1"))]), key: key)
        let parsed = try SignedJWT.parse(jwt)
        let parts = jwt.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        #expect(parsed.signingInput == Array((parts[0] + "." + parts[1]).utf8))
        #expect(parsed.verify(with: key.publicKey))
        let bad: [String] = [
            parts[0] + "." + parts[1], jwt + ".", "." + jwt, parts[0] + ".." + parts[2], jwt + ".AAAA", "", "...",
            parts[0] + "." + parts[1] + "." + String(parts[2].dropLast()),
        ]
        for text in bad {
            #expect(throws: SDJWTError.self, "\(text.prefix(12))") { try SignedJWT.parse(text) }
        }
    }
}

@Suite("JSON string escaping")
struct JSONEscapingTests {
    /// The escaping rule written the plain way, one scalar at a time.
    static func reference(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    @Test func runsAndEscapesMatchThePlainRule() throws {
        let pieces = [
            "a", "Ләйлә", "测试", "\"", "\\", "\n", "\r", "\t", "\u{08}", "\u{0C}", "\u{01}", "\u{1F}", "\u{7F}", "é",
            "👩‍👩‍👧", "", " ", "/",
        ]
        var generator = SystemRandomNumberGenerator()
        var checked = 0
        for length in 0..<12 {
            for _ in 0..<150 {
                let s = (0..<length).map { _ in pieces.randomElement(using: &generator)! }.joined()
                #expect(JSONValue.quoted(s) == Self.reference(s), "\(s.debugDescription)")
                // And it reads back as the same string.
                #expect(try JSONValue.parse(JSONValue.quoted(s)) == .string(s))
                checked += 1
            }
        }
        #expect(checked == 1800)
    }
}

@Suite("JSON Pointer parsing")
struct JSONPointerTests {
    @Test func tokensEscapesAndIndices() {
        #expect(JSONPointer.components("") == [])
        #expect(JSONPointer.components("/") == [.key("")])
        #expect(JSONPointer.components("/testifier/phones/0") == [.key("testifier"), .key("phones"), .index(0)])
        #expect(JSONPointer.components("/a~1b/c~0d/~01") == [.key("a/b"), .key("c~d"), .key("~1")])
        #expect(
            JSONPointer.components("/0/01/10/123456789/1234567890")
                == [.index(0), .key("01"), .index(10), .index(123_456_789), .key("1234567890")])
        #expect(JSONPointer.components("/a//b/") == [.key("a"), .key(""), .key("b"), .key("")])
        #expect(JSONPointer.components("/Ләйлә/测试/0") == [.key("Ләйлә"), .key("测试"), .index(0)])
        #expect(JSONPointer.components("/-1") == [.key("-1")])
        for bad in ["x", "a/b", "/~", "/~2", "/a~", "/~a"] { #expect(JSONPointer.components(bad) == nil, "\(bad)") }
        // Round trip through the writer.
        let path: [PathComponent] = [.key("a/b~c"), .index(3), .key(""), .key("Ләйлә")]
        #expect(JSONPointer.components(JSONPointer.string(path)) == path)
    }
}
