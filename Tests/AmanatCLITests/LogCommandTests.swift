import AmanatTestSupport
import Foundation
import Testing

/// `amanat log` as a user runs it, and bundles whose log material was tampered with.
@Suite("amanat log")
struct LogCommandTests {
    typealias Partners = BundleCommandTests.Partners

    @Test func showEntriesProveExportAuditThroughTheCommandLine() throws {
        let p = try Partners()
        defer { p.cli.cleanup() }
        let added = try p.cli.run(["add", RecordCommandTests.example("en-survivor-public.json")], in: p.a)
        #expect(added.status == 0, "\(added.stderr)")
        // A record's id is the id of its first version.
        let version = String(added.stdout.prefix(while: { $0 != "\t" }))
        #expect(version.count == 43)
        let entries = try p.cli.run(["log", "entries"], in: p.a)
        #expect(entries.status == 0)
        #expect(entries.stdout.hasPrefix("0\trecord-version\t\(version)\t"))
        // A prefix is given as id:PREFIX, which also works when the id starts with '-' (one id in 64).
        let proof = try p.cli.run(["log", "prove", "id:" + String(version.prefix(8))], in: p.a)
        #expect(proof.status == 0, "\(proof.stderr)")
        #expect(proof.stdout.hasPrefix("c2sp.org/tlog-proof@v1\n"))
        // seal, open at berlin (cosigns), seal back: steppe's log shows berlin's cosignature
        #expect(try p.cli.run(["seal", "-r", "berlin", "--all", "-o", p.cli.path("r.amanat")], in: p.a).status == 0)
        let inspected = try p.cli.run(["inspect", p.cli.path("r.amanat")], in: p.b)
        #expect(inspected.status == 0, "\(inspected.stderr)")
        #expect(inspected.stdout.contains("Log         manifest in the log of steppe at index 1 of size 2"))
        let opened = try p.cli.run(["open", p.cli.path("r.amanat"), "--json"], in: p.b)
        #expect(opened.status == 0, "\(opened.stderr)")
        #expect(opened.stdout.contains("\"cosigned\" : true"))
        #expect(
            try p.cli.run(["seal", "-r", "steppe", "--since-last", "-o", p.cli.path("b.amanat")], in: p.b).status == 0)
        let back = try p.cli.run(["open", p.cli.path("b.amanat")], in: p.a)
        #expect(back.status == 0)
        #expect(
            back.stderr.contains("Its manifest is in berlin's log (checkpoint of 1 entries), the first checkpoint seen")
        )
        let show = try p.cli.run(["log", "show"], in: p.a)
        #expect(show.status == 0)
        #expect(show.stdout.contains("Cosigned:   by berlin"))
        #expect(show.stdout.contains("Entries:    2"))
        let status = try p.cli.run(["status", "--json"], in: p.a)
        #expect(status.stdout.contains("\"logSize\" : 2") && status.stdout.contains("\"logAlarms\" : 0"))
        // export for an auditor, audit without a workspace
        #expect(try p.cli.run(["log", "export", "-o", p.cli.path("audit")], in: p.a).status == 0)
        let audit = try p.cli.run(["log", "audit", p.cli.path("audit"), "--identity", p.cli.path("b.json")])
        #expect(audit.status == 0, "\(audit.stderr)")
        #expect(audit.stdout.contains("2 entries hash to the signed root"))
        #expect(audit.stdout.contains("Cosigned by Test Database Two"))
        let none = try p.cli.run(["log", "alarms"], in: p.b)
        #expect(none.status == 0 && none.stdout.contains("No fork detected"))
    }

    /// `amanat verify` reports a version's place in the log, the publication's proof beside it, and the trusted
    /// timestamp over a checkpoint that holds it; a wrong proof fails the file.
    @Test(.requires(.openssl, .python3)) func verifyReportsTheLogAndTheTimestamp() throws {
        let tsa = try TimestampCommandTests.tsa.get()
        let p = try Partners()
        defer { p.cli.cleanup() }
        let added = try p.cli.run(["add", RecordCommandTests.example("en-survivor-public.json")], in: p.a)
        let record = String(added.stdout.prefix(while: { $0 != "\t" }))
        let ca = try tsa.writeCA(into: p.cli.folder)
        #expect(
            try p.cli.run(["timestamp", "tsa", "add", "local", "--url", tsa.baseURL + "/tsa", "--ca", ca], in: p.a)
                .status == 0)
        let stamped = try p.cli.run(["timestamp"], in: p.a)
        #expect(stamped.status == 0, "\(stamped.stderr)")
        #expect(stamped.stdout.contains("the log checkpoint of 1 entries existed no later than"))
        let sdjwt = try p.cli.run(["show", record, "--format", "sd-jwt"], in: p.a)
        let verified = try p.cli.run(["verify", "-"], in: p.a, stdin: Data(sdjwt.stdout.utf8))
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(
            verified.stdout.contains("version in the log of this workspace (Test Archive One) at index 0 of size 1"))
        #expect(verified.stdout.contains("version existed no later than 20"))
        #expect(verified.stdout.contains("(TSA local)"))
        // A publication carries its proof; anyone checks it with the identity files beside it.
        let published = try p.cli.run(
            ["publish", "--policy", PackagePaths.url("Specs/policies/public.yaml").path, "-o", p.cli.path("pub")],
            in: p.a)
        #expect(published.status == 0, "\(published.stderr)")
        let proof = p.cli.path("pub/\(record).tlog-proof")
        #expect(FileManager.default.fileExists(atPath: proof))
        let identities = try FileManager.default.contentsOfDirectory(atPath: p.cli.path("pub"))
            .filter { $0.hasSuffix(".identity.json") }.flatMap { ["--identity", p.cli.path("pub/" + $0)] }
        let reader = try p.cli.run(["verify", p.cli.path("pub/\(record).sd-jwt")] + identities)
        #expect(reader.status == 0, "\(reader.stderr)")
        #expect(
            reader.stdout.contains("publication in the log of 'Test Archive One' (identity file) at index 1 of size 2"))
        // The presented version was in a timestamped checkpoint: its proof and the token travel with the publication.
        #expect(FileManager.default.fileExists(atPath: p.cli.path("pub/\(record).version.tst")))
        #expect(reader.stdout.contains("give --tsa-ca FILE"))
        let withCA = try p.cli.run(["verify", p.cli.path("pub/\(record).sd-jwt"), "--tsa-ca", ca] + identities)
        #expect(withCA.status == 0, "\(withCA.stderr)")
        #expect(withCA.stdout.contains("version existed no later than 20"))
        #expect(withCA.stdout.contains("(TSA CN=Local Test TSA,O=Amanat Test)"), "\(withCA.stdout)")
        // One hash of the proof changed: the publication no longer verifies.
        var text = try String(contentsOfFile: proof, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var hash = Array(lines[2])
        hash[0] = hash[0] == "A" ? "B" : "A"
        text = ([lines[0], lines[1], Substring(String(hash))] + lines.dropFirst(3)).joined(separator: "\n")
        try Data(text.utf8).write(to: URL(fileURLWithPath: proof))
        let tampered = try p.cli.run(["verify", p.cli.path("pub/\(record).sd-jwt")] + identities)
        #expect(tampered.status == 1, "\(tampered.stdout)")
        #expect(tampered.stderr.contains("log does not verify"))
    }

    /// A timestamp over the sender's checkpoint travels in its bundle; a partner whose TSA list trusts that TSA keeps
    /// it, and `verify` there says when the sender's version existed at the latest.
    @Test(.requires(.openssl, .python3)) func timestampsTravelInBundles() throws {
        let tsa = try TimestampCommandTests.tsa.get()
        let p = try Partners()
        defer { p.cli.cleanup() }
        let added = try p.cli.run(["add", RecordCommandTests.example("en-survivor-public.json")], in: p.a)
        let record = String(added.stdout.prefix(while: { $0 != "\t" }))
        let ca = try tsa.writeCA(into: p.cli.folder)
        for dir in [p.a, p.b] {
            #expect(
                try p.cli.run(["timestamp", "tsa", "add", "local", "--url", tsa.baseURL + "/tsa", "--ca", ca], in: dir)
                    .status == 0)
        }
        #expect(try p.cli.run(["timestamp"], in: p.a).status == 0)
        #expect(try p.cli.run(["seal", "-r", "berlin", "--all", "-o", p.cli.path("r.amanat")], in: p.a).status == 0)
        let opened = try p.cli.run(["open", p.cli.path("r.amanat"), "--json"], in: p.b)
        #expect(opened.status == 0, "\(opened.stderr)")
        #expect(opened.stdout.contains("\"timestamps\" : 1"), "\(opened.stdout)")
        let sdjwt = try p.cli.run(["show", record, "--format", "sd-jwt"], in: p.b)
        let verified = try p.cli.run(["verify", "-"], in: p.b, stdin: Data(sdjwt.stdout.utf8))
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.contains("version in the log of steppe at index 0 of size 1"), "\(verified.stdout)")
        #expect(verified.stdout.contains("checkpoint cosigned by this workspace"))
        #expect(verified.stdout.contains("version existed no later than 20"))
        // Without the TSA on its list, a partner keeps nothing it cannot check.
        let c = try p.cli.initWorkspace("c", org: "Test Third Org")
        try p.cli.run(["identity", "export", "-o", p.cli.path("c.json")], in: c)
        #expect(try p.cli.run(["trust", "add", p.cli.path("c.json"), "--name", "third"], in: p.a).status == 0)
        #expect(try p.cli.run(["trust", "add", p.cli.path("a.json"), "--name", "steppe"], in: c).status == 0)
        #expect(try p.cli.run(["seal", "-r", "third", "--all", "-o", p.cli.path("c.amanat")], in: p.a).status == 0)
        let third = try p.cli.run(["open", p.cli.path("c.amanat"), "--json"], in: c)
        #expect(third.status == 0, "\(third.stderr)")
        #expect(third.stdout.contains("\"timestamps\" : 0"))
    }

    /// A byte changed in `MANIFEST.tlog` (re-encrypted with the stock age, so the bundle still decrypts and its
    /// manifest still verifies) refuses the import: exit 1, nothing imported.
    @Test(.requires(.age, .python3)) func aTamperedManifestProofRefusesTheBundle() throws {
        let age = try ExternalTool.age.require().path
        let p = try Partners()
        defer { p.cli.cleanup() }
        #expect(try p.cli.run(["add", RecordCommandTests.example("en-survivor-public.json")], in: p.a).status == 0)
        #expect(try p.cli.run(["seal", "-r", "berlin", "--all", "-o", p.cli.path("r.amanat")], in: p.a).status == 0)
        #expect(try p.cli.run(["identity", "export", "--age", "-o", p.cli.path("b.agekey")], in: p.b).status == 0)
        #expect(
            try CLIHarness.runTool(
                age, ["-d", "-i", p.cli.path("b.agekey"), "-o", p.cli.path("r.tar"), p.cli.path("r.amanat")]
            )
            .status == 0)
        let tar = try Data(contentsOf: URL(fileURLWithPath: p.cli.path("r.tar")))
        let listing = try CLIHarness.runTool("/usr/bin/tar", ["-tf", p.cli.path("r.tar")])
        #expect(listing.stdout.split(separator: "\n").last == "MANIFEST.tlog")
        // The last hash line of the manifest proof: change one base64 character.
        var bytes = [UInt8](tar)
        let marker = Array("c2sp.org/tlog-proof@v1\nindex ".utf8)
        // The last proof in the archive is the manifest's, in MANIFEST.tlog (the versions' come before it).
        let start = try #require(
            (0..<(bytes.count - marker.count)).last { Array(bytes[$0..<$0 + marker.count]) == marker })
        let lineStart = try #require(
            bytes[start...].firstIndex(of: 0x0A).flatMap { bytes[($0 + 1)...].firstIndex(of: 0x0A) })
        bytes[lineStart + 1] = bytes[lineStart + 1] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        try Data(bytes).write(to: URL(fileURLWithPath: p.cli.path("t.tar")))
        let identity = try String(contentsOf: URL(fileURLWithPath: p.cli.path("b.json")), encoding: .utf8)
        let recipient = try #require(
            identity.split(separator: "\"").first { $0.hasPrefix("age1") }.map(String.init))
        #expect(
            try CLIHarness.runTool(age, ["-r", recipient, "-o", p.cli.path("t.amanat"), p.cli.path("t.tar")]).status
                == 0)
        let inspected = try p.cli.run(["inspect", p.cli.path("t.amanat")], in: p.b)
        #expect(inspected.status == 1, "\(inspected.stderr)")
        #expect(inspected.stderr.contains("does not verify"))
        let opened = try p.cli.run(["open", p.cli.path("t.amanat")], in: p.b)
        #expect(opened.status == 1, "\(opened.stderr)")
        #expect(opened.stderr.contains("proof"))
        #expect(try p.cli.run(["status", "--json"], in: p.b).stdout.contains("\"versions\" : 0"))
    }
}
