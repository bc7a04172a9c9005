import AmanatTestSupport
import Foundation
import Testing

@Suite("publish and verify public versions")
struct PublishCommandTests {
    static let root = PackagePaths.root
    static func example(_ name: String) -> String { root.appendingPathComponent("Specs/examples/\(name)").path }
    static let publicPolicy = root.appendingPathComponent("Specs/policies/public.yaml").path
    static let partnerPolicy = root.appendingPathComponent("Specs/policies/partner.yaml").path

    static let publicExamples = [
        "en-survivor-public.json", "kk-cyrl-relative-public.json", "kk-latn-relative-public.json",
        "ug-arab-relative-public.json", "minimal-partial.json",
    ]

    /// A workspace with the example records; returns (folder, ids by file name).
    func workspace(_ cli: CLIHarness, files: [String]) throws -> (String, [String: String]) {
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        let added = try cli.run(["add", "--json"] + files.map(Self.example), in: a)
        #expect(added.status == 0, "\(added.stderr)")
        let ids = try #require(
            (try JSONSerialization.jsonObject(with: Data(added.stdout.utf8)) as? [[String: Any]])?.compactMap {
                $0["id"] as? String
            })
        return (a, Dictionary(uniqueKeysWithValues: zip(files, ids)))
    }

    func files(in dir: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).sorted().map { dir + "/" + $0 }
    }

    func annotationPayload(_ path: String) throws -> [String: Any] {
        let jws = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let parts = jws.split(separator: ".")
        #expect(parts.count == 3)
        var b64 = String(parts[1]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        let data = try #require(Data(base64Encoded: b64))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func publishedExamplesScanCleanAndVerify() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        // Given every example record in a workspace (public, partners and internal consent)
        let all = Self.publicExamples + ["ru-survivor-partners.json", "zh-relative-internal.json"]
        let (a, ids) = try workspace(cli, files: all)
        // When publishing them all under the public policy
        let out = cli.path("published")
        let published = try cli.run(["publish", "--policy", Self.publicPolicy, "-o", out], in: a)
        #expect(published.status == 0, "\(published.stderr)")
        // Then the partners and internal records are skipped, by name
        #expect(published.stderr.contains("skipped \(ids["ru-survivor-partners.json"]!)"))
        #expect(published.stderr.contains("skipped \(ids["zh-relative-internal.json"]!)"))
        // … and each published record's report summary is printed once the folder is in place (a paragraph whose
        // first line starts with the record id)
        let firstLines = published.stdout.split(separator: "\n").filter { !$0.hasPrefix(" ") }
        #expect(Set(firstLines.map { String($0.prefix { $0 != ":" }) }) == Set(Self.publicExamples.map { ids[$0]! }))
        #expect(firstLines.count == Self.publicExamples.count, "\(published.stdout)")
        // Nothing is left beside the output (the staging folder, the spooled index, log items and reports)
        let beside = try FileManager.default.contentsOfDirectory(atPath: cli.path("")).filter { $0.hasPrefix(".") }
        #expect(beside.isEmpty, "left beside the output: \(beside)")
        // With --json, the reports are one JSON array of the same records
        let asJSON = try cli.run(
            ["publish", "--policy", Self.publicPolicy, "-o", cli.path("as-json"), "--json"], in: a)
        #expect(asJSON.status == 0, "\(asJSON.stderr)")
        let reports = try #require(
            try JSONSerialization.jsonObject(with: Data(asJSON.stdout.utf8)) as? [[String: Any]])
        #expect(Set(reports.compactMap { $0["record"] as? String }) == Set(Self.publicExamples.map { ids[$0]! }))
        #expect(asJSON.stdout.hasPrefix("[\n  {\n    \""), "\(asJSON.stdout.prefix(40))")
        let index = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/index.json")))
                as? [String: Any])
        let listed = try #require(index["records"] as? [[String: Any]]).compactMap { $0["id"] as? String }
        #expect(Set(listed) == Set(Self.publicExamples.map { ids[$0]! }))
        #expect((index["policy"] as? [String: Any])?["name"] as? String == "public")
        let names = try FileManager.default.contentsOfDirectory(atPath: out)
        // index.json, three files per record (presentation, annotation, log proof), and the publisher's (and
        // collector's) public identity
        #expect(names.count == 2 + 3 * Self.publicExamples.count)
        #expect(names.filter { $0.hasSuffix(".identity.json") }.count == 1)

        // `amanat scan` over the published folder finds nothing identifying
        let scan = try cli.run(["scan"] + (try files(in: out)), in: a)
        #expect(scan.status == 0, "scan found something: \(scan.stdout)")

        // … nor over the decoded annotations (pseudonyms and generalized values only)
        let decoded = try cli.makeFolder("decoded")
        for id in listed {
            let payload = try annotationPayload(out + "/\(id).annotation.jws")
            #expect(payload["rid"] as? String == id)
            let data = try JSONSerialization.data(withJSONObject: payload)
            try data.write(to: URL(fileURLWithPath: decoded + "/\(id).json"))
        }
        #expect(try cli.run(["scan"] + (try files(in: decoded)), in: a).status == 0)

        // Every published file verifies: collector's presentation and publisher's annotation
        for file in Self.publicExamples {
            let id = ids[file]!
            let verify = try cli.run(["verify", out + "/\(id).sd-jwt"], in: a)
            #expect(verify.status == 0, "\(file): \(verify.stderr)")
            #expect(verify.stdout.contains("valid — record \(id)"))
            #expect(verify.stdout.contains("annotation"))
            #expect(verify.stdout.contains("original (the collector's own values"))
            #expect(verify.stdout.contains("made by the publisher"))
        }
        let json = try cli.run(["verify", "--json", out + "/\(ids["kk-cyrl-relative-public.json"]!).sd-jwt"], in: a)
        let results = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        let publication = try #require(results.first?["publication"] as? [String: Any])
        let made = try #require(publication["publisherMade"] as? [[String: Any]])
        let original = try #require(publication["original"] as? [String])
        #expect(original.contains("/testimony/transcript"))
        #expect(!original.contains("/testifier/cnResidentId"))
        // The testifier's ID is written "654027 19850317 0820" in the transcript and without spaces in the field:
        // one pseudonym for both (a relative-at-risk record would strip instead; this one has no risk flag).
        let field = made.first { $0["path"] as? String == "/testifier/cnResidentId" }?["value"] as? String
        let cnid = try #require(field)
        #expect(cnid.hasPrefix("CNID-"))
        let inText = made.filter { $0["path"] as? String == "/testimony/transcript" && $0["value"] as? String == cnid }
        #expect(inText.count == 1)
        // At-risk record (relatives in Xinjiang): no pseudonym for anyone, birth date and village gone
        let risk = try annotationPayload(out + "/\(ids["kk-latn-relative-public.json"]!).annotation.jws")
        let riskValues = try #require(risk["values"] as? [[String: Any]])
        #expect(!riskValues.contains { ($0["value"] as? String)?.hasPrefix("CNID-") == true })
        #expect(
            !riskValues.contains {
                ($0["path"] as? String)?.hasSuffix("/dateOfBirth") == true
                    && ($0["path"] as? String)?.hasPrefix("/detainees") == true
            })
        let shown = try cli.run(
            ["publish", "--policy", Self.publicPolicy, "--dry-run", ids["kk-latn-relative-public.json"]!], in: a)
        #expect(shown.status == 0)
        #expect(!shown.stdout.contains("\"village\""))
        #expect(!shown.stdout.contains("\"dateOfBirth\""))

        // Names the policy strips from the name fields do not leak through transcripts either: no presented
        // disclosure of the at-risk record holds any word of a person's name.
        let riskRecord =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: Self.example("kk-latn-relative-public.json"))))
            as? [String: Any]
        var nameWords: [String] = []
        func collectNames(_ value: Any?, underNames: Bool) {
            if let dict = value as? [String: Any] {
                for (k, v) in dict { collectNames(v, underNames: underNames || k == "names" || k == "name") }
            } else if let list = value as? [Any] {
                for v in list { collectNames(v, underNames: underNames) }
            } else if underNames, let text = value as? String {
                nameWords += text.lowercased().split { !$0.isLetter }.map(String.init).filter { $0.count >= 3 }
            }
        }
        collectNames(riskRecord?["testifier"], underNames: false)
        collectNames(riskRecord?["detainees"], underNames: false)
        #expect(!nameWords.isEmpty)
        let presentation = try String(
            contentsOfFile: out + "/\(ids["kk-latn-relative-public.json"]!).sd-jwt", encoding: .utf8)
        var presentedText = ""
        for part in presentation.split(separator: "~").dropFirst() {
            var b64 = part.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while b64.count % 4 != 0 { b64 += "=" }
            presentedText += String(decoding: Data(base64Encoded: b64) ?? Data(), as: UTF8.self).lowercased() + "\n"
        }
        let leaked = Set(nameWords).filter { presentedText.contains($0) }
        #expect(leaked.isEmpty, "names presented: \(leaked.count)")
    }

    @Test func consentForbidsPublicationAndDryRunWritesNothing() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let (a, ids) = try workspace(
            cli, files: ["en-survivor-public.json", "ru-survivor-partners.json", "zh-relative-internal.json"])
        let out = cli.path("out")
        for (file, consent) in [("ru-survivor-partners.json", "partners"), ("zh-relative-internal.json", "internal")] {
            let id = ids[file]!
            let refused = try cli.run(
                ["publish", "--policy", Self.publicPolicy, "-o", out, ids["en-survivor-public.json"]!, id], in: a)
            #expect(refused.status == 64)
            #expect(refused.stderr.contains("record \(id) cannot be published"))
            #expect(refused.stderr.contains("'\(consent)'"))
            #expect(!FileManager.default.fileExists(atPath: out))
        }
        // The partner policy may publish a partners record, never an internal one
        #expect(
            try cli.run(
                ["publish", "--policy", Self.partnerPolicy, "-o", out, ids["ru-survivor-partners.json"]!], in: a
            ).status == 0)
        let refusedInternal = try cli.run(
            ["publish", "--policy", Self.partnerPolicy, "-o", cli.path("out2"), ids["zh-relative-internal.json"]!],
            in: a)
        #expect(refusedInternal.status == 64 && refusedInternal.stderr.contains("'internal'"))
        #expect(try cli.run(["verify", out + "/\(ids["ru-survivor-partners.json"]!).sd-jwt"], in: a).status == 0)

        // --dry-run shows the text with markers and writes nothing
        // (the store file may be touched by reading it; everything outside the workspace must stay as it was)
        func outside() -> [String: Data] { CLIHarness.snapshot(cli.folder.path).filter { !$0.key.hasPrefix("a/") } }
        let before = outside()
        let dry = try cli.run(
            [
                "publish", "--policy", Self.publicPolicy, "--dry-run", "-o", cli.path("never"),
                ids["en-survivor-public.json"]!,
            ], in: a)
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("[phone removed]"))
        #expect(dry.stdout.contains("[e-mail removed]"))
        #expect(dry.stdout.contains("CNID-"))
        #expect(!dry.stdout.contains("654221199003120461"))
        #expect(!dry.stdout.contains("+7 705 555 01 23"))
        #expect(outside() == before)

        // an existing, non-empty output folder is refused (73)
        #expect(
            try cli.run(["publish", "--policy", Self.publicPolicy, "-o", out, ids["en-survivor-public.json"]!], in: a)
                .status == 73)
    }

    @Test func hostilePoliciesExit65WithTheLine() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let (a, _) = try workspace(cli, files: ["en-survivor-public.json"])
        let head = "policy: t\nversion: 1\nconsent: [public]\n"
        let cases: [(String, String, String)] = [
            ("operator.yaml", head + "fields:\n  schema: obliterate\nidentifiers: {}\n", "line 5"),
            ("indent.yaml", head + "fields:\n  schema: keep\n    language: keep\nidentifiers: {}\n", "line 6"),
            ("tab.yaml", head + "fields:\n\tschema: keep\nidentifiers: {}\n", "line 5"),
            ("duplicate.yaml", head + "fields:\n  schema: keep\n  schema: strip\nidentifiers: {}\n", "line 6"),
            ("kind.yaml", head + "fields: {}\nidentifiers:\n  social_security: strip\n", "line 6"),
            ("truncated.yaml", head + "fields:\n  schema: keep\nidentifiers:\n  phone: {op: mask, ke", "line 7"),
            ("unknown-field.yaml", head + "fields:\n  testifier.shoeSize: keep\nidentifiers: {}\n", "line 5"),
        ]
        for (name, text, line) in cases {
            try Data(text.utf8).write(to: URL(fileURLWithPath: cli.path(name)))
            let result = try cli.run(["publish", "--policy", cli.path(name), "-o", cli.path("out")], in: a)
            #expect(result.status == 65, "\(name): \(result.stderr)")
            #expect(result.stderr.contains(line), "\(name): \(result.stderr)")
            #expect(result.stderr.contains(name))
            #expect(!FileManager.default.fileExists(atPath: cli.path("out")))
        }
        #expect(
            try cli.run(["publish", "--policy", cli.path("absent.yaml"), "-o", cli.path("out")], in: a).status == 66)
    }

    @Test func identifierInsideTextWithholdsThePieceAndTamperingIsCaught() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        // A record whose kept free-text field holds a phone among other words (no segmentation there)
        let record = """
            {"schema": "amanat-record/v1",
             "testimony": {"consent": "public",
               "campSurvivor": {"food": "Rice soup; the cook's number was +7 705 555 01 99, ask him.", "classes": "Chinese, law."}},
             "provenance": {"organization": "Test Archive One (synthetic)", "reference": "T-1"}}
            """
        try Data(record.utf8).write(to: URL(fileURLWithPath: cli.path("r.json")))
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        let id = try cli.run(["add", cli.path("r.json")], in: a).addedId
        let out = cli.path("out")
        let published = try cli.run(["publish", "--policy", Self.publicPolicy, "-o", out], in: a)
        #expect(published.status == 0, "\(published.stderr)")
        #expect(published.stdout.contains("withheld whole: 1 identifier(s)"))
        #expect(published.stdout.contains("1 phone"))
        let payload = try annotationPayload(out + "/\(id).annotation.jws")
        let values = try #require(payload["values"] as? [[String: Any]])
        #expect(
            values.contains {
                $0["path"] as? String == "/testimony/campSurvivor/food" && $0["op"] as? String == "withhold"
            })
        #expect(try cli.run(["scan", out + "/\(id).sd-jwt"], in: a).status == 0)
        let verify = try cli.run(["verify", out + "/\(id).sd-jwt"], in: a)
        #expect(verify.status == 0 && verify.stdout.contains("/testimony/campSurvivor/food: withhold"))

        // Tampering: dropping a disclosure still verifies for the collector, but no longer matches the annotation
        let sdjwtPath = out + "/\(id).sd-jwt"
        let compact = try String(contentsOfFile: sdjwtPath, encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
        var parts = compact.split(separator: "~", omittingEmptySubsequences: false)
        #expect(parts.count > 3)
        parts.remove(at: 1)  // disclosures come children first: the first is a leaf
        try Data((parts.joined(separator: "~") + "\n").utf8).write(to: URL(fileURLWithPath: sdjwtPath))
        let tampered = try cli.run(["verify", sdjwtPath], in: a)
        #expect(tampered.status == 1)
        #expect(tampered.stderr.contains("sd_hash"))

        // A workspace that trusts neither collector nor publisher refuses the published file
        let b = try cli.initWorkspace("b", org: "Test Archive Two")
        let other = try cli.run(["publish", "--policy", Self.publicPolicy, "-o", cli.path("out-b")], in: a)
        #expect(other.status == 0)
        #expect(try cli.run(["verify", cli.path("out-b") + "/\(id).sd-jwt"], in: b).status == 1)
    }
}
