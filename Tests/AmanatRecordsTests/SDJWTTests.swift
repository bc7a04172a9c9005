import AmanatCrypto
import Foundation
import Testing

@testable import AmanatRecords

@Suite("SD-JWT record versions")
struct SDJWTTests {
    let key: Ed25519.SigningKey
    let fingerprint: String

    init() throws {
        key = try .generate()
        fingerprint = Fingerprint.of(key.publicKey)
    }

    /// Everything under /testifier and /detainees is concealed, /testimony/consent stays plain.
    static let policy = DisclosurePolicy(isConcealable: { pointer in
        pointer.hasPrefix("/testifier") || pointer.hasPrefix("/detainees") || pointer == "/testimony/transcript"
    })

    static let record = try! JSONValue.parse(
        """
        {"schema":"amanat-record/v1","testifier":{"names":{"latn":"Test Person"},"cnResidentId":"65010219800101139X",
        "phones":[{"number":"+77012345678"}]},"detainees":[{"names":{"zh":"测试"}},{"names":{"latn":"Second"}}],
        "testimony":{"consent":"public","transcript":"My brother was taken. His ID is 65010219800101139X. We have not heard from him."},
        "provenance":{"organization":"Test Org"}}
        """)

    func trust(_ kid: String) -> Ed25519.VerifyingKey? { kid == fingerprint ? key.publicKey : nil }

    func sign(_ content: JSONValue = Self.record) throws -> SignedVersion {
        try RecordSigner.sign(
            content: content, kind: .create, recordId: nil, prev: [],
            attachments: ["ab" + String(repeating: "0", count: 62)], key: key, policy: Self.policy,
            issuedAt: 1_764_230_000)
    }

    @Test func signVerifyRoundTrip() throws {
        let version = try sign()
        let verified = try RecordVerifier.verify(version.sdjwt, trustedKey: trust)
        #expect(verified.content.sortedKeys() == Self.record.sortedKeys())
        #expect(verified.recordId == version.versionId)
        #expect(verified.kind == .create)
        #expect(verified.withheldCount == 0)
        #expect(verified.signerFingerprint == fingerprint)
        // The signed payload itself never holds the identifier in clear.
        let payload = try #require(Base64URL.decode(version.sdjwt.jwt.split(separator: ".")[1]))
        #expect(!String(decoding: payload, as: UTF8.self).contains("65010219800101139X"))
        #expect(String(decoding: payload, as: UTF8.self).contains("\"consent\":\"public\""))
    }

    @Test func salts_are_128_bits_and_unique() throws {
        let version = try sign()
        var salts = Set<String>()
        for (i, text) in version.sdjwt.disclosures.enumerated() {
            let d = try Disclosure(encoded: text, index: i)
            #expect(Base64URL.decode(d.salt)?.count == 16)
            salts.insert(d.salt)
        }
        #expect(salts.count == version.sdjwt.disclosures.count)
    }

    /// Salts are drawn 64 at a time: across several draws in one signing and across signings, none repeats, and
    /// each disclosure is exactly base64url(JSON `[salt, name, value]`) as the string serializer writes it.
    @Test func saltsStayUniqueAcrossDrawsAndDisclosuresAreTheirSerializedJSON() throws {
        let detainees = JSONValue.array(
            (0..<90).map { i in
                .object([("names", .object([("latn", .string("Synthetic Relative \(i) \u{00E9}\"q\""))]))])
            })
        let record = try #require(Self.record.objectValue).map { $0.0 == "detainees" ? ($0.0, detainees) : $0 }
        var salts = Set<String>()
        var count = 0
        for _ in 0..<2 {
            let version = try RecordSigner.sign(
                content: .object(record), kind: .create, recordId: nil, prev: [], key: key, policy: Self.policy)
            #expect(version.sdjwt.disclosures.count > 64 * 2)
            for (i, text) in version.sdjwt.disclosures.enumerated() {
                let d = try Disclosure(encoded: text, index: i)
                #expect(Base64URL.decode(d.salt)?.count == 16)
                salts.insert(d.salt)
                count += 1
                var items: [JSONValue] = [.string(d.salt)]
                if let name = d.name { items.append(.string(name)) }
                items.append(d.value)
                #expect(text == Base64URL.encode(Array(JSONValue.array(items).serialized().utf8)))
            }
            let verified = try RecordVerifier.verify(version.sdjwt, trustedKey: trust)
            #expect(verified.content.canonical() == JSONValue.object(record).canonical())
        }
        #expect(salts.count == count)
    }

    @Test func transcriptIdentifierIsItsOwnSegment() throws {
        let version = try sign()
        let texts = try version.sdjwt.disclosures.enumerated().map { try Disclosure(encoded: $0.1, index: $0.0) }
        #expect(texts.contains { $0.name == nil && $0.value == .string("65010219800101139X") })
        // Withhold exactly that segment: the rest still verifies against the signature.
        let presentation = try version.sdjwt.presenting { $0.value != .string("65010219800101139X") }
        let verified = try RecordVerifier.verify(presentation, trustedKey: trust)
        let transcript = try #require(verified.content["testimony"]?["transcript"]?.stringValue)
        #expect(!transcript.contains("65010219800101139X"))
        #expect(transcript.contains("My brother was taken."))
        #expect(verified.withheldCount == 2)  // the transcript segment and the identical cnResidentId field
        #expect(verified.partialTexts == ["/testimony/transcript"])
    }

    /// A disclosure map as text: every site and leaf with everything it holds.
    static func described(_ map: DisclosureMap) -> [String] {
        map.sites.map { site in
            let d = site.disclosure
            return "site \(site.index) \(DisclosureMap.pointer(site.path)) \(site.segment ?? -1) \(site.parent ?? -1) "
                + "\(d.encoded) \(d.salt) \(d.name ?? "<element>") \(d.value.serialized()) \(d.digest)"
        }
            + map.leaves.map { leaf in
                "leaf \(leaf.pointer) \(DisclosureMap.pointer(leaf.path)) \(leaf.segment ?? -1) \(leaf.owner ?? -1) "
                    + leaf.value.serialized()
            }
    }

    @Test func theVerifiersMapIsTheMapOfTheSDJWT() throws {
        let version = try sign()
        let full = try DisclosureMap(version.sdjwt)
        let count = version.sdjwt.disclosures.count
        #expect(full.sites.count == count)
        #expect(full.sites.contains { $0.parent != nil } && full.sites.contains { $0.segment != nil })
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var withheld = 0
        for round in 0..<60 {
            // Round 0 presents everything; the others withhold a random set of disclosures with everything nested
            // in them (a parent's site comes before its children's).
            var kept = [Bool](repeating: false, count: full.sites.count)
            for (s, site) in full.sites.enumerated() {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                kept[s] = (round == 0 || state >> 62 != 0) && (site.parent.map { kept[$0] } ?? true)
            }
            let indexes = Set(full.sites.indices.filter { kept[$0] }.map { full.sites[$0].index })
            withheld += count - indexes.count
            let presentation = SDJWT(
                jwt: version.sdjwt.jwt,
                disclosures: version.sdjwt.disclosures.enumerated().filter { indexes.contains($0.offset) }.map(
                    \.element))
            let (verified, map) = try RecordVerifier().verifyMapping(presentation, trustedKey: trust)
            #expect(verified.content == (try RecordVerifier.verify(presentation, trustedKey: trust)).content)
            let parsed = try DisclosureMap(presentation)
            #expect(Self.described(map) == Self.described(parsed))
            #expect(map.sites.count == presentation.disclosures.count)
        }
        #expect(withheld > count * 10)
        // A presentation that does not verify gives no map.
        let altered = SDJWT(jwt: version.sdjwt.jwt, disclosures: Array(version.sdjwt.disclosures.dropFirst()) + ["x"])
        #expect(throws: SDJWTError.self) { try RecordVerifier().verifyMapping(altered, trustedKey: trust) }
    }

    @Test func presentationWithholdingAField() throws {
        let version = try sign()
        let presentation = try version.sdjwt.presenting { $0.name != "cnResidentId" }
        let verified = try RecordVerifier.verify(presentation, trustedKey: trust)
        #expect(verified.content["testifier"]?["cnResidentId"] == nil)
        #expect(verified.content["testifier"]?["names"] != nil)
    }

    @Test func editVersionsCarryRecordAndParents() throws {
        let create = try sign()
        let edited = Self.record.setting("tags", .array([.string("reviewed")]))
        let edit = try RecordSigner.sign(
            content: edited, kind: .edit, recordId: create.recordId, prev: [create.versionId], key: key,
            policy: Self.policy)
        let verified = try RecordVerifier.verify(edit.sdjwt, trustedKey: trust)
        #expect(verified.recordId == create.recordId)
        #expect(verified.prev == [create.versionId])
        #expect(verified.kind == .edit)
    }

    @Test func untrustedSignerIsNamed() throws {
        let version = try sign()
        #expect(throws: SDJWTError.untrustedSigner(fingerprint: fingerprint)) {
            try RecordVerifier.verify(version.sdjwt, trustedKey: { _ in nil })
        }
    }

    @Test func unreferencedDisclosureIsRefused() throws {
        let version = try sign()
        let extra = try Disclosure(name: "cnResidentId", value: .string("11010519491231002X"))
        var sdjwt = version.sdjwt
        sdjwt.disclosures.append(extra.encoded)
        #expect(throws: SDJWTError.unreferencedDisclosures(count: 1)) {
            try RecordVerifier.verify(sdjwt, trustedKey: trust)
        }
    }

    @Test func repeatedDisclosureIsRefused() throws {
        let version = try sign()
        var sdjwt = version.sdjwt
        sdjwt.disclosures.append(sdjwt.disclosures[0])
        #expect(throws: (any Error).self) { try RecordVerifier.verify(sdjwt, trustedKey: trust) }
    }

    /// Builds a JWT by hand (signed with the trusted key) to exercise the verifier's structural checks.
    func handmade(_ payload: JSONValue, header: JSONValue? = nil, disclosures: [Disclosure] = []) throws -> SDJWT {
        let h = header ?? .object([("typ", .string(SignedVersion.jwtType)), ("kid", .string(fingerprint))])
        return SDJWT(
            jwt: try SignedJWT.sign(header: h, payload: payload, key: key), disclosures: disclosures.map(\.encoded))
    }

    func basePayload(_ rec: JSONValue) -> JSONValue {
        .object([
            ("_sd_alg", .string("sha-256")), ("iat", .number("1")), ("kind", .string("create")), ("prev", .array([])),
            ("att", .array([])), ("rec", rec),
        ])
    }

    @Test func duplicateDigestIsRefused() throws {
        let d = try Disclosure(name: "a", value: .string("x"))
        let sdjwt = try handmade(
            basePayload(.object([("_sd", .array([.string(d.digest), .string(d.digest)]))])), disclosures: [d])
        #expect(throws: SDJWTError.duplicateDigest) { try RecordVerifier.verify(sdjwt, trustedKey: trust) }
    }

    @Test func reservedAndExistingNamesAreRefused() throws {
        let reserved = try Disclosure(name: "_sd", value: .array([]))
        let s1 = try handmade(
            basePayload(.object([("_sd", .array([.string(reserved.digest)]))])), disclosures: [reserved])
        #expect(throws: SDJWTError.reservedClaimName("_sd")) { try RecordVerifier.verify(s1, trustedKey: trust) }
        let clash = try Disclosure(name: "consent", value: .string("public"))
        let s2 = try handmade(
            basePayload(.object([("consent", .string("internal")), ("_sd", .array([.string(clash.digest)]))])),
            disclosures: [clash])
        #expect(throws: SDJWTError.claimAlreadyPresent("consent")) { try RecordVerifier.verify(s2, trustedKey: trust) }
    }

    @Test func wrongShapesAreRefused() throws {
        // An array-element disclosure referenced from _sd, and an object-property disclosure inside an array.
        let element = try Disclosure(name: nil, value: .string("x"))
        let s1 = try handmade(
            basePayload(.object([("_sd", .array([.string(element.digest)]))])), disclosures: [element])
        #expect(throws: (any Error).self) { try RecordVerifier.verify(s1, trustedKey: trust) }
        let property = try Disclosure(name: "a", value: .string("x"))
        let s2 = try handmade(
            basePayload(.object([("list", .array([.object([("...", .string(property.digest))])]))])),
            disclosures: [property])
        #expect(throws: (any Error).self) { try RecordVerifier.verify(s2, trustedKey: trust) }
    }

    @Test func algorithmTypeAndDigestAlgorithmAreChecked() throws {
        let none = try handmade(
            basePayload(.object([])),
            header: .object([("typ", .string(SignedVersion.jwtType)), ("kid", .string(fingerprint))]))
        // Replace alg by "none" (the signature then no longer matters).
        let parts = none.jwt.split(separator: ".")
        let noneHeader = Base64URL.encode(
            Array("{\"alg\":\"none\",\"typ\":\"\(SignedVersion.jwtType)\",\"kid\":\"\(fingerprint)\"}".utf8))
        let forged = SDJWT(jwt: noneHeader + "." + parts[1] + "." + parts[2], disclosures: [])
        #expect(throws: SDJWTError.unsupportedAlgorithm("none")) {
            try RecordVerifier.verify(forged, trustedKey: trust)
        }

        let wrongTyp = try handmade(
            basePayload(.object([])), header: .object([("typ", .string("JWT")), ("kid", .string(fingerprint))]))
        #expect(throws: SDJWTError.wrongType("JWT")) { try RecordVerifier.verify(wrongTyp, trustedKey: trust) }

        let sha512 = try handmade(basePayload(.object([])).setting("_sd_alg", .string("sha-512")))
        #expect(throws: SDJWTError.unsupportedDigestAlgorithm("sha-512")) {
            try RecordVerifier.verify(sha512, trustedKey: trust)
        }

        // RFC 9864's "Ed25519" is accepted as alg.
        let input =
            Base64URL.encode(
                Array("{\"alg\":\"Ed25519\",\"typ\":\"\(SignedVersion.jwtType)\",\"kid\":\"\(fingerprint)\"}".utf8))
            + "." + Base64URL.encode(Array(basePayload(.object([])).serialized().utf8))
        let jwt = input + "." + Base64URL.encode(try key.signature(for: Array(input.utf8)))
        #expect(try RecordVerifier.verify(SDJWT(jwt: jwt, disclosures: []), trustedKey: trust).kind == .create)
    }

    @Test func compactParsing() throws {
        let version = try sign()
        let compact = version.sdjwt.compact
        #expect(try SDJWT.parse(compact) == version.sdjwt)
        #expect(throws: SDJWTError.keyBindingNotSupported) { try SDJWT.parse(compact + "eyJhbGciOiJFZERTQSJ9.e30.AA") }
        #expect(throws: (any Error).self) { try SDJWT.parse(version.sdjwt.jwt) }
        #expect(throws: (any Error).self) { try SDJWT.parse(version.sdjwt.jwt + "~~") }
    }

    @Test func everyByteOfTheSignedJWTMatters() throws {
        let version = try sign()
        let jwt = Array(version.sdjwt.jwt.utf8)
        var accepted = 0
        for i in 0..<jwt.count {
            var copy = jwt
            copy[i] = copy[i] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            let candidate = SDJWT(jwt: String(decoding: copy, as: UTF8.self), disclosures: version.sdjwt.disclosures)
            if (try? RecordVerifier.verify(candidate, trustedKey: trust)) != nil { accepted += 1 }
        }
        #expect(accepted == 0)
    }

    @Test func alteredDisclosureIsRefused() throws {
        let version = try sign()
        var sdjwt = version.sdjwt
        let original = try Disclosure(encoded: sdjwt.disclosures[0], index: 0)
        var items: [JSONValue] = [.string(original.salt)]
        if let name = original.name { items.append(.string(name)) }
        items.append(.string("forged value"))
        sdjwt.disclosures[0] = Base64URL.encode(Array(JSONValue.array(items).serialized().utf8))
        #expect(throws: SDJWTError.unreferencedDisclosures(count: 1)) {
            try RecordVerifier.verify(sdjwt, trustedKey: trust)
        }
    }
}

@Suite("JSONValue parsing")
struct JSONValueTests {
    @Test func roundTripsAndKeepsOrderAndNumbers() throws {
        let text = #"{"b":1.50,"a":[true,false,null,"x\u00e9\n"],"c":{"z":-0.0e+10}}"#
        let value = try JSONValue.parse(text)
        #expect(value.serialized() == #"{"b":1.50,"a":[true,false,null,"xé\n"],"c":{"z":-0.0e+10}}"#)
        #expect(value.canonical() == #"{"a":[true,false,null,"xé\n"],"b":1.50,"c":{"z":-0.0e+10}}"#)
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":1,}", "{\"a\":1 \"b\":2}", "01", "1.", "-", "tru", "\"\\x\"", "\"\u{01}\"",
        "{\"a\":1,\"a\":2}", "\"\\ud800\"", "[1] x", "\u{FEFF}{}", "nan", "{'a':1}",
    ])
    func rejects(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test func rejectsInvalidUTF8AndDeepNesting() {
        #expect(throws: JSONParseError.self) { try JSONValue.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSONParseError.self) { try JSONValue.parse([0x22, 0xED, 0xA0, 0x80, 0x22]) }
        #expect(throws: JSONParseError.self) {
            try JSONValue.parse(String(repeating: "[", count: 100) + String(repeating: "]", count: 100))
        }
    }

    @Test func errorsCarryLineAndColumn() {
        do {
            _ = try JSONValue.parse("{\n  \"a\": 1,\n  \"b\": ?\n}")
            Issue.record("accepted")
        } catch let error as JSONParseError {
            #expect(error.line == 3)
            #expect(error.column == 8)
        } catch {
            Issue.record("wrong error")
        }
    }
}
