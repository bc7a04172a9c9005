import AmanatCrypto
import AmanatRecords
import AmanatTestSupport
import Foundation
import Testing

@testable import AmanatWorkspace

/// Untrusted text never reaches the output raw (issue #12 item 5): a partner whose organization name, record
/// reference, attachment name and policy name carry escape sequences, CR/LF, bidi overrides, line separators
/// and C1 controls is sent through every command that prints them, in human and JSON form.
@Suite("Hostile names and values are printed escaped by every command")
struct HostileOutputTests {
    /// Paints a fake green "Verified", forges a line of its own with CR/LF, reorders text, breaks lines three
    /// other ways and starts a C1 control sequence.
    static let hostileName =
        "Partner\u{1B}[32m Verified\u{1B}[0m\r\nFingerprint: AAAA-AAAA-AAAA-AAAA\u{202E}\u{2028}\u{0085}\u{009B}31m"
    /// What a record field may hold (`add` refuses C0 controls in values, not these).
    static let hostileValue = "REF\u{202E}gpj.exe\u{2028}\u{0085}Fingerprint: BBBB\u{009B}31m\u{2066}"
    static let passphrase = "test passphrase 123"

    /// The characters that must never appear raw: everything ``UntrustedText`` calls unsafe except the line
    /// breaks and tabs the program itself writes.
    static func unsafeScalars(_ text: String) -> [String] {
        text.unicodeScalars.filter { $0 != "\n" && $0 != "\t" && UntrustedText.isUnsafe($0) }.map {
            "U+" + String($0.value, radix: 16, uppercase: true)
        }
    }

    /// Checks both streams of one command; returns the result for further checks.
    @discardableResult
    static func clean(
        _ result: CLIHarness.Result, _ what: String, sourceLocation: SourceLocation = #_sourceLocation
    )
        -> CLIHarness.Result
    {
        for (stream, text) in [("stdout", result.stdout), ("stderr", result.stderr)] {
            #expect(
                unsafeScalars(text).isEmpty, "\(what) \(stream): \(unsafeScalars(text))", sourceLocation: sourceLocation
            )
            let forged = text.split(separator: "\n", omittingEmptySubsequences: false).filter {
                $0.hasPrefix("Fingerprint: AAAA") || $0.hasPrefix("Fingerprint: BBBB")
            }
            #expect(forged.isEmpty, "\(what) \(stream) has a forged line", sourceLocation: sourceLocation)
        }
        return result
    }

    /// Parses JSON output (it must be valid).
    static func json(
        _ result: CLIHarness.Result, _ what: String, sourceLocation: SourceLocation = #_sourceLocation
    )
        throws -> Any
    {
        clean(result, what, sourceLocation: sourceLocation)
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8), options: [.fragmentsAllowed])
    }

    /// A steppe workspace (clean) and a hostile partner: made by `init` under a clean name, then its identity
    /// re-signed under the hostile name, as an adversary holding its own key would.
    struct Pair {
        let cli: CLIHarness
        let a: String
        let h: String

        init() throws {
            cli = try CLIHarness()
            a = try cli.initWorkspace("a", org: "Test Archive One")
            h = try cli.initWorkspace("h", org: "Placeholder Partner")
            let workspace = Workspace(root: URL(fileURLWithPath: h))
            let key = try workspace.signingKey(passphrase: SecretBytes(Array(HostileOutputTests.passphrase.utf8)))
            let sealing = try AgeKeyEncoding.publicKey(recipient: try workspace.identity().ageRecipient)
            let identity = try PublicIdentity(
                organization: HostileOutputTests.hostileName, signingKey: key, sealingKey: sealing)
            try identity.jsonData().write(to: workspace.identityURL)
            for (dir, file) in [(a, "a.json"), (h, "h.json")] {
                #expect(try cli.run(["identity", "export", "-o", cli.path(file)], in: dir).status == 0)
            }
        }

        func run(_ arguments: [String], in dir: String) throws -> CLIHarness.Result {
            try cli.run(arguments, in: dir)
        }

        /// The example record with the hostile reference, as a file.
        func hostileRecordFile(_ name: String, reference: String = HostileOutputTests.hostileValue) throws -> String {
            let data = try Data(contentsOf: URL(fileURLWithPath: RecordCommandTests.example("en-survivor-public.json")))
            var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            var provenance = object["provenance"] as? [String: Any] ?? [:]
            provenance["reference"] = reference
            object["provenance"] = provenance
            let path = cli.path(name)
            try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
            return path
        }
    }

    @Test func aHostilePartnerIsShownEscapedByEveryCommand() throws {
        let p = try Pair()
        defer { p.cli.cleanup() }
        let (cli, a, h) = (p.cli, p.a, p.h)
        let escapedName = UntrustedText.printable(Self.hostileName)

        // The hostile partner's own commands print its name escaped
        Self.clean(try p.run(["identity", "show"], in: h), "identity show")
        let shown = try Self.json(try p.run(["identity", "show", "--json"], in: h), "identity show --json")
        #expect((shown as? [String: Any])?["organization"] as? String == Self.hostileName)
        #expect(
            Self.clean(try p.run(["trust", "add", cli.path("a.json"), "--name", "steppe"], in: h), "h trust add").status
                == 0)

        // Its records: a hostile reference, an attachment with a hostile file name
        let added = Self.clean(try p.run(["add", try p.hostileRecordFile("r.json")], in: h), "add")
        #expect(added.status == 0, "\(added.stderr)")
        let id = added.addedId
        let card = cli.path("card\u{202E}gpj.exe\u{1B}[2K")
        try Data("synthetic id card".utf8).write(to: URL(fileURLWithPath: card))
        let attached = Self.clean(try p.run(["attach", "id:" + id, card], in: h), "attach")
        #expect(attached.status == 0, "\(attached.stderr)")
        #expect(attached.stderr.contains("card\\u{202E}gpj.exe\\e[2K"))
        // A C0 control in a value is refused, and the refusal is clean
        let refused = Self.clean(
            try p.run(["add", try p.hostileRecordFile("c0.json", reference: "bad\u{1B}[31m")], in: h), "add C0")
        #expect(refused.status == 65)
        // A plain file with a hostile name cannot be sealed, and the message says so cleanly
        let named = Self.clean(
            try p.run(["seal", "-r", "steppe", "-o", cli.path("x.amanat"), card], in: h), "seal hostile file name")
        #expect(named.status != 0)
        let sealed = Self.clean(
            try p.run(["seal", "-r", "steppe", "--all", "-o", cli.path("h1.amanat")], in: h), "seal")
        #expect(sealed.status == 0, "\(sealed.stderr)")

        // Before A trusts it: the refusal names it escaped
        let untrusted = Self.clean(try p.run(["open", cli.path("h1.amanat")], in: a), "open untrusted")
        #expect(untrusted.status == 1)
        #expect(untrusted.stderr.contains(escapedName))
        Self.clean(try p.run(["inspect", cli.path("h1.amanat")], in: a), "inspect untrusted")

        // trust add (default name: its organization), trust add again, trust list
        let trusted = Self.clean(try p.run(["trust", "add", cli.path("h.json")], in: a), "trust add")
        #expect(trusted.status == 0, "\(trusted.stderr)")
        #expect(trusted.stderr.split(separator: "\n").filter { $0.hasPrefix("Fingerprint:") }.count == 1)
        let again = Self.clean(try p.run(["trust", "add", cli.path("h.json")], in: a), "trust add again")
        #expect(again.status == 65 && again.stderr.contains(escapedName))
        let listed = Self.clean(try p.run(["trust", "list"], in: a), "trust list")
        #expect(listed.stdout.contains(escapedName))
        let listJSON = try Self.json(try p.run(["trust", "list", "--json"], in: a), "trust list --json")
        #expect((listJSON as? [[String: Any]])?.first?["organization"] as? String == Self.hostileName)

        // inspect, open --dry-run, open -o, open (import), human and JSON
        let inspected = Self.clean(try p.run(["inspect", cli.path("h1.amanat")], in: a), "inspect")
        #expect(inspected.status == 0, "\(inspected.stderr)")
        #expect(inspected.stdout.contains(escapedName))
        let inspectJSON = try Self.json(
            try p.run(["inspect", cli.path("h1.amanat"), "--json"], in: a), "inspect --json")
        #expect(((inspectJSON as? [String: Any])?["manifest"] as? [String: Any]) != nil)
        Self.clean(try p.run(["open", cli.path("h1.amanat"), "--dry-run"], in: a), "open --dry-run")
        _ = try Self.json(
            try p.run(["open", cli.path("h1.amanat"), "--dry-run", "--json"], in: a), "open --dry-run --json")
        let extracted = Self.clean(try p.run(["open", cli.path("h1.amanat"), "-o", cli.path("out")], in: a), "open -o")
        #expect(extracted.status == 0, "\(extracted.stderr)")
        let imported = Self.clean(try p.run(["open", cli.path("h1.amanat")], in: a), "open (import)")
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stderr.contains(escapedName))

        // The store: status, list, show (text, json, history), consent, duplicates
        for arguments in [
            ["status"], ["list"], ["show", "id:" + id], ["show", "id:" + id, "--history"], ["consent", "id:" + id],
            ["duplicates"],
        ] {
            let result = Self.clean(try p.run(arguments, in: a), arguments.joined(separator: " "))
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
        }
        // `list` no longer names the collector (its columns are the record's own); `show` does
        #expect(try p.run(["show", "id:" + id], in: a).stdout.contains(escapedName))
        #expect(try p.run(["show", "id:" + id], in: a).stdout.contains("REF\\u202egpj.exe\\u2028\\u0085"))
        for arguments in [["status"], ["list"], ["consent", "id:" + id], ["duplicates"]] {
            _ = try Self.json(try p.run(arguments + ["--json"], in: a), arguments.joined(separator: " ") + " --json")
        }
        let record = try Self.json(try p.run(["show", "id:" + id, "--format", "json"], in: a), "show --format json")
        #expect(
            ((record as? [String: Any])?["provenance"] as? [String: Any])?["reference"] as? String == Self.hostileValue)
        #expect((try Self.json(try p.run(["list", "--json"], in: a), "list --json") as? [[String: Any]])?.count == 1)

        // Concurrent edits of the reference: conflicts (human and JSON), resolve
        let edited = cli.path("edit.json")
        var content = try #require(record as? [String: Any])
        var provenance = content["provenance"] as? [String: Any] ?? [:]
        provenance["reference"] = "A-SIDE"
        content["provenance"] = provenance
        try JSONSerialization.data(withJSONObject: content).write(to: URL(fileURLWithPath: edited))
        #expect(Self.clean(try p.run(["update", "id:" + id, edited], in: a), "update").status == 0)
        provenance["reference"] = Self.hostileValue + "\u{202E}again"
        content["provenance"] = provenance
        try JSONSerialization.data(withJSONObject: content).write(to: URL(fileURLWithPath: edited))
        #expect(Self.clean(try p.run(["update", "id:" + id, edited], in: h), "update at h").status == 0)
        #expect(try p.run(["seal", "-r", "steppe", "--since-last", "-o", cli.path("h2.amanat")], in: h).status == 0)
        let delta = Self.clean(try p.run(["open", cli.path("h2.amanat")], in: a), "open delta")
        #expect(delta.status == 0, "\(delta.stderr)")
        let conflicts = Self.clean(try p.run(["conflicts"], in: a), "conflicts")
        #expect(conflicts.stdout.contains(escapedName))
        #expect(conflicts.stdout.contains("\\u202eagain"))
        let conflictsJSON = try Self.json(try p.run(["conflicts", "--json"], in: a), "conflicts --json")
        #expect((conflictsJSON as? [[String: Any]])?.count == 1)
        Self.clean(try p.run(["show", "id:" + id], in: a), "show in conflict")
        Self.clean(try p.run(["resolve", "id:" + id, "--accept"], in: a), "resolve --accept (refused)")
        let resolved = Self.clean(
            try p.run(["resolve", "id:" + id, "--take", Self.hostileName], in: a), "resolve --take")
        #expect(resolved.status == 0, "\(resolved.stderr)")
        Self.clean(try p.run(["show", "id:" + id, "--history"], in: a), "show --history after resolve")

        // verify: a version signed by the partner, and a public version it published under a hostile policy name
        let compact = try p.run(["show", "id:" + id, "--format", "sd-jwt"], in: h).stdout
        try Data(compact.utf8).write(to: URL(fileURLWithPath: cli.path("v.sd-jwt")))
        let verified = Self.clean(try p.run(["verify", cli.path("v.sd-jwt")], in: a), "verify")
        #expect(verified.status == 0 && verified.stdout.contains(escapedName), "\(verified.stderr)")
        _ = try Self.json(try p.run(["verify", "--json", cli.path("v.sd-jwt")], in: a), "verify --json")
        Self.clean(
            try p.run(["publish", "--policy", AuthorityCommandTests.publicPolicy, "--dry-run", "id:" + id], in: h),
            "publish --dry-run")
        // (policy names are plain by the parser's rules, so the hostile publisher signs an annotation of its own)
        let published = Self.clean(
            try p.run(
                ["publish", "--policy", AuthorityCommandTests.publicPolicy, "-o", cli.path("pub"), "id:" + id], in: h),
            "publish")
        #expect(published.status == 0, "\(published.stderr)")
        let annotationPath = cli.path("pub") + "/\(id).annotation.jws"
        let annotation = try SignedJWT.parse(
            try String(contentsOfFile: annotationPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
        let hostilePolicy = JSONValue.object([
            ("name", .string("web\u{202E}lmth.exe\u{2028}\u{1B}[32m")), ("sha256", .string("\u{1B}[2J")),
        ])
        let forged = try SignedJWT.sign(
            header: annotation.header,
            payload: annotation.payload.setting("policy", hostilePolicy).setting(
                "editors", .array([.string(Self.hostileName)])),
            key: try Workspace(root: URL(fileURLWithPath: h)).signingKey(
                passphrase: SecretBytes(Array(Self.passphrase.utf8))))
        try Data((forged + "\n").utf8).write(to: URL(fileURLWithPath: annotationPath))
        let publicVersion = cli.path("pub") + "/\(id).sd-jwt"
        let checked = Self.clean(try p.run(["verify", publicVersion], in: a), "verify public version")
        #expect(
            checked.status == 0 && checked.stdout.contains("web\\u{202E}lmth.exe\\u{2028}\\e[32m"), "\(checked.stderr)")
        _ = try Self.json(try p.run(["verify", "--json", publicVersion], in: a), "verify public --json")
        // A policy whose bad key carries escapes is refused cleanly
        try Data("policy: x\nversion: 1\n\u{1B}[31mevil\u{202E}: keep\n".utf8).write(
            to: URL(fileURLWithPath: cli.path("bad.yaml")))
        let badPolicy = Self.clean(
            try p.run(["publish", "--policy", cli.path("bad.yaml"), "--dry-run"], in: h), "publish bad policy")
        #expect(badPolicy.status == 65)

        // scan: a file whose name is hostile, human and JSON
        let scanned = cli.path("notes\u{1B}[32m\u{202E}\u{2028}.txt")
        try Data("call +86 139 1234 5678 tomorrow\n".utf8).write(to: URL(fileURLWithPath: scanned))
        let scan = Self.clean(try cli.run(["scan", scanned]), "scan")
        #expect(scan.status == 1)
        let scanJSON = try Self.json(try cli.run(["scan", "--json", scanned]), "scan --json")
        #expect((scanJSON as? [[String: Any]])?.first?["file"] as? String == scanned)

        // retract and erase (requests, then the collector's erasure arriving here), consent proposals
        Self.clean(try p.run(["consent", "id:" + id, "--set", "partners"], in: a), "consent --set")
        Self.clean(try p.run(["retract", "id:" + id, "--reason", "dup\u{202E}", "--yes"], in: a), "retract")
        Self.clean(try p.run(["erase", "id:" + id, "--reason", "asked\u{2028}", "--yes"], in: a), "erase")
        _ = try Self.json(
            try p.run(["erase", "id:" + id, "--reason", "again", "--yes", "--json"], in: a), "erase --json")
        // A partner named by its hostile name gets the right to erase; the message names it escaped
        let delegated = Self.clean(try p.run(["trust", "add", cli.path("h.json"), "--may-retract"], in: a), "delegate")
        #expect(delegated.status == 0 && delegated.stderr.contains(escapedName), "\(delegated.stderr)")
        let removed = Self.clean(try p.run(["trust", "remove", Self.hostileName], in: a), "trust remove")
        #expect(removed.status == 0 && removed.stderr.contains(escapedName))
        Self.clean(try p.run(["list"], in: a), "list after remove")
        Self.clean(try p.run(["trust", "remove", Self.hostileName], in: a), "trust remove again")
    }

    @Test func aCSVHeaderWithEscapesIsRefusedCleanly() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        try Data("testimony.consent,\u{202E}column\u{2028}\u{85}\u{9B}31m\r\ninternal,x\r\n".utf8).write(
            to: URL(fileURLWithPath: cli.path("bad.csv")))
        let added = Self.clean(try cli.run(["add", cli.path("bad.csv")], in: a), "add csv")
        #expect(added.status == 65)
        #expect(added.stderr.contains("\\u{202E}column\\u{2028}\\u{85}\\u{9B}31m"))
    }

    @Test func anIdentityFileQuotingEscapesIsRefusedCleanly() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        #expect(try cli.run(["identity", "export", "-o", cli.path("a.json")], in: a).status == 0)
        var object = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: cli.path("a.json"))))
                as? [String: Any])
        object["type"] = "x\u{1B}]0;owned\u{7}\nFingerprint: AAAA"
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: cli.path("bad.json")))
        let b = try cli.initWorkspace("b", org: "Test Database Two")
        let refused = Self.clean(try cli.run(["trust", "add", cli.path("bad.json")], in: b), "trust add bad type")
        #expect(refused.status == 65)
        #expect(refused.stderr.contains("\\e]0;owned\\u{7}\\nFingerprint: AAAA"))
    }
}
