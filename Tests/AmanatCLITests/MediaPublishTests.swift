import AmanatCrypto
import AmanatRecords
import AmanatTestSupport
import AmanatWorkspace
import Foundation
import Testing

/// `amanat publish` with a policy `media:` section, and `amanat verify` of the derivatives, run as a user would.
@Suite(.requires(.ffmpeg, .ffprobe, .exiftool)) struct MediaPublishTests {
    /// A record (consent public) with a testimony video carrying GPS/device/time/author tags, a timed transcript
    /// in which a synthetic ID number is spoken from 0.4 to 0.6 s, and an ID card photo.
    struct Fixture {
        var cli: CLIHarness
        var workspace: String
        var record: String
        var video: String
        var videoSHA: String
        var photoSHA: String
        var policy: String
        var spec: String
    }

    static func fixture(
        media: String = "  testimony_video: redact\n  default: publish\n  margin: 0.1\n"
    ) throws
        -> Fixture
    {
        let cli = try CLIHarness()
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        let added = try cli.run(["add", PublishCommandTests.example("minimal-partial.json")], in: a)
        #expect(added.status == 0, "\(added.stderr)")
        let record = String(added.stdout.split(separator: "\t").first ?? "")
        let video = try MediaCommandTests.makeVideo(cli)
        let photo = cli.path("card.jpg")
        let ffmpeg = try ExternalTool.ffmpeg.require()
        let made = try Subprocess.run(
            ffmpeg,
            [
                "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=64x48", "-frames:v", "1",
                photo,
            ])
        #expect(made.status == 0, "\(made.stderrText)")
        let vtt = cli.path("t.vtt")
        // A synthetic number (checksum valid, not a real person's).
        try Data(
            "WEBVTT\n\n00:00.000 --> 00:00.400\nHe was taken.\n\n00:00.400 --> 00:00.600\nID 11010519491231002X\n"
                .utf8
        ).write(to: URL(fileURLWithPath: vtt))
        // Attach them as `amanat attach` does, with the media types and kinds a collector would give.
        let workspace = Workspace(
            root: URL(fileURLWithPath: a), passphrase: { SecretBytes(Array("test passphrase 123".utf8)) })
        let service = try RecordService(workspace: workspace)
        var content = try service.editableContent(record).content
        var list: [JSONValue] = []
        var hashes: [String] = []
        for (file, kind, type) in [
            (video, "testimony_video", "video/mp4"), (vtt, "other", "text/vtt"), (photo, "id_card_photo", "image/jpeg"),
        ] {
            let (sha, size) = try service.importBlob(file)
            hashes.append(sha)
            list.append(
                .object([
                    ("kind", .string(kind)), ("mediaType", .string(type)), ("sha256", .string(sha)),
                    ("size", .number(String(size))),
                ]))
        }
        content = content.setting("attachments", .array(list)).sortedKeys()
        _ = try service.edit(record, content: content, key: try workspace.signingKey())
        let policy = cli.path("policy.yaml")
        let base = try String(contentsOfFile: PublishCommandTests.publicPolicy, encoding: .utf8)
        try Data((base + "\nmedia:\n" + media).utf8).write(to: URL(fileURLWithPath: policy))
        let spec = cli.path("spec.json")
        try Data(
            #"{"amanat_media_redaction": 1, "rectangles": [{"x": 8, "y": 8, "width": 64, "height": 32}], "intervals": [{"start": 0.1, "end": 0.2}]}"#
                .utf8
        ).write(to: URL(fileURLWithPath: spec))
        return Fixture(
            cli: cli, workspace: a, record: record, video: video, videoSHA: hashes[0], photoSHA: hashes[2],
            policy: policy, spec: spec)
    }

    static func exiftoolLeaks(_ path: String) throws -> [String] {
        let exiftool = try #require(ExternalTool.exiftool.url)
        let result = try Subprocess.run(exiftool, ["-a", "-G1", "-s", "-n", path])
        #expect(result.status == 0)
        let words = ["gps", "location", "make", "model", "author", "artist", "creator", "date", "software"]
        return result.stdoutText.split(separator: "\n").map(String.init).filter { line in
            guard !line.hasPrefix("[System]"), !line.hasPrefix("[ExifTool]") else { return false }
            let name =
                line.split(separator: ":").first.map {
                    $0.split(separator: "]").last.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
                } ?? ""
            guard words.contains(where: { name.contains($0) }) else { return false }
            return !line.hasSuffix("0000:00:00 00:00:00")
        }
    }

    @Test func redactedVideoIsPublishedSignedAndVerifies() throws {
        let f = try Self.fixture()
        defer { f.cli.cleanup() }
        #expect(try Self.exiftoolLeaks(f.video).count >= 3, "the fixture must carry metadata to remove")
        let out = f.cli.path("published")
        let published = try f.cli.run(
            ["publish", "--policy", f.policy, "-o", out, "--media-spec", "\(f.videoSHA)=\(f.spec)"], in: f.workspace)
        #expect(published.status == 0, "\(published.stderr)")
        let media = try FileManager.default.contentsOfDirectory(atPath: out + "/media").sorted()
        let derivatives = media.filter { $0.hasSuffix(".mp4") }
        #expect(derivatives.count == 1, "\(media)")
        // The ID card photo is withheld although the policy's default is publish; the transcript is no media.
        #expect(!media.contains { $0.hasSuffix(".jpg") }, "\(media)")
        let derivative = out + "/media/" + (derivatives.first ?? "?")
        #expect(media.contains(String((derivatives.first ?? "?").dropLast(4)) + ".media.jws"))
        #expect(try Self.exiftoolLeaks(derivative) == [])
        let index = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/index.json")))
                as? [String: Any])
        let listed = try #require(index["media"] as? [[String: Any]])
        #expect(listed.count == 1 && listed.first?["originalSha256"] as? String == f.videoSHA)
        #expect(listed.first?["record"] as? String == f.record && listed.first?["action"] as? String == "redact")

        // verify: hash, signature, and the original in the signed record.
        let verified = try f.cli.run(["verify", derivative, "--json"], in: f.workspace)
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        let results = try #require(
            try JSONSerialization.jsonObject(with: Data(verified.stdout.utf8)) as? [[String: Any]])
        let report = try #require(results.first?["media"] as? [String: Any])
        #expect(report["originalSha256"] as? String == f.videoSHA)
        #expect(report["rectangles"] as? Int == 1)
        // The spec's interval and the one the transcript's ID number adds.
        #expect(report["intervals"] as? Int == 2, "\(report)")
        #expect((report["metadataRemoved"] as? [String])?.isEmpty == false)
        #expect(!verified.stdout.contains("11010519491231002X"))

        // With the original: figures printed, and they pass.
        let compared = try f.cli.run(["verify", derivative, "--original", f.video], in: f.workspace)
        #expect(compared.status == 0, "\(compared.stdout)\(compared.stderr)")
        #expect(compared.stdout.contains("PSNR outside the rectangles min"), "\(compared.stdout)")
        #expect(compared.stdout.contains("audio correlation"), "\(compared.stdout)")
        #expect(compared.stdout.contains("differs only inside the declared regions"))

        // Another file given as the original: refused.
        let photo = f.cli.path("card.jpg")
        let wrong = try f.cli.run(["verify", derivative, "--original", photo], in: f.workspace)
        #expect(wrong.status == 1 && wrong.stderr.contains("is not the original"), "\(wrong.stderr)")

        // Tampering: a changed derivative, a changed annotation, each fails with exit 1.
        let copy = f.cli.path("copy")
        try FileManager.default.copyItem(atPath: out, toPath: copy)
        let tampered = copy + "/media/" + (derivatives.first ?? "?")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: tampered))
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: tampered))
        let badDerivative = try f.cli.run(["verify", tampered], in: f.workspace)
        #expect(badDerivative.status == 1 && badDerivative.stderr.contains("altered or replaced"))
        try FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: out, toPath: copy)
        let annotation = copy + "/media/" + String((derivatives.first ?? "?").dropLast(4)) + ".media.jws"
        let jws = try String(contentsOfFile: annotation, encoding: .utf8)
        var parts = jws.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").map(String.init)
        let payload = try #require(Base64URL.decode(parts[1]))
        let changed = String(decoding: payload, as: UTF8.self).replacingOccurrences(
            of: "\"width\":64", with: "\"width\":8")
        #expect(changed != String(decoding: payload, as: UTF8.self))
        parts[1] = Base64URL.encode(Array(changed.utf8))
        try Data((parts.joined(separator: ".") + "\n").utf8).write(to: URL(fileURLWithPath: annotation))
        let badAnnotation = try f.cli.run(["verify", copy + "/media/" + (derivatives.first ?? "?")], in: f.workspace)
        #expect(badAnnotation.status == 1 && badAnnotation.stderr.contains("signature does not verify"))
    }

    @Test func redactWithoutSpecRefusesTheWholePublication() throws {
        let f = try Self.fixture()
        defer { f.cli.cleanup() }
        let out = f.cli.path("published")
        let refused = try f.cli.run(["publish", "--policy", f.policy, "-o", out], in: f.workspace)
        #expect(refused.status == 65, "\(refused.stderr)")
        #expect(refused.stderr.contains("record \(f.record)") && refused.stderr.contains("testimony_video"))
        #expect(refused.stderr.contains("--media-spec \(f.videoSHA)=SPEC.json"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: f.cli.path(".")).allSatisfy {
                !$0.hasPrefix(".published")
            })
        // No decrypted attachment is left in .amanat/.
        let dot = try FileManager.default.contentsOfDirectory(atPath: f.workspace + "/.amanat")
        #expect(!dot.contains { $0.contains("amanat-partial") }, "\(dot)")
    }

    @Test func withheldByDefaultAndNamedIdentityDocumentsArePublished() throws {
        // Without a media section nothing of the attachments is published.
        let f = try Self.fixture(media: "  id_card_photo: publish\n")
        defer { f.cli.cleanup() }
        let out = f.cli.path("published")
        let published = try f.cli.run(["publish", "--policy", f.policy, "-o", out], in: f.workspace)
        #expect(published.status == 0, "\(published.stderr)")
        let media = try FileManager.default.contentsOfDirectory(atPath: out + "/media").sorted()
        // Only the photo, named explicitly; the video (not named) is withheld.
        #expect(media.filter { $0.hasSuffix(".jpg") }.count == 1 && !media.contains { $0.hasSuffix(".mp4") })
        let photo = out + "/media/" + (media.first { $0.hasSuffix(".jpg") } ?? "?")
        let verified = try f.cli.run(["verify", photo], in: f.workspace)
        #expect(verified.status == 0, "\(verified.stderr)")
        // Without ffmpeg: exit 69, nothing written.
        let none = f.cli.path("none")
        let noTools = try f.cli.run(
            ["publish", "--policy", f.policy, "-o", none], in: f.workspace,
            environment: ["PATH": f.cli.path("empty-bin")])
        #expect(noTools.status == 69, "\(noTools.stderr)")
        #expect(!FileManager.default.fileExists(atPath: none))
    }
}
