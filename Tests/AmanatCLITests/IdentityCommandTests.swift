import AmanatTestSupport
import Foundation
import Testing

@Suite("init, identity, trust")
struct IdentityCommandTests {
    @Test func initCreatesEncryptedKeysWithPrivateModes() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let dir = try cli.makeFolder("a")
        let result = try cli.run(["init", "--org", "Test Archive One", "--kdf-log-n", "10"], in: dir)
        #expect(result.status == 0)
        #expect(result.stderr.contains("Fingerprint:"))
        for key in ["signing.pem", "sealing.pem"] {
            let path = dir + "/.amanat/keys/" + key
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(text.hasPrefix("-----BEGIN ENCRYPTED PRIVATE KEY-----"))
        }
    }

    @Test func initRefusesAnExistingWorkspaceAndChangesNothing() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let dir = try cli.initWorkspace("a", org: "Test Archive One")
        let before = CLIHarness.snapshot(dir)
        let again = try cli.run(["init", "--org", "Other", "--kdf-log-n", "10"], in: dir)
        #expect(again.status == 73)
        #expect(again.stderr.contains("already an Amanat workspace"))
        #expect(CLIHarness.snapshot(dir) == before)
    }

    @Test func identityShowJSON() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let dir = try cli.initWorkspace("a", org: "Test Archive One")
        let result = try cli.run(["identity", "show", "--json"], in: dir, passphrase: nil)
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["organization"] as? String == "Test Archive One")
        #expect((object["ageRecipient"] as? String)?.hasPrefix("age1") == true)
        let fingerprint = try #require(object["fingerprint"] as? String)
        #expect(fingerprint.count == 39)
        let jwk = try #require(object["signingKey"] as? [String: String])
        #expect(jwk["kty"] == "OKP" && jwk["crv"] == "Ed25519")
    }

    @Test func workspaceIsFoundFromASubfolderAndByFlag() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let dir = try cli.initWorkspace("a", org: "Test Archive One")
        let sub = dir + "/inbox/2026"
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
        #expect(try cli.run(["identity", "show"], in: sub).stdout.contains("Test Archive One"))
        #expect(try cli.run(["identity", "show", "--workspace", dir]).stdout.contains("Test Archive One"))
        let none = try cli.run(["identity", "show"], in: cli.makeFolder("empty"))
        #expect(none.status == 66)
        #expect(none.stderr.contains("amanat init"))
    }

    @Test func trustRoundTripAndRefusals() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        let b = try cli.initWorkspace("b", org: "Test Database Two")
        let exported = try cli.run(["identity", "export", "-o", cli.path("b.identity.json")], in: b)
        #expect(exported.status == 0)

        // Given A trusts B's identity file
        let added = try cli.run(["trust", "add", cli.path("b.identity.json"), "--name", "berlin"], in: a)
        #expect(added.status == 0)
        let bFingerprint = try cli.run(["identity", "show", "--json"], in: b).stdout
        let list = try cli.run(["trust", "list", "--json"], in: a)
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(entries.count == 1)
        #expect(entries.first?["name"] as? String == "berlin")
        #expect(bFingerprint.contains(entries.first?["fingerprint"] as? String ?? "missing"))

        // When the same key is added under another name, or another key under the same name, nothing changes
        let before = CLIHarness.snapshot(a)
        let twice = try cli.run(["trust", "add", cli.path("b.identity.json"), "--name", "other"], in: a)
        #expect(twice.status == 65)
        #expect(twice.stderr.contains("already trusted as 'berlin'"))
        let c = try cli.initWorkspace("c", org: "Test Group Three")
        try cli.run(["identity", "export", "-o", cli.path("c.identity.json")], in: c)
        #expect(CLIHarness.snapshot(a) == before)
        let sameName = try cli.run(["trust", "add", cli.path("c.identity.json"), "--name", "berlin"], in: a)
        #expect(sameName.status == 64)
        #expect(CLIHarness.snapshot(a) == before)
        let own = try cli.run(["identity", "export", "-o", cli.path("a.identity.json")], in: a)
        #expect(own.status == 0)
        let before2 = CLIHarness.snapshot(a)
        #expect(try cli.run(["trust", "add", cli.path("a.identity.json")], in: a).status == 64)
        #expect(CLIHarness.snapshot(a) == before2)

        // Then removal works and an unknown name is a usage error
        #expect(try cli.run(["trust", "remove", "berlin"], in: a).status == 0)
        #expect(try cli.run(["trust", "remove", "berlin"], in: a).status == 64)
    }

    @Test func forgedAndMalformedIdentityFilesAreRefused() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        let b = try cli.initWorkspace("b", org: "Test Database Two")
        let c = try cli.initWorkspace("c", org: "Test Group Three")
        try cli.run(["identity", "export", "-o", cli.path("b.json")], in: b)
        try cli.run(["identity", "export", "-o", cli.path("c.json")], in: c)
        var identityB = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: cli.path("b.json"))))
                as? [String: Any])
        let identityC = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: cli.path("c.json"))))
                as? [String: Any])
        let before = CLIHarness.snapshot(a)

        // B's JWK with C's age recipient: the binding signature fails.
        identityB["ageRecipient"] = identityC["ageRecipient"]
        try JSONSerialization.data(withJSONObject: identityB).write(to: URL(fileURLWithPath: cli.path("mixed.json")))
        let mixed = try cli.run(["trust", "add", cli.path("mixed.json")], in: a)
        #expect(mixed.status == 1)
        #expect(mixed.stderr.contains("belong to different keys"))
        #expect(mixed.stderr.contains("mixed.json"))

        // A renamed organization is also caught by the binding.
        var renamed = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: cli.path("b.json"))))
                as? [String: Any])
        renamed["organization"] = "Someone Else"
        try JSONSerialization.data(withJSONObject: renamed).write(to: URL(fileURLWithPath: cli.path("renamed.json")))
        #expect(try cli.run(["trust", "add", cli.path("renamed.json")], in: a).status == 1)

        // Not an identity at all, truncated JSON, a missing file.
        try Data("{\"hello\": 1}".utf8).write(to: URL(fileURLWithPath: cli.path("other.json")))
        #expect(try cli.run(["trust", "add", cli.path("other.json")], in: a).status == 65)
        let full = try Data(contentsOf: URL(fileURLWithPath: cli.path("b.json")))
        try full.prefix(full.count / 2).write(to: URL(fileURLWithPath: cli.path("truncated.json")))
        let truncated = try cli.run(["trust", "add", cli.path("truncated.json")], in: a)
        #expect(truncated.status == 65)
        #expect(truncated.stderr.contains("truncated.json"))
        #expect(try cli.run(["trust", "add", cli.path("absent.json")], in: a).status == 66)
        #expect(CLIHarness.snapshot(a) == before)
    }

    @Test func wrongPassphraseAndDamagedKeysChangeNothing() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        let out = cli.path("a.agekey")
        let wrong = try cli.run(["identity", "export", "--age", "-o", out], in: a, passphrase: "not the passphrase")
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("does not unlock"))
        #expect(!FileManager.default.fileExists(atPath: out))

        let keyPath = a + "/.amanat/keys/sealing.pem"
        let original = try Data(contentsOf: URL(fileURLWithPath: keyPath))
        try original.prefix(original.count - 40).write(to: URL(fileURLWithPath: keyPath))
        let truncated = try cli.run(["identity", "export", "--age", "-o", out], in: a)
        #expect(truncated.status == 65)
        #expect(truncated.stderr.contains("sealing.pem"))
        #expect(!FileManager.default.fileExists(atPath: out))

        var corrupted = original
        corrupted[corrupted.count / 2] ^= 0x01
        try corrupted.write(to: URL(fileURLWithPath: keyPath))
        let corrupt = try cli.run(["identity", "export", "--age", "-o", out], in: a)
        #expect(corrupt.status == 65 || corrupt.status == 1, "status \(corrupt.status): \(corrupt.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))

        let noPass = try cli.run(["identity", "export", "--age", "-o", out], in: a, passphrase: nil)
        #expect(noPass.status == 1)  // unlocking without a passphrase is refused like a wrong one
        #expect(noPass.stderr.contains("AMANAT_PASSPHRASE"))
    }

    @Test func passphraseFileIsRead() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let dir = try cli.makeFolder("a")
        try Data("file passphrase 1\n".utf8).write(to: URL(fileURLWithPath: cli.path("pass.txt")))
        let created = try cli.run(
            ["init", "--org", "Test Archive One", "--kdf-log-n", "10", "--passphrase-file", cli.path("pass.txt")],
            in: dir, passphrase: nil)
        #expect(created.status == 0)
        let exported = try cli.run(
            ["identity", "export", "--age", "-o", cli.path("k.age"), "--passphrase-file", cli.path("pass.txt")],
            in: dir,
            passphrase: nil)
        #expect(exported.status == 0)
        let attributes = try FileManager.default.attributesOfItem(atPath: cli.path("k.age"))
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test(.requires(.ageKeygen)) func ageExportMatchesStockAgeKeygen() throws {
        let keygen = try ExternalTool.ageKeygen.require().path
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        #expect(try cli.run(["identity", "export", "--age", "-o", cli.path("k.age")], in: a).status == 0)
        let derived = try CLIHarness.runTool(keygen, ["-y", cli.path("k.age")])
        #expect(derived.status == 0)
        let shown = try cli.run(["identity", "show", "--json"], in: a)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])
        #expect(derived.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == object["ageRecipient"] as? String)
    }

    @Test func helpTeachesWithAnExample() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let help = try cli.run(["trust", "add", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.hasPrefix("OVERVIEW: Trust a partner's public identity file."))
        #expect(
            help.stdout.contains(
                "USAGE: amanat trust add [--workspace <dir>] [--passphrase-file <file>] [--quiet] <file> [--name <name>] [--may-retract] [--json]"
            ))
        #expect(help.stdout.contains("amanat trust add partner.identity.json --name berlin-archive"))
        let root = try cli.run(["--help"])
        #expect(root.stdout.contains("Exit codes: 0 ok"))
    }

    @Test func demoRecordsAreTheSpecExamples() throws {
        let root = PackagePaths.root
        let demo =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: root.appendingPathComponent("Sources/AmanatCLI/Resources/demo-records.json")))
            as? [NSDictionary]
        let names = ["kk-cyrl-relative-public.json", "ru-survivor-partners.json", "en-survivor-public.json"]
        let specs = try names.map {
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: root.appendingPathComponent("Specs/examples/" + $0))) as? NSDictionary
        }
        #expect(demo == specs.compactMap { $0 })
    }

    @Test func demoRuns() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let result = try cli.run(["demo", "--keep", cli.path("demo")], passphrase: nil)
        #expect(result.status == 0, "demo failed: \(result.stderr)")
        #expect(result.stdout.contains("Demo complete"))
        #expect(result.stdout.contains("refused"))
        #expect(result.stdout.contains("import 2: 0 new version(s), 3 already present"))
        #expect(result.stdout.contains("as bytes and base64url: none found"))
        #expect(result.stdout.contains("store no longer opens"))
        #expect(result.stdout.contains("B refuses:"))
        #expect(result.stdout.contains("FORK"))
        #expect(result.stdout.contains("it matches the signed checkpoint"))
        #expect(FileManager.default.fileExists(atPath: cli.path("demo/steppe-archive/.amanat/keys/signing.pem")))
    }

    /// Drives `amanat init` on a pseudo-terminal: the passphrase is asked twice, never echoed.
    static let ptyDriver = #"""
        import os, pty, sys, time
        binary, folder = sys.argv[1], sys.argv[2]
        answers = sys.argv[3:]
        pid, fd = pty.fork()
        if pid == 0:
            os.chdir(folder)
            env = {k: v for k, v in os.environ.items() if k not in ("AMANAT_PASSPHRASE", "AMANAT_WORKSPACE")}
            os.execve(binary, [binary, "init", "--org", "Prompt Test Org", "--kdf-log-n", "10"], env)
        out = b""
        seen = 0
        for answer in answers:
            deadline = time.time() + 10
            while out.lower().count(b"passphrase") <= seen and time.time() < deadline:
                try:
                    chunk = os.read(fd, 1024)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            seen += 1
            time.sleep(0.2)  # let the program switch echo off (TCSAFLUSH drops input typed before that)
            os.write(fd, answer.encode() + b"\n")
        while True:
            try:
                chunk = os.read(fd, 1024)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        _, status = os.waitpid(pid, 0)
        sys.stdout.write(out.decode(errors="replace"))
        sys.exit(os.WEXITSTATUS(status))
        """#

    @Test(.requires(.python3)) func terminalPromptAsksTwiceAndRefusesAMismatch() throws {
        let python = try ExternalTool.python3.require().path
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        try Data(Self.ptyDriver.utf8).write(to: URL(fileURLWithPath: cli.path("drive_tty.py")))
        // Given two passphrases typed at the prompts
        let good = try cli.makeFolder("good")
        let ok = try CLIHarness.runTool(
            python,
            [cli.path("drive_tty.py"), CLIHarness.executable.path, good, "prompt passphrase 1", "prompt passphrase 1"])
        // Then the workspace is created, and the passphrase never appears on the terminal
        #expect(ok.status == 0, "\(ok.stdout) \(ok.stderr)")
        #expect(ok.stdout.contains("Repeat the passphrase"))
        #expect(!ok.stdout.contains("prompt passphrase 1"))
        #expect(FileManager.default.fileExists(atPath: good + "/.amanat/keys/signing.pem"))
        // And two different passphrases create nothing
        let bad = try cli.makeFolder("bad")
        let refused = try CLIHarness.runTool(
            python, [cli.path("drive_tty.py"), CLIHarness.executable.path, bad, "prompt passphrase 1", "another one 2"])
        #expect(refused.status == 64)
        #expect(refused.stdout.contains("the two passphrases differ"))
        #expect(!FileManager.default.fileExists(atPath: bad + "/.amanat"))
    }
}
