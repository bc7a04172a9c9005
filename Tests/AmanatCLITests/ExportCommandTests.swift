import AmanatCrypto
import AmanatTestSupport
import Foundation
import Testing

/// `amanat export RECORD [--attachment SHA256]... -o DIR`: attachments out of the encrypted store, verified.
@Suite("export attachments")
struct ExportCommandTests {
    /// A workspace with one record and two attachments (a 200 KiB "photo" spanning several encrypted chunks, and a
    /// small "verdict"): returns the folder, the record id and the attachments' bytes by SHA-256.
    struct Fixture {
        let cli: CLIHarness
        let workspace: String
        let id: String
        let photo: (sha: String, bytes: Data)
        let verdict: (sha: String, bytes: Data)

        init() throws {
            cli = try CLIHarness()
            workspace = try cli.initWorkspace("a", org: "Test Archive One")
            let added = try cli.run(["add", RecordCommandTests.example("en-survivor-public.json")], in: workspace)
            #expect(added.status == 0, "\(added.stderr)")
            id = String(added.stdout.prefix { !$0.isWhitespace })  // the first field: the record id
            var generator = SplitMix64(seed: 14)
            let photoBytes = Data((0..<(200 * 1024)).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
            let verdictBytes = Data("Synthetic court verdict, for tests only.\n".utf8)
            try photoBytes.write(to: URL(fileURLWithPath: cli.path("photo.jpg")))
            try verdictBytes.write(to: URL(fileURLWithPath: cli.path("verdict.pdf")))
            let attached = try cli.run(
                ["attach", "id:" + id, cli.path("photo.jpg"), cli.path("verdict.pdf"), "--kind", "court_verdict"],
                in: workspace)
            #expect(attached.status == 0, "\(attached.stderr)")
            photo = (try Self.sha256(photoBytes), photoBytes)
            verdict = (try Self.sha256(verdictBytes), verdictBytes)
        }

        static func sha256(_ data: Data) throws -> String {
            try SHA256.hash(data).map { String(format: "%02x", $0) }.joined()
        }

        func blob(_ sha: String) -> String { workspace + "/.amanat/blobs/\(sha.prefix(2))/\(sha)" }
    }

    func contents(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    @Test func exportRoundTripsEveryAttachment() throws {
        let f = try Fixture()
        defer { f.cli.cleanup() }
        // When exporting into a folder whose parents do not exist yet
        let out = f.cli.path("cases/0142/export")
        let exported = try f.cli.run(["export", "id:" + f.id, "-o", out], in: f.workspace)
        #expect(exported.status == 0, "\(exported.stderr)")
        // Then the attachments are byte for byte the originals, named by SHA-256 and media type
        #expect(contents(out + "/\(f.photo.sha).jpg") == f.photo.bytes)
        #expect(contents(out + "/\(f.verdict.sha).pdf") == f.verdict.bytes)
        // And record.json is exactly what `show --format json` prints
        let shown = try f.cli.run(["show", "id:" + f.id, "--format", "json"], in: f.workspace)
        #expect(contents(out + "/record.json") == Data(shown.stdout.utf8))
        let names = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        #expect(names == ["\(f.photo.sha).jpg", "\(f.verdict.sha).pdf", "record.json"].sorted())
        // Plaintext outside the store: owner-only files, and a warning
        let mode = try FileManager.default.attributesOfItem(atPath: out + "/record.json")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(exported.stderr.contains("plaintext"))
        // The example record also lists two attachments whose files this workspace never received: skipped, named
        #expect(exported.stderr.components(separatedBy: "not exported").count == 3)
        #expect(exported.stdout.contains(out + "/record.json"))
        // --help says the files are plaintext outside .amanat
        let help = try f.cli.run(["export", "--help"], in: f.workspace)
        #expect(help.stdout.contains("PLAINTEXT outside the encrypted store"))
    }

    @Test func attachmentSelectsSomeAndUnknownHashesListTheRecordsAttachments() throws {
        let f = try Fixture()
        defer { f.cli.cleanup() }
        // A prefix selects one attachment; --json says what was written
        let out = f.cli.path("one")
        let one = try f.cli.run(
            ["export", "id:" + f.id, "--attachment", String(f.verdict.sha.prefix(12)), "-o", out, "--json"],
            in: f.workspace)
        #expect(one.status == 0, "\(one.stderr)")
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: out).sorted() == [
                "\(f.verdict.sha).pdf", "record.json",
            ])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(one.stdout.utf8)) as? [String: Any])
        #expect(report["record"] as? String == f.id)
        let files = try #require(report["files"] as? [[String: Any]])
        #expect(files.map { $0["type"] as? String } == ["record", "attachment"])
        #expect(files[1]["sha256"] as? String == f.verdict.sha)
        #expect(files[1]["path"] as? String == out + "/\(f.verdict.sha).pdf")
        #expect(files[1]["size"] as? Int == f.verdict.bytes.count)
        #expect(files[1]["kind"] as? String == "court_verdict")
        // An unknown hash: exit 66, listing the record's attachments, nothing written
        let unknown = String(repeating: "0", count: 64)
        let missing = try f.cli.run(
            ["export", "id:" + f.id, "--attachment", unknown, "-o", f.cli.path("none")], in: f.workspace)
        #expect(missing.status == 66)
        #expect(missing.stderr.contains(f.photo.sha) && missing.stderr.contains(f.verdict.sha))
        #expect(!FileManager.default.fileExists(atPath: f.cli.path("none")))
    }

    @Test func existingFilesAreRefusedUnlessForced() throws {
        let f = try Fixture()
        defer { f.cli.cleanup() }
        let out = try f.cli.makeFolder("out")
        try Data("mine".utf8).write(to: URL(fileURLWithPath: out + "/record.json"))
        let before = CLIHarness.snapshot(out)
        let refused = try f.cli.run(["export", "id:" + f.id, "-o", out], in: f.workspace)
        #expect(refused.status == 73)
        #expect(refused.stderr.contains("--force"))
        #expect(CLIHarness.snapshot(out) == before)
        let forced = try f.cli.run(["export", "id:" + f.id, "-o", out, "--force"], in: f.workspace)
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(contents(out + "/\(f.photo.sha).jpg") == f.photo.bytes)
        #expect(contents(out + "/record.json") != Data("mine".utf8))
    }

    @Test func aTamperedOrReplacedBlobIsRefusedAndLeavesNothing() throws {
        let f = try Fixture()
        defer { f.cli.cleanup() }
        // Given the photo's encrypted file with one byte flipped in its second chunk
        var blob = try #require(contents(f.blob(f.photo.sha)))
        blob[70_000] ^= 0x01
        try blob.write(to: URL(fileURLWithPath: f.blob(f.photo.sha)))
        // When exporting into a new folder: exit 1 naming the attachment, and neither the folder nor its new
        // parents nor any temporary file is left
        let out = f.cli.path("new/export")
        let tampered = try f.cli.run(["export", "id:" + f.id, "-o", out], in: f.workspace)
        #expect(tampered.status == 1)
        #expect(tampered.stderr.contains(f.photo.sha))
        #expect(tampered.stderr.contains("Nothing was written"))
        #expect(!FileManager.default.fileExists(atPath: f.cli.path("new")))
        // Into an existing folder: nothing appears in it (no partial files either)
        let existing = try f.cli.makeFolder("existing")
        #expect(try f.cli.run(["export", "id:" + f.id, "-o", existing], in: f.workspace).status == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: existing).isEmpty)
        // The other attachment alone still exports
        let other = try f.cli.run(
            ["export", "id:" + f.id, "--attachment", f.verdict.sha, "-o", f.cli.path("other")], in: f.workspace)
        #expect(other.status == 0, "\(other.stderr)")

        // Given the verdict's file replaced by another attachment's (it does not decrypt under the verdict's key)
        try FileManager.default.removeItem(atPath: f.blob(f.verdict.sha))
        try FileManager.default.copyItem(atPath: f.blob(f.photo.sha), toPath: f.blob(f.verdict.sha))
        let replaced = try f.cli.run(
            ["export", "id:" + f.id, "--attachment", f.verdict.sha, "-o", f.cli.path("replaced")], in: f.workspace)
        #expect(replaced.status == 1)
        #expect(replaced.stderr.contains(f.verdict.sha))
        #expect(!FileManager.default.fileExists(atPath: f.cli.path("replaced")))
    }
}
