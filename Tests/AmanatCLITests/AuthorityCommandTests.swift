import AmanatBundle
import AmanatCrypto
import AmanatPublish
import AmanatRecords
import AmanatTestSupport
import Foundation
import Testing

@testable import AmanatWorkspace

/// Consent and authority through the CLI with three organizations (Specs/authority.md): steppe (A) collects,
/// berlin (B) and geneva (C) are partners that all trust each other.
@Suite("Consent and authority between organizations")
struct AuthorityCommandTests {
    struct Trio {
        let cli: CLIHarness
        let a: String
        let b: String
        let c: String

        init() throws {
            cli = try CLIHarness()
            a = try cli.initWorkspace("a", org: "Test Archive One")
            b = try cli.initWorkspace("b", org: "Test Database Two")
            c = try cli.initWorkspace("c", org: "Test Registry Three")
            for (dir, file) in [(a, "a.json"), (b, "b.json"), (c, "c.json")] {
                try cli.run(["identity", "export", "-o", cli.path(file)], in: dir)
            }
            for (dir, others) in [
                (a, [("b.json", "berlin"), ("c.json", "geneva")]), (b, [("a.json", "steppe"), ("c.json", "geneva")]),
                (c, [("a.json", "steppe"), ("b.json", "berlin")]),
            ] {
                for (file, name) in others {
                    #expect(try cli.run(["trust", "add", cli.path(file), "--name", name], in: dir).status == 0)
                }
            }
        }

        func add(_ example: String, in dir: String) throws -> String {
            let added = try cli.run(["add", RecordCommandTests.example(example)], in: dir)
            #expect(added.status == 0, "\(added.stderr)")
            return added.addedId
        }

        /// Seals what `to` is not known to hold and opens it there; returns the import report.
        @discardableResult
        func send(from: String, to partner: String, at destination: String) throws -> [String: Any] {
            let file = cli.path("\(UUID().uuidString.prefix(8)).amanat")
            let sealed = try cli.run(["seal", "-r", partner, "--since-last", "-o", file], in: from)
            #expect(sealed.status == 0, "\(sealed.stderr)")
            let opened = try cli.run(["open", file, "--json"], in: destination)
            #expect(opened.status == 0, "\(opened.stderr)")
            return try #require(try JSONSerialization.jsonObject(with: Data(opened.stdout.utf8)) as? [String: Any])
        }

        func json(_ arguments: [String], in dir: String) throws -> [String: Any] {
            let result = try cli.run(arguments + ["--json"], in: dir)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        }

        func fingerprint(_ dir: String) throws -> String {
            try #require(try json(["identity", "show"], in: dir)["fingerprint"] as? String)
        }

        func edit(_ id: String, in dir: String, _ change: (inout [String: Any]) -> Void) throws {
            let shown = try cli.run(["show", "id:" + id, "--format", "json"], in: dir).stdout
            var object = try #require(try JSONSerialization.jsonObject(with: Data(shown.utf8)) as? [String: Any])
            change(&object)
            let file = cli.path("edit-\(UUID().uuidString.prefix(8)).json")
            try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: file))
            let updated = try cli.run(["update", "id:" + id, file], in: dir)
            #expect(updated.status == 0, "\(updated.stderr)")
        }
    }

    static let publicPolicy = RecordCommandTests.examples.deletingLastPathComponent().appendingPathComponent(
        "policies/public.yaml"
    ).path

    @Test func internalRecordsNeverLeaveTheCollector() throws {
        let t = try Trio()
        defer { t.cli.cleanup() }
        // Given the Chinese example (consent internal) and a public record at A
        let secret = try t.add("zh-relative-internal.json", in: t.a)
        let open = try t.add("en-survivor-public.json", in: t.a)
        // When A names the internal record for a bundle, it is refused and nothing is written
        let named = try t.cli.run(
            ["seal", "-r", "berlin", "--record", "id:" + secret, "-o", t.cli.path("x.amanat")], in: t.a)
        #expect(named.status == 64)
        #expect(named.stderr.contains("consent is 'internal'"))
        #expect(!FileManager.default.fileExists(atPath: t.cli.path("x.amanat")))
        // When A seals everything, the internal record is left out and counted
        let all = try t.cli.run(["seal", "-r", "berlin", "--all", "-o", t.cli.path("all.amanat")], in: t.a)
        #expect(all.status == 0)
        #expect(all.stderr.contains("1 record(s) with consent 'internal' were left out"))
        #expect(try t.cli.run(["open", t.cli.path("all.amanat")], in: t.b).status == 0)
        // Then the partner holds only the public record
        #expect(try t.cli.run(["show", "id:" + open], in: t.b).status == 0)
        #expect(try t.cli.run(["show", "id:" + secret], in: t.b).status == 66)
        // And --since-last leaves it out too
        let delta = try t.cli.run(["seal", "-r", "geneva", "--since-last", "-o", t.cli.path("d.amanat")], in: t.a)
        #expect(delta.stderr.contains("left out"))
        #expect(try t.cli.run(["open", t.cli.path("d.amanat")], in: t.c).status == 0)
        #expect(try t.cli.run(["show", "id:" + secret], in: t.c).status == 66)
        // And it is never published, not even under the partner policy
        let partnerPolicy = RecordCommandTests.examples.deletingLastPathComponent().appendingPathComponent(
            "policies/partner.yaml"
        ).path
        let published = try t.cli.run(
            ["publish", "--policy", partnerPolicy, "-o", t.cli.path("p"), "id:" + secret], in: t.a)
        #expect(published.status == 64 && published.stderr.contains("'internal'"))
    }

    @Test func aPartnerCannotRaiseConsentOnlyProposeIt() throws {
        let t = try Trio()
        defer { t.cli.cleanup() }
        // Given a partners record collected by A, which B holds
        let id = try t.add("ru-survivor-partners.json", in: t.a)
        try t.send(from: t.a, to: "berlin", at: t.b)
        // When B raises it to public (its consent note still forbids publication) and sends it back
        let raised = try t.cli.run(["consent", "id:" + id, "--set", "public"], in: t.b)
        #expect(raised.status == 0, "\(raised.stderr)")
        #expect(raised.stderr.contains("proposal"))
        #expect(try t.json(["consent", "id:" + id], in: t.b)["consent"] as? String == "partners")
        try t.send(from: t.b, to: "steppe", at: t.a)
        // Then at A the record stays partners: the content says so, and publishing refuses it
        let consent = try t.json(["consent", "id:" + id], in: t.a)
        #expect(consent["consent"] as? String == "partners")
        #expect((consent["proposals"] as? [[String: Any]])?.first?["proposed"] as? String == "public")
        #expect(try t.json(["status"], in: t.a)["consentProposals"] as? Int == 1)
        let shown = try t.cli.run(["show", "id:" + id, "--format", "json"], in: t.a).stdout
        #expect(shown.contains("\"consent\": \"partners\""))
        let named = try t.cli.run(
            ["publish", "--policy", Self.publicPolicy, "-o", t.cli.path("out"), "id:" + id], in: t.a)
        #expect(named.status == 64)
        #expect(named.stderr.contains("consent is 'partners'"))
        let all = try t.cli.run(["publish", "--policy", Self.publicPolicy, "-o", t.cli.path("out")], in: t.a)
        #expect(all.status == 64)
        #expect(!FileManager.default.fileExists(atPath: t.cli.path("out")))
        // And a third organization that receives both versions computes the same
        try t.send(from: t.a, to: "geneva", at: t.c)
        #expect(try t.json(["consent", "id:" + id], in: t.c)["consent"] as? String == "partners")
        // A collector's raise without fresh consent is refused; B cannot accept for A
        let bare = try t.cli.run(["consent", "id:" + id, "--set", "public"], in: t.a)
        #expect(bare.status == 64 && bare.stderr.contains("consentNote"))
        #expect(try t.cli.run(["consent", "id:" + id, "--accept"], in: t.b).status == 64)
        // When A, the collector, accepts the proposal, it is public and publishable
        let accepted = try t.cli.run(["consent", "id:" + id, "--accept"], in: t.a)
        #expect(accepted.status == 0, "\(accepted.stderr)")
        #expect(try t.json(["consent", "id:" + id], in: t.a)["consent"] as? String == "public")
        #expect(try t.json(["status"], in: t.a)["consentProposals"] as? Int == 0)
        let published = try t.cli.run(
            ["publish", "--policy", Self.publicPolicy, "-o", t.cli.path("out"), "id:" + id], in: t.a)
        #expect(published.status == 0, "\(published.stderr)")
    }

    @Test func publishedAuthorshipIsTheCollectorsWithEditorsNamed() throws {
        let t = try Trio()
        defer { t.cli.cleanup() }
        // Given A's public record, edited by B (a tag): B signed the head
        let id = try t.add("en-survivor-public.json", in: t.a)
        try t.send(from: t.a, to: "berlin", at: t.b)
        try t.edit(id, in: t.b) { $0["tags"] = (($0["tags"] as? [String]) ?? []) + ["reviewed"] }
        // When B, the editor, publishes it
        let out = t.cli.path("published")
        let published = try t.cli.run(["publish", "--policy", Self.publicPolicy, "-o", out], in: t.b)
        #expect(published.status == 0, "\(published.stderr)")
        // Then index.json names A as the collector and B as signer and editor
        let index = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/index.json")))
                as? [String: Any])
        let entry = try #require((index["records"] as? [[String: Any]])?.first)
        let (fpA, fpB) = (try t.fingerprint(t.a), try t.fingerprint(t.b))
        #expect(entry["collector"] as? String == fpA)
        #expect(entry["signer"] as? String == fpB)
        #expect(entry["editors"] as? [String] == [fpB])
        // And C verifies it: collected by steppe, edited by berlin, the values signed by an editor
        let verified = try t.cli.run(["verify", out + "/\(id).sd-jwt"], in: t.c)
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.contains("collected by steppe"))
        #expect(verified.stdout.contains("edited by berlin"))
        #expect(verified.stdout.contains("signed by berlin, an editor"))
        let json = try #require(
            try JSONSerialization.jsonObject(
                with: Data(try t.cli.run(["verify", "--json", out + "/\(id).sd-jwt"], in: t.c).stdout.utf8))
                as? [[String: Any]])
        let publication = try #require(json.first?["publication"] as? [String: Any])
        #expect(publication["collectorFingerprint"] as? String == fpA)
        // A verifier that trusts the publisher but not the collector is told it cannot confirm who collected it
        #expect(try t.cli.run(["trust", "remove", "steppe"], in: t.c).status == 0)
        let untrusted = try t.cli.run(["verify", out + "/\(id).sd-jwt"], in: t.c)
        #expect(untrusted.status == 1)
        #expect(untrusted.stderr.contains("collected by \(fpA)"))
    }

    @Test func retractionAndErasureFromPartnersArePendingUntilTheCollectorActs() throws {
        let t = try Trio()
        defer { t.cli.cleanup() }
        // Given A's record with an attachment, held by B and C
        let id = try t.add("en-survivor-public.json", in: t.a)
        try Data("synthetic id card".utf8).write(to: URL(fileURLWithPath: t.cli.path("card.jpg")))
        #expect(try t.cli.run(["attach", "id:" + id, t.cli.path("card.jpg")], in: t.a).status == 0)
        try t.send(from: t.a, to: "berlin", at: t.b)
        try t.send(from: t.a, to: "geneva", at: t.c)
        // When B, which did not collect it, erases it
        let erased = try t.json(["erase", "id:" + id, "--reason", "family asked us", "--yes"], in: t.b)
        #expect(erased["inForce"] as? Bool == false)
        #expect(erased["attachmentsDeleted"] as? Int == 0)
        // Then nothing is deleted at B, and at A the request is kept, counted and not applied
        #expect(try t.cli.run(["show", "id:" + id], in: t.b).status == 0)
        let report = try t.send(from: t.b, to: "steppe", at: t.a)
        #expect((report["pendingRequests"] as? [String])?.count == 1)
        #expect((report["erasedRecords"] as? [String])?.isEmpty == true)
        let statusA = try t.json(["status"], in: t.a)
        #expect(statusA["pendingRequests"] as? Int == 1)
        #expect(statusA["erased"] as? Int == 0 && statusA["retracted"] as? Int == 0)
        #expect(try t.cli.run(["show", "id:" + id], in: t.a).stdout.contains("Request"))
        // And a retraction by B is only a request too
        #expect(try t.cli.run(["retract", "id:" + id, "--reason", "duplicate?", "--yes"], in: t.b).status == 0)
        try t.send(from: t.b, to: "steppe", at: t.a)
        #expect(try t.json(["status"], in: t.a)["retracted"] as? Int == 0)

        // When A, the collector, erases it, the data is deleted at A
        let done = try t.json(["erase", "id:" + id, "--reason", "family asked us", "--yes"], in: t.a)
        #expect(done["inForce"] as? Bool == true)
        #expect(done["attachmentsDeleted"] as? Int == 1)
        #expect(try t.json(["status"], in: t.a)["pendingRequests"] as? Int == 0)
        // And at every partner once the erasure arrives, C included (it never saw B's requests)
        for (name, dir) in [("berlin", t.b), ("geneva", t.c)] {
            let imported = try t.send(from: t.a, to: name, at: dir)
            #expect((imported["erasedRecords"] as? [String]) == [id], "\(name)")
            let status = try t.json(["status"], in: dir)
            #expect(status["erased"] as? Int == 1, "\(name)")
            #expect(status["stateHash"] as? String == (try t.json(["status"], in: t.a)["stateHash"] as? String))
        }
    }

    @Test func aDelegateMayErase() throws {
        let t = try Trio()
        defer { t.cli.cleanup() }
        let id = try t.add("en-survivor-public.json", in: t.a)
        try t.send(from: t.a, to: "berlin", at: t.b)
        #expect(try t.cli.run(["erase", "id:" + id, "--reason", "withdrawn", "--yes"], in: t.b).status == 0)
        try t.send(from: t.b, to: "steppe", at: t.a)
        #expect(try t.json(["status"], in: t.a)["erased"] as? Int == 0)
        // When A marks B as a delegate, B's pending erasure takes effect at once
        let delegated = try t.cli.run(["trust", "add", t.cli.path("b.json"), "--may-retract"], in: t.a)
        #expect(delegated.status == 0, "\(delegated.stderr)")
        #expect(delegated.stderr.contains("took effect on 1 record"))
        #expect(try t.json(["status"], in: t.a)["erased"] as? Int == 1)
        #expect(try t.cli.run(["trust", "list"], in: t.a).stdout.contains("(may retract)"))
    }

    @Test func aLoweringConcurrentWithAnEditWins() throws {
        let t = try Trio()
        defer { t.cli.cleanup() }
        let id = try t.add("en-survivor-public.json", in: t.a)
        try t.send(from: t.a, to: "berlin", at: t.b)
        // B lowers consent to internal while A edits the date
        #expect(try t.cli.run(["consent", "id:" + id, "--set", "internal"], in: t.b).status == 0)
        try t.edit(id, in: t.a) { object in
            var testimony = object["testimony"] as? [String: Any] ?? [:]
            testimony["date"] = "2019-04-02"
            object["testimony"] = testimony
        }
        try t.send(from: t.a, to: "berlin", at: t.b)
        try t.send(from: t.b, to: "steppe", at: t.a)
        // Both hold the lower consent, with A's edit merged in
        for dir in [t.a, t.b] {
            #expect(try t.json(["consent", "id:" + id], in: dir)["consent"] as? String == "internal")
        }
        let shown = try t.cli.run(["show", "id:" + id, "--format", "json"], in: t.a)
        #expect(shown.status == 2 || shown.stdout.contains("2019-04-02"))
        // A can no longer publish it, nor send it to C, which never held it
        #expect(
            try t.cli.run(["publish", "--policy", Self.publicPolicy, "-o", t.cli.path("o"), "id:" + id], in: t.a).status
                == 64)
        let toC = try t.cli.run(
            ["seal", "-r", "geneva", "--record", "id:" + id, "-o", t.cli.path("c.amanat")], in: t.a)
        #expect(toC.status == 64)
        // But B, which holds it, still receives what follows (the lowering must reach every holder)
        let toB = try t.cli.run(
            ["seal", "-r", "berlin", "--record", "id:" + id, "-o", t.cli.path("b.amanat")], in: t.a)
        #expect(toB.status == 0, "\(toB.stderr)")
    }

    @Test(.requires(.age)) func aBundleReEncryptedForSomeoneElseIsRefused() throws {
        let age = try ExternalTool.age.require().path
        let t = try Trio()
        defer { t.cli.cleanup() }
        let id = try t.add("en-survivor-public.json", in: t.a)
        #expect(try t.cli.run(["seal", "-r", "berlin", "--all", "-o", t.cli.path("ab.amanat")], in: t.a).status == 0)
        // B decrypts with the stock tool and re-encrypts the same tar to C
        #expect(try t.cli.run(["identity", "export", "--age", "-o", t.cli.path("b.agekey")], in: t.b).status == 0)
        let recipientC = try #require(try t.json(["identity", "show"], in: t.c)["ageRecipient"] as? String)
        let script =
            "'\(age)' -d -i '\(t.cli.path("b.agekey"))' '\(t.cli.path("ab.amanat"))' | '\(age)' -r \(recipientC) -o '\(t.cli.path("bc.amanat"))'"
        #expect(try CLIHarness.runTool("/bin/sh", ["-c", script]).status == 0)
        // C refuses it, naming whom A sealed it for, and imports nothing
        let opened = try t.cli.run(["open", t.cli.path("bc.amanat")], in: t.c)
        #expect(opened.status == 1)
        #expect(opened.stderr.contains("sealed for 'Test Database Two' \(try t.fingerprint(t.b))"))
        #expect(try t.json(["status"], in: t.c)["records"] as? Int == 0)
        #expect(try t.cli.run(["inspect", t.cli.path("bc.amanat")], in: t.c).status == 1)
        // Forwarding by re-sealing works, and the record still verifies against its collector
        #expect(try t.cli.run(["open", t.cli.path("ab.amanat")], in: t.b).status == 0)
        #expect(try t.cli.run(["seal", "-r", "geneva", "--all", "-o", t.cli.path("bc2.amanat")], in: t.b).status == 0)
        #expect(try t.cli.run(["open", t.cli.path("bc2.amanat")], in: t.c).status == 0)
        #expect(try t.cli.run(["show", "id:" + id], in: t.c).stdout.contains("Collector steppe"))
    }

    @Test func aVersionBreakingTheRecordRulesRefusesTheWholeBundle() throws {
        let t = try Trio()
        defer { t.cli.cleanup() }
        // Given a good record and a version with an unknown member, both signed with B's real key
        let workspaceB = Workspace(root: URL(fileURLWithPath: t.b))
        let key = try workspaceB.signingKey(passphrase: SecretBytes(Array("test passphrase 123".utf8)))
        let example = try RecordFiles.read(RecordCommandTests.example("en-survivor-public.json"))[0]
        let digests = RecordContent.attachmentDigests(example)
        let good = try RecordSigner.sign(
            content: example, kind: .create, recordId: nil, prev: [], attachments: digests, key: key,
            policy: .amanatRecord)
        let bad = try RecordSigner.sign(
            content: example.setting("nickname", .string("x")).sortedKeys(), kind: .create, recordId: nil, prev: [],
            attachments: digests, key: key, policy: .amanatRecord)
        let identityA = try Workspace.readIdentity(t.cli.path("a.json"))
        let out = try OutputFile(t.cli.path("bad.amanat"), mode: 0o600)
        _ = try BundleSealer.seal(
            inputs: BundleInput.recordBatches([good.sdjwt.compact, bad.sdjwt.compact]),
            sender: BundleSender(signingKey: key, identity: try workspaceB.identity()),
            recipients: [try BundleRecipient(identity: identityA)], sink: { try out.write($0) })
        try out.commit()
        // When A opens it, the bundle is refused naming the record and the rule, and nothing is imported
        let opened = try t.cli.run(["open", t.cli.path("bad.amanat")], in: t.a)
        #expect(opened.status == 65)
        #expect(opened.stderr.contains(bad.recordId))
        #expect(opened.stderr.contains("record schema"))
        #expect(opened.stderr.contains("Nothing was imported"))
        #expect(try t.json(["status"], in: t.a)["versions"] as? Int == 0)
    }

    @Test func anAnnotationOverlayingADisclosedValueIsRefused() throws {
        let t = try Trio()
        defer { t.cli.cleanup() }
        let id = try t.add("en-survivor-public.json", in: t.a)
        let out = t.cli.path("published")
        #expect(try t.cli.run(["publish", "--policy", Self.publicPolicy, "-o", out], in: t.a).status == 0)
        #expect(try t.cli.run(["verify", out + "/\(id).sd-jwt"], in: t.b).status == 0)
        // When the publisher's annotation claims a value at a path the presentation discloses (the consent)
        let path = out + "/\(id).annotation.jws"
        let jwt = try SignedJWT.parse(
            try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
        var values = jwt.payload["values"]?.arrayValue ?? []
        values.append(
            .object([
                ("path", .string("/testimony/consent")), ("op", .string("generalize")), ("value", .string("internal")),
            ]))
        let key = try Workspace(root: URL(fileURLWithPath: t.a)).signingKey(
            passphrase: SecretBytes(Array("test passphrase 123".utf8)))
        let forged = try SignedJWT.sign(
            header: jwt.header, payload: jwt.payload.setting("values", .array(values)), key: key)
        try Data((forged + "\n").utf8).write(to: URL(fileURLWithPath: path))
        // Then verify refuses it and names the path
        let verified = try t.cli.run(["verify", out + "/\(id).sd-jwt"], in: t.b)
        #expect(verified.status == 1)
        #expect(verified.stderr.contains("publisher-made values at /testimony/consent"))
    }
}

/// Hostile names never reach the output raw (terminal injection, forged lines).
@Suite("Hostile names are printed escaped")
struct HostileNameTests {
    @Test func aHostileOrganizationNameIsEscapedEverywhereItIsShown() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        // init refuses control characters in its own name
        let refused = try cli.run(["init", "--org", "Evil\u{1B}[32m Org", "--workspace", try cli.makeFolder("x")])
        #expect(refused.status == 64)
        #expect(!refused.stderr.contains("\u{1B}"))
        // A partner's identity whose (self-signed) name paints a line and forges a fingerprint
        let hostile = "Partner\u{1B}[32m Verified\u{1B}[0m\nFingerprint: AAAA-AAAA-AAAA-AAAA\u{202E}"
        let key = try Ed25519.SigningKey.generate()
        let identity = try PublicIdentity(
            organization: hostile, signingKey: key, sealingKey: try X25519.PrivateKey.generate().publicKey)
        try identity.jsonData().write(to: URL(fileURLWithPath: cli.path("hostile.json")))
        let added = try cli.run(["trust", "add", cli.path("hostile.json"), "--name", "partner"], in: a)
        let listed = try cli.run(["trust", "list"], in: a)
        for output in [added.stdout, added.stderr, listed.stdout] {
            #expect(!output.contains("\u{1B}") && !output.contains("\u{202E}"), "\(output)")
            #expect(!output.contains("\nFingerprint: AAAA"), "\(output)")
        }
        #expect(added.stderr.split(separator: "\n").filter { $0.hasPrefix("Fingerprint:") }.count == 1)
        #expect(listed.stdout.contains("Partner\\e[32m Verified\\e[0m\\nFingerprint: AAAA-AAAA-AAAA-AAAA\\u{202E}"))
    }
}
