import AmanatCrypto
import AmanatTestSupport
import Foundation
import Testing

@testable import AmanatRecords

/// Interop with the SD-JWT reference implementation `sd-jwt` 0.10.4 (openwallet-foundation-labs/sd-jwt-python, with
/// `jwcrypto` for EdDSA/Ed25519), run from the package's `.build-venv` as one Python process per direction:
/// - our record versions and presentations verify in Python and give the same processed payload as our resolver;
/// - SD-JWTs Python issues with an Ed25519 key verify with `RecordVerifier` / `DisclosureResolver`;
/// - the one documented difference: Python accepts a disclosure the signed payload does not reference, we refuse it
///   (RFC 9901 §7.1 step 5).
/// Without the venv the suite is skipped locally, with the command that creates it, and fails when `CI` is set.
@Suite("SD-JWT interop with the Python reference implementation", .requires(.pythonVenv))
struct SDJWTInteropTests {
    static let issuedAt = 1_764_230_000

    /// Everything is its own disclosure except the schema id and the provenance block.
    static let policy = DisclosurePolicy(isConcealable: { $0 != "/schema" && !$0.hasPrefix("/provenance") })

    static func record() throws -> JSONValue {
        let url = PackagePaths.url("Specs/examples/en-survivor-public.json")
        return try JSONValue.parse(try Data(contentsOf: url))
    }

    static func attachmentDigests(_ record: JSONValue) -> [String] {
        (record["attachments"]?.arrayValue ?? []).compactMap { $0["sha256"]?.stringValue }
    }

    // MARK: Swift → Python

    @Test func swiftIssuedVersionsVerifyInPython() throws {
        let record = try Self.record()
        let key = try Ed25519.SigningKey.generate()
        let otherKey = try Ed25519.SigningKey.generate()
        let fingerprint = Fingerprint.of(key.publicKey)
        let trust: (String) -> Ed25519.VerifyingKey? = { $0 == fingerprint ? key.publicKey : nil }
        let version = try RecordSigner.sign(
            content: record, kind: .create, recordId: nil, prev: [], attachments: Self.attachmentDigests(record),
            key: key,
            policy: Self.policy, issuedAt: Self.issuedAt)
        let full = version.sdjwt
        #expect(full.disclosures.count > 100)
        let edit = try RecordSigner.sign(
            content: record.setting("tags", .array([.string("reviewed")])), kind: .edit, recordId: version.recordId,
            prev: [version.versionId], key: key, policy: Self.policy, issuedAt: Self.issuedAt + 60)

        // A public presentation: the identifying fields and every transcript segment holding an identifier withheld.
        let identifiers = [
            "654221199003120461", "900312-400106", "900312400106", "EB3071926", "+86 131 9901 7734", "+7 705 555 01 23",
            "d.mysalova@example.org",
        ]
        let withheldNames: Set<String> = ["cnResidentId", "kzIin", "dateOfBirth", "documents", "phones", "emails"]
        let publicView = try Self.present(full) { d in
            if let name = d.name { return withheldNames.contains(name) }
            guard let text = d.value.stringValue else { return false }
            return identifiers.contains { text.contains($0) }
        }
        // Whole subtrees withheld: the testifier and the detainees with everything below them.
        let testimonyOnly = try Self.present(full) { $0.name == "testifier" || $0.name == "detainees" }
        // Not a valid presentation: the testifier disclosure withheld but its children still sent.
        let dangling = try full.presenting { $0.name != "testifier" }
        let danglingCount = full.disclosures.count - dangling.disclosures.count
        let orphans = try Self.present(full) { $0.name == "testifier" }
        let orphanCount = full.disclosures.count - orphans.disclosures.count - danglingCount
        #expect(danglingCount == 1 && orphanCount > 10)
        // An extra, unreferenced disclosure appended (same claim name and value as the real one, fresh salt).
        var extra = full
        extra.disclosures.append(try Disclosure(name: "cnResidentId", value: .string("654221199003120461")).encoded)

        let jwk = try Self.json(key.publicKey.jwk)
        let holderSelection = try JSONValue.parse(
            #"{"rec": {"language": true, "testimony": {"consent": true, "date": true, "place": {"country": true}}, "tags": [true, false, true]}}"#
        )
        func verifyCase(_ name: String, _ sdjwt: SDJWT, jwk: JSONValue = jwk) -> JSONValue {
            .object([
                ("name", .string(name)), ("op", .string("verify")), ("sdjwt", .string(sdjwt.compact)), ("jwk", jwk),
                ("kid", .string(fingerprint)),
            ])
        }
        let cases: [JSONValue] = [
            verifyCase("full", full),
            verifyCase("edit", edit.sdjwt),
            verifyCase("public", publicView),
            verifyCase("testimony-only", testimonyOnly),
            verifyCase("wrong-key", full, jwk: try Self.json(otherKey.publicKey.jwk)),
            verifyCase("extra-disclosure", extra),
            verifyCase("dangling-children", dangling),
            .object([
                ("name", .string("holder")), ("op", .string("present")), ("sdjwt", .string(full.compact)),
                ("disclose", holderSelection),
            ]),
        ]
        let results = try Self.runPython(cases)
        #expect(results.count == 8)

        // 1. The full version: same claims as our resolver, and the record itself once segments are joined.
        let fullResult = try Self.ok(results, "full")
        let header = try #require(fullResult["header"])
        #expect(header["alg"] == .string("EdDSA"))
        #expect(header["typ"] == .string(SignedVersion.jwtType))
        #expect(header["kid"] == .string(fingerprint))
        let fullPayload = try #require(fullResult["payload"])
        #expect(fullPayload.sortedKeys() == (try Self.resolvedClaims(full)).sortedKeys())
        #expect(fullPayload["kind"] == .string("create"))
        #expect(fullPayload["iat"] == .number(String(Self.issuedAt)))
        #expect(fullPayload["att"] == .array(Self.attachmentDigests(record).sorted().map { .string($0) }))
        #expect(fullPayload["rec"]?["testimony"]?["transcript"]?["segments"]?.arrayValue?.isEmpty == false)
        let pythonRecord = Self.joinSegments(try #require(fullPayload["rec"]))
        #expect(pythonRecord.sortedKeys() == record.sortedKeys())
        #expect(try RecordVerifier.verify(full, trustedKey: trust).content.sortedKeys() == record.sortedKeys())

        let editPayload = try #require(try Self.ok(results, "edit")["payload"])
        #expect(editPayload.sortedKeys() == (try Self.resolvedClaims(edit.sdjwt)).sortedKeys())
        #expect(editPayload["kind"] == .string("edit"))
        #expect(editPayload["rid"] == .string(version.recordId))
        #expect(editPayload["prev"] == .array([.string(version.versionId)]))

        // 2. Presentations: the withheld claims are absent in Python too, and both sides agree on the rest.
        let publicPayload = try #require(try Self.ok(results, "public")["payload"])
        #expect(publicPayload.sortedKeys() == (try Self.resolvedClaims(publicView)).sortedKeys())
        let publicText = publicPayload.serialized()
        for identifier in identifiers { #expect(!publicText.contains(identifier)) }
        let testifier = try #require(publicPayload["rec"]?["testifier"])
        for name in withheldNames { #expect(testifier[name] == nil) }
        #expect(testifier["name"]?["latn"] == .string("Dinara Mysalova"))
        let verifiedPublic = try RecordVerifier.verify(publicView, trustedKey: trust)
        #expect(verifiedPublic.partialTexts == ["/testimony/transcript"])
        #expect(
            verifiedPublic.content["testimony"]?["transcript"]?.stringValue?.contains("I was released in October 2019.")
                == true)
        #expect(
            Self.joinSegments(try #require(publicPayload["rec"])).sortedKeys()
                == verifiedPublic.content.sortedKeys())

        let testimonyPayload = try #require(try Self.ok(results, "testimony-only")["payload"])
        #expect(testimonyPayload.sortedKeys() == (try Self.resolvedClaims(testimonyOnly)).sortedKeys())
        #expect(testimonyPayload["rec"]?["testifier"] == nil)
        #expect(testimonyPayload["rec"]?["detainees"] == nil)
        #expect(testimonyPayload["rec"]?["testimony"]?["consent"] == .string("public"))

        // The Python holder's presentation of our version verifies with our verifier.
        let presented = try SDJWT.parse(try #require(try Self.ok(results, "holder")["sdjwt"]?.stringValue))
        #expect(presented.jwt == full.jwt)
        let verifiedHolder = try RecordVerifier.verify(presented, trustedKey: trust)
        let expectedHolder = try JSONValue.parse(
            #"{"schema": "amanat-record/v1", "language": "en", "testimony": {"consent": "public", "date": "2020-07-02", "place": {"country": "KZ"}}, "tags": ["synthetic", "Tacheng"]}"#
        ).setting("provenance", try #require(record["provenance"]))
        #expect(verifiedHolder.content.sortedKeys() == expectedHolder.sortedKeys())
        #expect(verifiedHolder.disclosedCount == 9)

        // Negative control: Python does check the signature.
        let wrongKey = try #require(results["wrong-key"])
        #expect(wrongKey["ok"] == .bool(false))
        #expect(wrongKey["error"]?.stringValue?.hasPrefix("InvalidJWSSignature") == true)

        // 3. The documented difference (RFC 9901 §7.1 step 5): Python ignores unreferenced disclosures, we refuse them.
        let extraPayload = try #require(try Self.ok(results, "extra-disclosure")["payload"])
        #expect(extraPayload.sortedKeys() == fullPayload.sortedKeys())
        #expect(throws: SDJWTError.unreferencedDisclosures(count: 1)) {
            try RecordVerifier.verify(extra, trustedKey: trust)
        }
        let danglingPayload = try #require(try Self.ok(results, "dangling-children")["payload"])
        #expect(danglingPayload["rec"]?["testifier"] == nil)
        #expect(danglingPayload.sortedKeys() == (try Self.resolvedClaims(orphans)).sortedKeys())
        #expect(throws: SDJWTError.unreferencedDisclosures(count: orphanCount)) {
            try RecordVerifier.verify(dangling, trustedKey: trust)
        }
    }

    // MARK: Python → Swift

    @Test func pythonIssuedSDJWTsVerifyInSwift() throws {
        let record = try Self.record()
        let key = try Ed25519.SigningKey.generate()
        let fingerprint = Fingerprint.of(key.publicKey)
        let trust: (String) -> Ed25519.VerifyingKey? = { $0 == fingerprint ? key.publicKey : nil }
        let privateJWK = JSONValue.object([
            ("kty", .string("OKP")), ("crv", .string("Ed25519")), ("x", .string(key.publicKey.jwk.x)),
            ("d", .string(Base64URL.encode(try key.seed().unprotectedArray))),
        ])
        let transcript = try #require(record["testimony"]?["transcript"]?.stringValue)
        let lines = Self.lines(transcript)
        #expect(lines.count == 4)
        let claims = JSONValue.object([
            ("iat", .number(String(Self.issuedAt))), ("kind", .string("create")), ("prev", .array([])),
            ("att", .array(Self.attachmentDigests(record).map { .string($0) })),
            ("rec", Self.marked(record, pointer: "")),
        ])
        let header = JSONValue.object([("typ", .string(SignedVersion.jwtType)), ("kid", .string(fingerprint))])
        let recordSelection = try JSONValue.parse(
            #"{"rec": {"language": true, "testimony": {"consent": true, "transcript": {"segments": [true, false, false, true]}}}}"#
        )
        let generic = try JSONValue.parse(Self.genericClaims)
        let genericSelection = try JSONValue.parse(
            #"{"given_name": true, "address": {"locality": true}, "nationalities": [true, false], "nested": [[true], true]}"#
        )
        func issueCase(
            _ name: String, _ claims: JSONValue, alg: String, decoys: Bool, header: JSONValue, disclose: JSONValue
        ) -> JSONValue {
            .object([
                ("name", .string(name)), ("op", .string("issue")), ("claims", .string(claims.serialized())),
                ("key", privateJWK),
                ("alg", .string(alg)), ("decoys", .bool(decoys)), ("header", header), ("disclose", disclose),
            ])
        }
        let cases = [
            issueCase("record", claims, alg: "EdDSA", decoys: false, header: header, disclose: recordSelection),
            issueCase(
                "record-ed25519-decoys", claims, alg: "Ed25519", decoys: true, header: header, disclose: recordSelection
            ),
            issueCase("generic", generic, alg: "EdDSA", decoys: true, header: .object([]), disclose: genericSelection),
        ]
        let results = try Self.runPython(cases)
        #expect(results.count == 3)

        // A record version issued by Python verifies with RecordVerifier and yields the record.
        for name in ["record", "record-ed25519-decoys"] {
            let result = try Self.ok(results, name)
            let sdjwt = try SDJWT.parse(try #require(result["sdjwt"]?.stringValue))
            let jwt = try SignedJWT.parse(sdjwt.jwt)
            #expect(jwt.header["alg"] == .string(name == "record" ? "EdDSA" : "Ed25519"))
            let verified = try RecordVerifier.verify(sdjwt, trustedKey: trust)
            #expect(verified.content.sortedKeys() == record.sortedKeys())
            #expect(verified.kind == .create)
            #expect(verified.issuedAt == Self.issuedAt)
            #expect(verified.signerFingerprint == fingerprint)
            #expect(verified.attachments == Self.attachmentDigests(record))
            #expect(verified.partialTexts.isEmpty)
            #expect(JSONValue.number(String(verified.disclosedCount)) == result["disclosures"])
            #expect(JSONValue.number(String(verified.withheldCount)) == result["decoys"])
            #expect(try Self.resolvedClaims(sdjwt).sortedKeys() == (try #require(result["verified"])).sortedKeys())

            // Python's holder presentation: two of the four transcript lines, and the consent.
            let presentation = try SDJWT.parse(try #require(result["presentation"]?.stringValue))
            let shown = try RecordVerifier.verify(presentation, trustedKey: trust)
            let expected = JSONValue.object([
                ("schema", .string("amanat-record/v1")), ("language", .string("en")),
                ("testimony", .object([("consent", .string("public")), ("transcript", .string(lines[0] + lines[3]))])),
                ("provenance", try #require(record["provenance"])),
            ])
            #expect(shown.content.sortedKeys() == expected.sortedKeys())
            #expect(
                try Self.resolvedClaims(presentation).sortedKeys()
                    == (try #require(result["presentationVerified"])).sortedKeys())
        }

        // A generic SD-JWT (nested and recursive disclosures, array elements, decoys, non-ASCII) through the
        // lower-level parts: SignedJWT and DisclosureResolver.
        let result = try Self.ok(results, "generic")
        let sdjwt = try SDJWT.parse(try #require(result["sdjwt"]?.stringValue))
        let jwt = try SignedJWT.parse(sdjwt.jwt)
        try jwt.checkAlgorithm()
        #expect(jwt.verify(with: key.publicKey))
        #expect(jwt.header["typ"] == .string("example+sd-jwt"))
        #expect(jwt.payload["_sd_alg"] == .string("sha-256"))
        var resolver = try DisclosureResolver(disclosures: sdjwt.disclosures)
        let resolved = try resolver.resolve(jwt.payload.removing("_sd_alg"))
        #expect(resolved.sortedKeys() == Self.unmarked(generic).sortedKeys())
        #expect(resolved.sortedKeys() == (try #require(result["verified"])).sortedKeys())
        #expect(JSONValue.number(String(resolver.usedCount)) == result["disclosures"])
        #expect(JSONValue.number(String(resolver.withheldCount)) == result["decoys"])
        #expect(resolver.withheldCount >= 2)

        let presentation = try SDJWT.parse(try #require(result["presentation"]?.stringValue))
        var presentationResolver = try DisclosureResolver(disclosures: presentation.disclosures)
        let shown = try presentationResolver.resolve(try SignedJWT.parse(presentation.jwt).payload.removing("_sd_alg"))
        #expect(shown.sortedKeys() == (try #require(result["presentationVerified"])).sortedKeys())
        #expect(shown["given_name"] == .string("Ләйлә"))
        #expect(shown["family_name"] == nil)
        #expect(shown["address"] == .object([("country", .string("KZ")), ("locality", .string("Алматы"))]))
        #expect(shown["nationalities"] == .array([.string("KZ"), .string("FR")]))
        #expect(shown["nested"] == .array([.array([.number("1"), .number("2")]), .null]))

        // Our record verifier refuses it for its type only; an appended unreferenced disclosure is refused.
        #expect(throws: SDJWTError.wrongType("example+sd-jwt")) { try RecordVerifier.verify(sdjwt, trustedKey: trust) }
        var extra = sdjwt
        extra.disclosures.append(try Disclosure(name: "given_name", value: .string("Ләйлә")).encoded)
        var extraResolver = try DisclosureResolver(disclosures: extra.disclosures)
        #expect(throws: SDJWTError.unreferencedDisclosures(count: 1)) {
            try extraResolver.resolve(jwt.payload.removing("_sd_alg"))
        }
    }

    // MARK: Helpers

    /// Python's view of a record: `{"segments": [...]}` at a segmented text's pointer joined back into the text.
    static func joinSegments(_ value: JSONValue, pointer: String = "") -> JSONValue {
        switch value {
        case .object(let members):
            if members.count == 1, members[0].0 == "segments", let items = members[0].1.arrayValue,
                DisclosurePolicy.defaultSegmented(pointer)
            {
                return .string(items.compactMap(\.stringValue).joined())
            }
            return .object(members.map { ($0.0, joinSegments($0.1, pointer: pointer + "/" + $0.0)) })
        case .array(let items):
            return .array(items.enumerated().map { joinSegments($0.1, pointer: pointer + "/\($0.0)") })
        default:
            return value
        }
    }

    /// Claims for a generic SD-JWT: `"!sd name"` marks a selectively disclosable property, `{"!sd": v}` an array
    /// element (the helper turns both into `SDObj`).
    static let genericClaims = #"""
        {
          "iss": "https://issuer.example.org",
          "iat": 1764230000,
          "!sd given_name": "Ләйлә",
          "!sd family_name": "Testova",
          "address": {"!sd street_address": "12 Example Street", "!sd locality": "Алматы", "country": "KZ"},
          "!sd nationalities": [{"!sd": "KZ"}, {"!sd": "DE"}, "FR"],
          "!sd phones": [{"!sd": {"!sd number": "+7 700 000 00 00", "type": "mobile"}}],
          "nested": [[{"!sd": 1}, 2], {"!sd": null}, {"!sd": {"deep": [true, false, 2.5, "测试"]}}],
          "!sd empty": {},
          "note": "quote \" backslash \\ slash / tab \t separator \u2028 end"
        }
        """#

    /// `record` with the policy's concealable members and elements marked for the Python issuer, and the transcript
    /// split into line segments as `{"segments": [...]}`.
    static func marked(_ value: JSONValue, pointer: String) -> JSONValue {
        func child(_ v: JSONValue, _ p: String) -> JSONValue {
            if case .string(let text) = v, DisclosurePolicy.defaultSegmented(p) {
                return .object([("segments", .array(lines(text).map { .object([("!sd", .string($0))]) }))])
            }
            return marked(v, pointer: p)
        }
        switch value {
        case .object(let members):
            return .object(
                members.map { key, v in
                    let p = pointer + "/" + RecordSigner.escape(key)
                    return (policy.isConcealable(p) ? "!sd " + key : key, child(v, p))
                })
        case .array(let items):
            return .array(
                items.enumerated().map { i, v in
                    let p = pointer + "/" + String(i)
                    return policy.isConcealable(p) ? .object([("!sd", child(v, p))]) : child(v, p)
                })
        default:
            return value
        }
    }

    /// The claims without the helper's markers (what a verifier sees when everything is disclosed).
    static func unmarked(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members):
            if members.count == 1, members[0].0 == "!sd" { return unmarked(members[0].1) }
            return .object(members.map { ($0.0.hasPrefix("!sd ") ? String($0.0.dropFirst(4)) : $0.0, unmarked($0.1)) })
        case .array(let items):
            return .array(items.map(unmarked))
        default:
            return value
        }
    }

    /// Lines with their line breaks, so that joining them gives the text back.
    static func lines(_ text: String) -> [String] {
        var out: [String] = []
        var current = ""
        for c in text {
            current.append(c)
            if c == "\n" {
                out.append(current)
                current = ""
            }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    /// Our view of the processed payload (RFC 9901 §7.1 step 3), with `_sd_alg` removed like the Python verifier does.
    static func resolvedClaims(_ sdjwt: SDJWT) throws -> JSONValue {
        var resolver = try DisclosureResolver(disclosures: sdjwt.disclosures)
        return try resolver.resolve(try SignedJWT.parse(sdjwt.jwt).payload.removing("_sd_alg"))
    }

    /// A presentation without the disclosures `withhold` picks and without everything below them.
    static func present(_ sdjwt: SDJWT, withholding withhold: (Disclosure) -> Bool) throws -> SDJWT {
        let all = try sdjwt.disclosures.enumerated().map { try Disclosure(encoded: $0.1, index: $0.0) }
        let byDigest = Dictionary(uniqueKeysWithValues: all.map { ($0.digest, $0) })
        var withheld = Set<String>()
        var pending = all.filter(withhold).map(\.digest)
        while let digest = pending.popLast() {
            if withheld.insert(digest).inserted, let d = byDigest[digest] { pending += referencedDigests(d.value) }
        }
        return try sdjwt.presenting { !withheld.contains($0.digest) }
    }

    /// The digests (`_sd` entries and `...` placeholders) inside a value.
    static func referencedDigests(_ value: JSONValue) -> [String] {
        switch value {
        case .object(let members):
            return members.flatMap { key, v -> [String] in
                if key == "_sd" || key == "..." { return (v.arrayValue ?? [v]).compactMap(\.stringValue) }
                return referencedDigests(v)
            }
        case .array(let items):
            return items.flatMap(referencedDigests)
        default:
            return []
        }
    }

    static func json(_ jwk: JWK) throws -> JSONValue { try JSONValue.parse(try JSONEncoder().encode(jwk)) }

    /// The named result, which must have succeeded.
    static func ok(
        _ results: [String: JSONValue], _ name: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> JSONValue {
        let result = try #require(results[name], "no result for case \(name)", sourceLocation: sourceLocation)
        #expect(
            result["ok"] == .bool(true), "\(name): \(result["error"]?.stringValue ?? "")",
            sourceLocation: sourceLocation)
        return result
    }

    struct PythonFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs the helper once on all `cases`; returns the results by case name.
    static func runPython(_ cases: [JSONValue]) throws -> [String: JSONValue] {
        let fm = FileManager.default
        let dir = fm.temporaryDirectory.appendingPathComponent("amanat-sdjwt-interop-\(UUID().uuidString)")
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: dir) }
        let script = dir.appendingPathComponent("sdjwt_interop.py")
        let request = dir.appendingPathComponent("request.json")
        let response = dir.appendingPathComponent("response.json")
        try Data(helperScript.utf8).write(to: script)
        try Data(JSONValue.object([("cases", .array(cases))]).serialized().utf8).write(to: request)

        let python = try ExternalTool.pythonVenv.require()
        let result = try Subprocess.run(python, ["-I", script.path, request.path, response.path])
        guard result.status == 0 else {
            let log = result.stdoutText + result.stderrText
            throw PythonFailure(description: "python exited with \(result.status): \(log.suffix(4000))")
        }
        let output = try JSONValue.parse(try Data(contentsOf: response))
        #expect(output["versions"]?["sd-jwt"] == .string("0.10.4"))
        var results: [String: JSONValue] = [:]
        for item in output["results"]?.arrayValue ?? [] {
            if let name = item["name"]?.stringValue { results[name] = item }
        }
        return results
    }

    /// The Python side: reads `{"cases": [...]}`, writes `{"versions": {...}, "results": [...]}`. Kept in this file
    /// (not as a .py file in the test target, which SwiftPM would report as an unhandled file).
    static let helperScript = #"""
        # Amanat SD-JWT interop helper: runs the sd-jwt reference library on a batch of cases.
        # Usage: python -I sdjwt_interop.py REQUEST.json RESPONSE.json
        import json
        import sys
        from importlib import metadata

        from jwcrypto.jwk import JWK
        from sd_jwt.common import SDObj
        from sd_jwt.holder import SDJWTHolder
        from sd_jwt.issuer import SDJWTIssuer
        from sd_jwt.verifier import SDJWTVerifier

        SD_KEY_PREFIX = "!sd "  # {"!sd name": v} -> {SDObj("name"): v}
        SD_ELEMENT = "!sd"      # [{"!sd": v}]     -> [SDObj(v)]


        def marked(pairs):
            if len(pairs) == 1 and pairs[0][0] == SD_ELEMENT:
                return SDObj(pairs[0][1])
            out = {}
            for key, value in pairs:
                out[SDObj(key[len(SD_KEY_PREFIX):]) if key.startswith(SD_KEY_PREFIX) else key] = value
            return out


        def verify(sd_jwt, jwk, kid=None):
            seen = {}

            def issuer_key(iss, header):
                seen.update(header)
                if kid is not None and header.get("kid") != kid:
                    raise ValueError("unexpected kid %r" % header.get("kid"))
                return JWK(**jwk)

            payload = SDJWTVerifier(sd_jwt, issuer_key).get_verified_payload()
            return {"payload": payload, "header": seen}


        def present(sd_jwt, selection):
            holder = SDJWTHolder(sd_jwt)
            holder.create_presentation(selection)
            return holder.sd_jwt_presentation


        def run(case):
            op = case["op"]
            if op == "verify":
                return verify(case["sdjwt"], case["jwk"], case.get("kid"))
            if op == "present":
                return {"sdjwt": present(case["sdjwt"], case["disclose"])}
            if op == "issue":
                claims = json.loads(case["claims"], object_pairs_hook=marked)
                key = JWK(**case["key"])
                issuer = SDJWTIssuer(
                    claims, key, sign_alg=case.get("alg", "EdDSA"), add_decoy_claims=case.get("decoys", False),
                    extra_header_parameters=case.get("header", {}))
                issued = issuer.sd_jwt_issuance
                public = key.export_public(as_dict=True)
                out = {
                    "sdjwt": issued,
                    "decoys": len(issuer.decoy_digests),
                    "disclosures": len(issuer.ii_disclosures),
                    "verified": verify(issued, public)["payload"],
                }
                if "disclose" in case:
                    out["presentation"] = present(issued, case["disclose"])
                    out["presentationVerified"] = verify(out["presentation"], public)["payload"]
                return out
            raise ValueError("unknown op %r" % op)


        def main():
            with open(sys.argv[1], encoding="utf-8") as f:
                request = json.load(f)
            results = []
            for case in request["cases"]:
                try:
                    result = run(case)
                    result["ok"] = True
                except Exception as error:  # every failure is data; the Swift side decides what is expected
                    result = {"ok": False, "error": "%s: %s" % (type(error).__name__, error)}
                result["name"] = case["name"]
                results.append(result)
            response = {
                "versions": {"sd-jwt": metadata.version("sd-jwt"), "jwcrypto": metadata.version("jwcrypto")},
                "results": results,
            }
            with open(sys.argv[2], "w", encoding="utf-8") as f:
                json.dump(response, f, ensure_ascii=False)


        main()
        """#
}
