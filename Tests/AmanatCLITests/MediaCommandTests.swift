import AmanatTestSupport
import Foundation
import Testing

/// `amanat redact-media` and `amanat scan` on media, run as a user would.
@Suite(.requires(.ffmpeg, .ffprobe)) struct MediaCommandTests {
    /// A 1 s 160x120 test pattern with a tone and GPS, device, time and author tags.
    static func makeVideo(_ cli: CLIHarness, name: String = "in.mp4") throws -> String {
        let path = cli.path(name)
        let ffmpeg = try ExternalTool.ffmpeg.require()
        let result = try Subprocess.run(
            ffmpeg,
            [
                "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=160x120:r=10:d=1", "-f",
                "lavfi", "-i", "sine=frequency=440:sample_rate=16000:d=1", "-c:v", "libx264", "-preset", "ultrafast",
                "-c:a", "aac", "-metadata", "location=+43.8000+087.6000/", "-metadata", "make=SynthCam", "-metadata",
                "model=S1", "-metadata", "creation_time=2024-01-02T03:04:05Z", "-metadata", "artist=Synthetic Author",
                "-movflags", "use_metadata_tags", path,
            ])
        #expect(result.status == 0, "\(result.stderrText)")
        return path
    }

    @Test func redactsAndScanReportsMetadata() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let input = try Self.makeVideo(cli)
        let scan = try cli.run(["scan", input], passphrase: nil)
        #expect(scan.status == 1)
        for word in ["location", "device", "time", "author", "SynthCam", "(present)"] {
            #expect(scan.stdout.contains(word), "scan output lacks \(word): \(scan.stdout)")
        }
        #expect(!scan.stdout.contains("43.8"), "the position itself must not be printed")
        let spec = cli.path("spec.json")
        try Data(
            #"{"amanat_media_redaction": 1, "rectangles": [{"x": 8, "y": 8, "width": 64, "height": 32}], "intervals": [{"start": 0.2, "end": 0.5}]}"#
                .utf8
        ).write(to: URL(fileURLWithPath: spec))
        let output = cli.path("out.mp4")
        let redact = try cli.run(["redact-media", input, "--spec", spec, "-o", output], passphrase: nil)
        #expect(redact.status == 0, "\(redact.stderr)")
        #expect(redact.stdout.contains("rectangles covered: 1") && redact.stdout.contains("format: location"))
        let clean = try cli.run(["scan", output], passphrase: nil)
        #expect(clean.status == 0 && clean.stdout.contains("no identifying metadata"), "\(clean.stdout)")
        let json = try cli.run(
            ["redact-media", input, "--spec", spec, "-o", cli.path("out2.mp4"), "--json"], passphrase: nil)
        #expect(json.status == 0 && json.stdout.contains("\"type\":\"amanat-media-annotation/1\""))
    }

    /// A photo whose name holds `%` is that file, not a frame-number pattern (`b%d.jpg` would open `b1.jpg`), and
    /// an output name with `%` is written as given.
    @Test func percentInAPhotoNameIsNoPattern() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let ffmpeg = try ExternalTool.ffmpeg.require()
        for (name, size) in [("b%d.jpg", "64x48"), ("b1.jpg", "32x24")] {
            let made = try Subprocess.run(
                ffmpeg,
                [
                    "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=\(size)", "-frames:v",
                    "1", "-update", "1", cli.path(name),
                ])
            #expect(made.status == 0, "\(made.stderrText)")
        }
        let output = cli.path("out%d.jpg")
        let result = try cli.run(["redact-media", cli.path("b%d.jpg"), "-o", output, "--json"], passphrase: nil)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            FileManager.default.fileExists(atPath: output)
                && !FileManager.default.fileExists(atPath: cli.path("out1.jpg")))
        let ffprobe = try ExternalTool.ffprobe.require()
        let probe = try Subprocess.run(
            ffprobe,
            [
                "-v", "error", "-f", "image2", "-pattern_type", "none", "-show_entries", "stream=width", "-of",
                "csv=p=0",
                "file:" + output,
            ])
        #expect(probe.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "64", "\(probe.stdoutText)")
    }

    @Test func transcriptIdentifiersAreMuted() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let input = try Self.makeVideo(cli)
        let vtt = cli.path("t.vtt")
        // A synthetic number (checksum valid, not a real person's), spoken from 0.4 to 0.6 s.
        try Data(
            "WEBVTT\n\n00:00.000 --> 00:00.400\nHe was taken.\n\n00:00.400 --> 00:00.600\nID 11010519491231002X\n"
                .utf8
        ).write(to: URL(fileURLWithPath: vtt))
        let output = cli.path("out.mp4")
        let result = try cli.run(
            ["redact-media", input, "--transcript", vtt, "--margin", "0.1", "-o", output, "--json"], passphrase: nil)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("1 identifier in the transcript muted"))
        #expect(result.stdout.contains("\"intervals\":[{\"audio\":\"mute\",\"end\":0.7"), "\(result.stdout)")
        #expect(!result.stdout.contains("11010519491231002X"))
        let broken = cli.path("bad.vtt")
        try Data("WEBVTT\n\n00:00.500 --> 00:00.100\nx\n".utf8).write(to: URL(fileURLWithPath: broken))
        let refused = try cli.run(
            ["redact-media", input, "--transcript", broken, "-o", cli.path("never.mp4")], passphrase: nil)
        #expect(refused.status == 65 && refused.stderr.contains("line 3"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: cli.path("never.mp4")))
    }

    @Test func badInputExitsWithTheDocumentedCodeAndWritesNothing() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let input = try Self.makeVideo(cli)
        let data = try #require(FileManager.default.contents(atPath: input))
        try data.prefix(data.count / 4).write(to: URL(fileURLWithPath: cli.path("cut.mp4")))
        func spec(_ name: String, _ text: String) throws -> String {
            try Data(text.utf8).write(to: URL(fileURLWithPath: cli.path(name)))
            return cli.path(name)
        }
        let outside = try spec(
            "outside.json",
            #"{"amanat_media_redaction": 1, "rectangles": [{"x": 150, "y": 0, "width": 20, "height": 10}]}"#)
        let late = try spec("late.json", #"{"amanat_media_redaction": 1, "intervals": [{"start": 0.5, "end": 3}]}"#)
        let unknown = try spec("unknown.json", #"{"amanat_media_redaction": 1, "blur": true}"#)
        let out = cli.path("published/out.mp4")
        try cli.makeFolder("published")
        let cases: [([String], Int32, String)] = [
            (["redact-media", cli.path("cut.mp4"), "-o", out], 65, "not a readable media file"),
            (["redact-media", input, "--spec", outside, "-o", out], 65, "outside the 160x120 frame"),
            (["redact-media", input, "--spec", late, "-o", out], 65, "past the end"),
            (["redact-media", input, "--spec", unknown, "-o", out], 65, "unknown key"),
            (["redact-media", cli.path("nothing.mp4"), "-o", out], 66, "does not exist"),
            (["redact-media", input, "-o", cli.path("published/out.avi")], 64, "derivatives are written as"),
        ]
        for (arguments, status, message) in cases {
            let result = try cli.run(arguments, passphrase: nil)
            #expect(result.status == status, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: cli.path("published")) == [])
        }
        // Without ffmpeg on PATH: exit 69 and a message saying what to install.
        let noTools = try cli.run(
            ["redact-media", input, "-o", out], passphrase: nil, environment: ["PATH": cli.path("empty-bin")])
        #expect(noTools.status == 69 && noTools.stderr.contains("apt-get install ffmpeg"), "\(noTools.stderr)")
        let scanNoTools = try cli.run(["scan", input], passphrase: nil, environment: ["PATH": cli.path("empty-bin")])
        #expect(scanNoTools.status == 69)
        #expect(try FileManager.default.contentsOfDirectory(atPath: cli.path("published")) == [])
    }
}
