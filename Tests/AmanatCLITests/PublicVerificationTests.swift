import AmanatTestSupport
import Foundation
import Testing

/// `amanat verify --identity` outside any workspace, the identity files `publish` writes, and `verify -`.
@Suite("public verification with identity files")
struct PublicVerificationTests {
    static let publicPolicy = PackagePaths.root.appendingPathComponent("Specs/policies/public.yaml").path

    func object(_ path: String) throws -> [String: Any] {
        try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    /// A record collected by A ("Test Archive One"), received by B, and published by B: returns the published
    /// folder, the record id and the fingerprints of A and B.
    func publishedByPartner(_ t: AuthorityCommandTests.Trio) throws -> (String, String, String, String) {
        let id = try t.add("en-survivor-public.json", in: t.a)
        try t.send(from: t.a, to: "berlin", at: t.b)
        let out = t.cli.path("published")
        let published = try t.cli.run(["publish", "--policy", Self.publicPolicy, "-o", out], in: t.b)
        #expect(published.status == 0, "\(published.stderr)")
        return (out, id, try t.fingerprint(t.a), try t.fingerprint(t.b))
    }

    @Test func publishWritesTheCollectorsAndThePublishersIdentities() throws {
        let t = try AuthorityCommandTests.Trio()
        defer { t.cli.cleanup() }
        // Given A's record published by B
        let (out, _, fpA, fpB) = try publishedByPartner(t)
        // Then the folder holds exactly A's (collector, signer) and B's (publisher) public identities
        let names = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".identity.json") }
        #expect(names.sorted() == ["\(fpA).identity.json", "\(fpB).identity.json"].sorted())
        let a = try object(out + "/\(fpA).identity.json")
        #expect(a["fingerprint"] as? String == fpA)
        #expect(a["organization"] as? String == "Test Archive One")
        // … byte for byte what `identity export` writes
        let exported = try Data(contentsOf: URL(fileURLWithPath: t.cli.path("a.json")))
        #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/\(fpA).identity.json")) == exported)
        // And index.json names their fingerprints, files and roles
        let index = try object(out + "/index.json")
        #expect((index["publisher"] as? [String: Any])?["identity"] as? String == "\(fpB).identity.json")
        let identities = try #require(index["identities"] as? [[String: Any]])
        let byFingerprint = Dictionary(
            uniqueKeysWithValues: identities.compactMap { e in (e["fingerprint"] as? String).map { ($0, e) } })
        #expect(Set(byFingerprint.keys) == [fpA, fpB])
        #expect(byFingerprint[fpA]?["roles"] as? [String] == ["collector", "signer"])
        #expect(byFingerprint[fpB]?["roles"] as? [String] == ["publisher"])
        #expect(byFingerprint[fpA]?["file"] as? String == "\(fpA).identity.json")
        #expect(byFingerprint[fpB]?["organization"] as? String == "Test Database Two")
        #expect(try #require(index["records"] as? [[String: Any]]).first?["collector"] as? String == fpA)
    }

    @Test func anyoneVerifiesAPublicationWithItsIdentityFilesOutsideAWorkspace() throws {
        let t = try AuthorityCommandTests.Trio()
        defer { t.cli.cleanup() }
        let (out, id, fpA, fpB) = try publishedByPartner(t)
        // Given a reader with the published folder and no workspace, no passphrase
        let reader = try t.cli.makeFolder("reader")
        let identities = [
            "--identity", out + "/\(fpA).identity.json", "--identity",
            out + "/\(fpB).identity.json",
        ]
        let verified = try t.cli.run(["verify", out + "/\(id).sd-jwt"] + identities, in: reader, passphrase: nil)
        // Then it verifies: the presentation against the collector, the annotation against the publisher
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.contains("valid — record \(id)"))
        #expect(verified.stdout.contains("signed by 'Test Archive One' (identity file) (fingerprint \(fpA))"))
        #expect(verified.stdout.contains("signed by publisher 'Test Database Two' (identity file)"))
        #expect(verified.stdout.contains("collected by 'Test Archive One' (identity file)"))
        // And it tells the reader to compare the fingerprints with those published elsewhere
        #expect(verified.stdout.contains("  \(fpA)  'Test Archive One'"))
        #expect(verified.stdout.contains("  \(fpB)  'Test Database Two'"))
        #expect(verified.stdout.contains("compare each fingerprint with the one the organization publishes elsewhere"))
        // --json names the identity files the keys came from
        let json = try t.cli.run(["verify", "--json", out + "/\(id).sd-jwt"] + identities, in: reader, passphrase: nil)
        #expect(json.status == 0, "\(json.stderr)")
        let result = try #require(
            (try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])?.first)
        #expect(result["signerFingerprint"] as? String == fpA)
        #expect(result["signerIdentityFile"] as? String == out + "/\(fpA).identity.json")
        let publication = try #require(result["publication"] as? [String: Any])
        #expect(publication["publisherFingerprint"] as? String == fpB)
        #expect(publication["publisherIdentityFile"] as? String == out + "/\(fpB).identity.json")
        // Nothing was created in the reader's folder
        #expect(try FileManager.default.contentsOfDirectory(atPath: reader).isEmpty)

        // Without the publisher's identity, the annotation cannot be checked: exit 1, saying how to give it
        let noPublisher = try t.cli.run(
            ["verify", out + "/\(id).sd-jwt", "--identity", out + "/\(fpA).identity.json"], in: reader,
            passphrase: nil)
        #expect(noPublisher.status == 1)
        #expect(noPublisher.stderr.contains("--identity"))
        // Without any identity, outside a workspace: exit 66, saying what to do
        let none = try t.cli.run(["verify", out + "/\(id).sd-jwt"], in: reader, passphrase: nil)
        #expect(none.status == 66)
        #expect(none.stderr.contains("--identity FILE"))
    }

    @Test func aWrongIdentityIsRefused() throws {
        let t = try AuthorityCommandTests.Trio()
        defer { t.cli.cleanup() }
        let (out, id, _, _) = try publishedByPartner(t)
        let reader = try t.cli.makeFolder("reader")
        // C's identity did not sign the record: exit 1, and the message says so
        let wrong = try t.cli.run(
            ["verify", out + "/\(id).sd-jwt", "--identity", t.cli.path("c.json")], in: reader, passphrase: nil)
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("NOT valid"))
        #expect(wrong.stderr.contains("none of the identities given with --identity"))
        #expect(!wrong.stdout.contains("valid —"))
    }

    @Test func aTamperedIdentityFileIsRefused() throws {
        let t = try AuthorityCommandTests.Trio()
        defer { t.cli.cleanup() }
        let (out, id, fpA, fpB) = try publishedByPartner(t)
        let reader = try t.cli.makeFolder("reader")
        // Given the collector's identity file with its organization name changed (its self-signature no longer holds)
        let path = out + "/\(fpA).identity.json"
        let original = try String(contentsOfFile: path, encoding: .utf8)
        let renamed = original.replacingOccurrences(of: "Test Archive One", with: "Test Archive Oen")
        #expect(renamed != original)
        try renamed.write(toFile: path, atomically: true, encoding: .utf8)
        let tampered = try t.cli.run(
            [
                "verify", out + "/\(id).sd-jwt", "--identity", path, "--identity",
                out + "/\(fpB).identity.json",
            ],
            in: reader, passphrase: nil)
        // Then verify refuses it as `trust add` does, before verifying anything
        #expect(tampered.status == 1)
        #expect(tampered.stderr.contains("did not sign this name"))
        #expect(!tampered.stdout.contains("valid"))
        // A stated fingerprint that is not the key's is refused too
        let otherFingerprint = original.replacingOccurrences(of: fpA, with: fpB)
        try otherFingerprint.write(toFile: path, atomically: true, encoding: .utf8)
        let mismatched = try t.cli.run(
            ["verify", out + "/\(id).sd-jwt", "--identity", path], in: reader, passphrase: nil)
        #expect(mismatched.status == 1)
        #expect(mismatched.stderr.contains("does not match the signing key"))
    }

    @Test func inAWorkspaceIdentitiesAddToTheTrustList() throws {
        let t = try AuthorityCommandTests.Trio()
        defer { t.cli.cleanup() }
        let (out, id, fpA, _) = try publishedByPartner(t)
        // Given C, which trusts A but not B (the publisher)
        #expect(try t.cli.run(["trust", "remove", "berlin"], in: t.c).status == 0)
        #expect(try t.cli.run(["verify", out + "/\(id).sd-jwt"], in: t.c).status == 1)
        // When C gives B's identity file: the trust list still names A, the file adds B
        let verified = try t.cli.run(
            ["verify", out + "/\(id).sd-jwt", "--identity", t.cli.path("b.json")], in: t.c, passphrase: nil)
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.contains("collected by steppe"))
        #expect(verified.stdout.contains("signed by publisher 'Test Database Two' (identity file)"))
        #expect(!verified.stdout.contains(fpA + "  'Test Archive One'"))
    }

    @Test func verifyReadsAnSDJWTFromStandardInput() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        let added = try cli.run(["add", RecordCommandTests.example("en-survivor-public.json")], in: a)
        #expect(added.status == 0, "\(added.stderr)")
        let id = String(added.stdout.prefix { !$0.isWhitespace })  // the first field: the record id
        let sdjwt = try cli.run(["show", "id:" + id, "--format", "sd-jwt"], in: a)
        #expect(sdjwt.status == 0, "\(sdjwt.stderr)")
        // `show … | verify -` in the workspace
        let piped = try cli.run(["verify", "-"], in: a, stdin: Data(sdjwt.stdout.utf8))
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(piped.stdout.hasPrefix("standard input: valid — record \(id)"))
        // … and outside any workspace with the collector's identity file, without a passphrase
        try cli.run(["identity", "export", "-o", cli.path("a.identity.json")], in: a)
        let reader = try cli.makeFolder("reader")
        let outside = try cli.run(
            ["verify", "--json", "-", "--identity", cli.path("a.identity.json")], in: reader, passphrase: nil,
            stdin: Data(sdjwt.stdout.utf8))
        #expect(outside.status == 0, "\(outside.stderr)")
        let result = try #require(
            (try JSONSerialization.jsonObject(with: Data(outside.stdout.utf8)) as? [[String: Any]])?.first)
        #expect(result["file"] as? String == "-")
        #expect(result["recordId"] as? String == id)
        // A tampered SD-JWT on standard input: exit 1; garbage: exit 65; `-` twice: exit 64
        var bytes = Array(sdjwt.stdout.utf8)
        let tilde = try #require(bytes.firstIndex(of: UInt8(ascii: "~")))  // the signature ends just before it
        bytes[tilde - 10] = bytes[tilde - 10] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(try cli.run(["verify", "-"], in: a, stdin: Data(bytes)).status == 1)
        #expect(try cli.run(["verify", "-"], in: a, stdin: Data("not an sd-jwt".utf8)).status == 65)
        #expect(try cli.run(["verify", "-", "-"], in: a, stdin: Data(sdjwt.stdout.utf8)).status == 64)
    }
}
