import AmanatTestSupport
import Foundation
import Testing

@Suite("seal, open, inspect")
struct BundleCommandTests {
    /// Two workspaces that trust each other, plus files to seal.
    struct Partners {
        let cli: CLIHarness
        let a: String
        let b: String

        init() throws {
            cli = try CLIHarness()
            a = try cli.initWorkspace("a", org: "Test Archive One")
            b = try cli.initWorkspace("b", org: "Test Database Two")
            try cli.run(["identity", "export", "-o", cli.path("a.json")], in: a)
            try cli.run(["identity", "export", "-o", cli.path("b.json")], in: b)
            #expect(try cli.run(["trust", "add", cli.path("b.json"), "--name", "berlin"], in: a).status == 0)
            #expect(try cli.run(["trust", "add", cli.path("a.json"), "--name", "steppe"], in: b).status == 0)
            try Data("Synthetic court verdict.\n".utf8).write(to: URL(fileURLWithPath: cli.path("verdict.txt")))
            var video = Data(count: 300_000)
            for i in 0..<video.count { video[i] = UInt8(truncatingIfNeeded: i &* 31 &+ 7) }
            try video.write(to: URL(fileURLWithPath: cli.path("testimony.mp4")))
        }

        func seal(_ out: String = "case.amanat", extra: [String] = []) throws -> CLIHarness.Result {
            try cli.run(
                ["seal", "-r", "berlin", "-o", cli.path(out)] + extra + [
                    cli.path("verdict.txt"), cli.path("testimony.mp4"),
                ], in: a)
        }
    }

    @Test func sealOpenInspect() throws {
        let p = try Partners()
        defer { p.cli.cleanup() }
        let sealed = try p.seal()
        #expect(sealed.status == 0, "\(sealed.stderr)")
        let opened = try p.cli.run(["open", p.cli.path("case.amanat"), "-o", p.cli.path("out")], in: p.b)
        #expect(opened.status == 0, "\(opened.stderr)")
        #expect(opened.stderr.contains("signed by steppe"))
        #expect(
            FileManager.default.contents(atPath: p.cli.path("out/files/testimony.mp4"))
                == FileManager.default.contents(atPath: p.cli.path("testimony.mp4")))
        #expect(FileManager.default.fileExists(atPath: p.cli.path("out/MANIFEST.jws")))
        #expect(FileManager.default.fileExists(atPath: p.cli.path("out/HEADER.jws")))
        let mode =
            try FileManager.default.attributesOfItem(atPath: p.cli.path("out/files/verdict.txt"))[.posixPermissions]
            as? Int
        #expect(mode == 0o600)

        let inspected = try p.cli.run(["inspect", p.cli.path("case.amanat"), "--json"], in: p.b)
        #expect(inspected.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(inspected.stdout.utf8)) as? [String: Any])
        #expect(object["signer"] as? String == "steppe")
        let manifest = try #require(object["manifest"] as? [String: Any])
        let entries = try #require(manifest["entries"] as? [[String: Any]])
        #expect(entries.map { $0["path"] as? String } == ["HEADER.jws", "files/verdict.txt", "files/testimony.mp4"])
        #expect(entries.last?["size"] as? Int == 300_000)
    }

    @Test func failuresNameTheProblemAndExtractNothing() throws {
        let p = try Partners()
        defer { p.cli.cleanup() }
        #expect(try p.seal().status == 0)
        let out = p.cli.path("out")

        // Not a recipient
        let c = try p.cli.initWorkspace("c", org: "Test Group Three")
        let notMine = try p.cli.run(["open", p.cli.path("case.amanat"), "-o", out], in: c)
        #expect(notMine.status == 1)
        #expect(notMine.stderr.contains("none of its 1 recipient is this workspace's key"))

        // Tampered (one byte in the payload)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: p.cli.path("case.amanat")))
        bytes[bytes.count - 100] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: p.cli.path("tampered.amanat")))
        let tampered = try p.cli.run(["open", p.cli.path("tampered.amanat"), "-o", out], in: p.b)
        #expect(tampered.status == 1)
        #expect(tampered.stderr.contains("tampered"))

        // Truncated
        let original = try Data(contentsOf: URL(fileURLWithPath: p.cli.path("case.amanat")))
        try original.prefix(original.count - 1000).write(to: URL(fileURLWithPath: p.cli.path("short.amanat")))
        let short = try p.cli.run(["open", p.cli.path("short.amanat"), "-o", out], in: p.b)
        #expect(short.status == 1)
        #expect(short.stderr.contains("cut short"))

        // Untrusted sender: B stops trusting A
        #expect(try p.cli.run(["trust", "remove", "steppe"], in: p.b).status == 0)
        let untrusted = try p.cli.run(["open", p.cli.path("case.amanat"), "-o", out], in: p.b)
        #expect(untrusted.status == 1)
        let fingerprint = try #require(
            (try JSONSerialization.jsonObject(
                with: Data(try p.cli.run(["identity", "show", "--json"], in: p.a).stdout.utf8))
                as? [String: Any])?["fingerprint"] as? String)
        #expect(untrusted.stderr.contains(fingerprint))
        #expect(untrusted.stderr.contains("amanat trust add"))

        // Missing input
        #expect(try p.cli.run(["open", p.cli.path("absent.amanat"), "-o", out], in: p.b).status == 66)

        // After all of that, nothing appeared and no staging folder is left behind
        #expect(!FileManager.default.fileExists(atPath: out))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: p.cli.folder.path).filter {
            $0.contains("partial")
        }
        #expect(leftovers.isEmpty)
    }

    @Test func existingFilesInTheDestinationAreNotOverwritten() throws {
        let p = try Partners()
        defer { p.cli.cleanup() }
        #expect(try p.seal().status == 0)
        let out = p.cli.path("out")
        #expect(try p.cli.run(["open", p.cli.path("case.amanat"), "-o", out], in: p.b).status == 0)
        let before = CLIHarness.snapshot(out)
        let again = try p.cli.run(["open", p.cli.path("case.amanat"), "-o", out], in: p.b)
        #expect(again.status == 73)
        #expect(CLIHarness.snapshot(out) == before)
    }

    @Test func aSymbolicLinkInsideTheDestinationIsNotFollowed() throws {
        let p = try Partners()
        defer { p.cli.cleanup() }
        #expect(try p.seal().status == 0)
        // Given a destination whose files/ is a link to a folder elsewhere
        let out = try p.cli.makeFolder("out")
        let elsewhere = try p.cli.makeFolder("elsewhere")
        try FileManager.default.createSymbolicLink(atPath: out + "/files", withDestinationPath: elsewhere)
        // When the bundle is opened into it, Then it is refused and nothing lands elsewhere
        let opened = try p.cli.run(["open", p.cli.path("case.amanat"), "-o", out], in: p.b)
        #expect(opened.status == 73, "\(opened.stderr)")
        #expect(opened.stderr.contains("symbolic link"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere).isEmpty)
        // And a dangling link where a file would go counts as a clash (rename would replace it silently)
        let out2 = try p.cli.makeFolder("out2")
        try FileManager.default.createDirectory(atPath: out2 + "/files", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: out2 + "/files/verdict.txt", withDestinationPath: "/nonexistent")
        let clash = try p.cli.run(["open", p.cli.path("case.amanat"), "-o", out2], in: p.b)
        #expect(clash.status == 73)
        #expect(clash.stderr.contains("already holds files/verdict.txt"))
    }

    @Test(.requires(.age)) func plainAgeFileIsNotABundle() throws {
        let age = try ExternalTool.age.require().path
        let p = try Partners()
        defer { p.cli.cleanup() }
        let recipient = try #require(
            (try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: p.cli.path("b.json"))))
                as? [String: Any])?["ageRecipient"] as? String)
        let result = try CLIHarness.runTool(
            age, ["-r", recipient, "-o", p.cli.path("plain.age"), p.cli.path("verdict.txt")])
        #expect(result.status == 0)
        let opened = try p.cli.run(["open", p.cli.path("plain.age"), "-o", p.cli.path("out")], in: p.b)
        #expect(opened.status == 65)
        #expect(opened.stderr.contains("not an Amanat bundle"))
    }

    @Test func sealToStandardOutputForAPipe() throws {
        // #14 bug 3: `-o -` wrote a file named '-' and the status into the output
        let p = try Partners()
        defer { p.cli.cleanup() }
        let sealed = try p.cli.run(
            ["seal", "-r", "berlin", "--armor", "-o", "-", p.cli.path("verdict.txt")], in: p.a)
        #expect(sealed.status == 0, "\(sealed.stderr)")
        #expect(sealed.stdout.hasPrefix("-----BEGIN AGE ENCRYPTED FILE-----"))
        #expect(sealed.stderr.contains("Sealed 1 entry into standard output"))
        #expect(!FileManager.default.fileExists(atPath: p.a + "/-"))
        try Data(sealed.stdout.utf8).write(to: URL(fileURLWithPath: p.cli.path("piped.amanat")))
        let opened = try p.cli.run(["open", p.cli.path("piped.amanat"), "-o", p.cli.path("piped")], in: p.b)
        #expect(opened.status == 0, "\(opened.stderr)")
        #expect(
            FileManager.default.contents(atPath: p.cli.path("piped/files/verdict.txt"))
                == FileManager.default.contents(atPath: p.cli.path("verdict.txt")))
        // --json and -o - both want standard output
        #expect(
            try p.cli.run(["seal", "-r", "berlin", "--json", "-o", "-", p.cli.path("verdict.txt")], in: p.a).status
                == 64)
    }

    @Test func aMistypedIdThatLooksLikeFlagsIsAUsageErrorNotHelp() throws {
        // #14 bug 4: `show -r17m9pkvp8hq` printed the help and exited 0 (argument-parser read the `h` as -h)
        let p = try Partners()
        defer { p.cli.cleanup() }
        let shown = try p.cli.run(["show", "-r17m9pkvp8hq"], in: p.a)
        #expect(shown.status == 64)
        #expect(shown.stderr.contains("id:-r17m9pkvp8hq"))
        #expect(!shown.stdout.contains("USAGE"))
        // while asking for help still works
        #expect(try p.cli.run(["show", "--help"], in: p.a).status == 0)
    }

    @Test func openIntoAFolderExtractsRecordsAndAttachments() throws {
        // Given a bundle that carries record versions (issue #14: `open -o` failed on every such bundle)
        let p = try Partners()
        defer { p.cli.cleanup() }
        #expect(try p.cli.run(["add", RecordCommandTests.example("en-survivor-public.json")], in: p.a).status == 0)
        let sealed = try p.cli.run(["seal", "-r", "berlin", "--all", "-o", p.cli.path("recs.amanat")], in: p.a)
        #expect(sealed.status == 0, "\(sealed.stderr)")
        // When the partner extracts it into a folder
        let opened = try p.cli.run(["open", p.cli.path("recs.amanat"), "-o", p.cli.path("recs")], in: p.b)
        #expect(opened.status == 0, "\(opened.stderr)")
        // Then the record batch, the header and the manifest are there, and nothing was left beside the folder
        let batch = try String(contentsOfFile: p.cli.path("recs/records/batch-000001.sd-jwt-lines"), encoding: .utf8)
        #expect(batch.split(separator: "\n").count == 1)
        #expect(FileManager.default.fileExists(atPath: p.cli.path("recs/HEADER.jws")))
        let beside = try FileManager.default.contentsOfDirectory(atPath: p.cli.path(""))
        #expect(!beside.contains { $0.hasPrefix(".recs.") })
    }

    @Test(.requires(.age, .tar, .openssl, .xxd, .python3)) func partnerWithoutAmanatOpensWithStockAgeAndTar() throws {
        let age = try ExternalTool.age.require().path
        let tar = try ExternalTool.tar.require().path
        let p = try Partners()
        defer { p.cli.cleanup() }
        #expect(try p.seal().status == 0)
        #expect(try p.cli.run(["identity", "export", "--age", "-o", p.cli.path("b.agekey")], in: p.b).status == 0)
        // age -d -i key bundle > bundle.tar
        let decrypted = try CLIHarness.runTool(
            age, ["-d", "-i", p.cli.path("b.agekey"), "-o", p.cli.path("case.tar"), p.cli.path("case.amanat")])
        #expect(decrypted.status == 0, "\(decrypted.stderr)")
        let listing = try CLIHarness.runTool(tar, ["-tf", p.cli.path("case.tar")])
        #expect(
            listing.stdout.split(separator: "\n") == [
                "HEADER.jws", "files/verdict.txt", "files/testimony.mp4", "MANIFEST.jws", "MANIFEST.tlog",
            ])
        if let bsdtar = CLIHarness.tool("bsdtar") {
            let other = try CLIHarness.runTool(bsdtar, ["-tf", p.cli.path("case.tar")])
            #expect(
                other.stdout.split(separator: "\n") == [
                    "HEADER.jws", "files/verdict.txt", "files/testimony.mp4", "MANIFEST.jws", "MANIFEST.tlog",
                ])
        }
        let extract = try p.cli.makeFolder("x")
        #expect(try CLIHarness.runTool(tar, ["-xf", p.cli.path("case.tar"), "-C", extract]).status == 0)
        #expect(
            FileManager.default.contents(atPath: extract + "/files/testimony.mp4")
                == FileManager.default.contents(atPath: p.cli.path("testimony.mp4")))

        // The README's recipe: check the manifest signature with openssl and the hashes with sha256sum.
        let script = """
            set -e
            cd '\(extract)'
            x=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["signingKey"]["x"])' '\(p.cli.path("a.json"))')
            { printf '302a300506032b6570032100' | xxd -r -p; printf '%s=' "$x" | basenc -d --base64url; } > sender.der
            openssl pkey -pubin -inform DER -in sender.der -out sender.pem
            cut -d. -f1,2 MANIFEST.jws | tr -d '\\n' > signed-part
            sig=$(cut -d. -f3 MANIFEST.jws | tr -d '\\n')
            printf '%s' "$sig" | tr '_-' '/+' | { cat; printf '=='; } | base64 -d > signature 2>/dev/null || true
            openssl pkeyutl -verify -pubin -inkey sender.pem -rawin -in signed-part -sigfile signature
            cut -d. -f2 MANIFEST.jws | tr '_-' '/+' | { cat; printf '=='; } | base64 -d 2>/dev/null \
              | python3 -c 'import json,sys; [print(e["sha256"]+"  "+e["path"]) for e in json.load(sys.stdin)["entries"]]' > sums
            sha256sum -c sums
            """
        let shell = try CLIHarness.runTool("/bin/sh", ["-c", script])
        #expect(shell.status == 0, "stdout: \(shell.stdout) stderr: \(shell.stderr)")
        #expect(shell.stdout.contains("Signature Verified Successfully"))
        #expect(shell.stdout.contains("files/testimony.mp4: OK"))
    }

    @Test func sealRefusesBadRecipientsAndDuplicateNames() throws {
        let p = try Partners()
        defer { p.cli.cleanup() }
        let unknown = try p.cli.run(
            ["seal", "-r", "nobody", "-o", p.cli.path("x.amanat"), p.cli.path("verdict.txt")], in: p.a)
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("amanat trust list"))
        try p.cli.makeFolder("other")
        try Data("x".utf8).write(to: URL(fileURLWithPath: p.cli.path("other/verdict.txt")))
        let twice = try p.cli.run(
            [
                "seal", "-r", "berlin", "-o", p.cli.path("x.amanat"), p.cli.path("verdict.txt"),
                p.cli.path("other/verdict.txt"),
            ], in: p.a)
        #expect(twice.status == 64)
        #expect(!FileManager.default.fileExists(atPath: p.cli.path("x.amanat")))
        let missing = try p.cli.run(
            ["seal", "-r", "berlin", "-o", p.cli.path("x.amanat"), p.cli.path("absent.pdf")], in: p.a)
        #expect(missing.status == 66)
        // A bare age1 recipient and an identity file work as -r too.
        let recipient = try #require(
            (try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: p.cli.path("b.json"))))
                as? [String: Any])?["ageRecipient"] as? String)
        #expect(
            try p.cli.run(
                [
                    "seal", "-r", recipient, "-r", p.cli.path("b.json"), "-o", p.cli.path("y.amanat"),
                    p.cli.path("verdict.txt"),
                ], in: p.a
            ).status == 0)
        #expect(try p.cli.run(["open", p.cli.path("y.amanat"), "--dry-run"], in: p.b).status == 0)
    }
}
