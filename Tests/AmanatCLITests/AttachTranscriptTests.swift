import AmanatTestSupport
import Foundation
import Testing

/// `amanat attach FILE.vtt --transcript`: a timed transcript is checked strictly, attached with its media type, and
/// its cue texts become the record's transcript.
@Suite("attach a timed transcript")
struct AttachTranscriptTests {
    @Test func aTimedTranscriptBecomesTheRecordsTranscript() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let dir = try cli.initWorkspace("ws", org: "Transcript Test Org")
        let added = try cli.run(["add", RecordCommandTests.example("minimal-partial.json")], in: dir)
        let record = String(added.stdout.prefix(while: { $0 != "\t" }))
        let vtt = PackagePaths.url("Specs/examples/media/testimony-video.vtt").path
        let attached = try cli.run(["attach", record, vtt, "--transcript"], in: dir)
        #expect(attached.status == 0, "\(attached.stderr)")
        let shown = try cli.run(["show", record, "--format", "json"], in: dir)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])
        let transcript = try #require((json["testimony"] as? [String: Any])?["transcript"] as? String)
        #expect(!transcript.isEmpty && !transcript.contains("-->"))
        let attachments = try #require(json["attachments"] as? [[String: Any]])
        #expect(attachments.contains { $0["mediaType"] as? String == "text/vtt" })
        // A malformed transcript is refused before anything is stored or signed.
        try Data("WEBVTT\n\n00:00:02.000 --> 00:00:01.000\nbackwards\n".utf8).write(
            to: URL(fileURLWithPath: cli.path("bad.vtt")))
        let before = try cli.run(["show", record, "--history"], in: dir).stdout
        let bad = try cli.run(["attach", record, cli.path("bad.vtt"), "--transcript"], in: dir)
        #expect(bad.status == 65, "\(bad.stderr)")
        #expect(bad.stderr.contains("bad.vtt, line"))
        #expect(try cli.run(["show", record, "--history"], in: dir).stdout == before)
        // A timed translation goes to testimony.translations with its language.
        let srt = PackagePaths.url("Specs/examples/media/testimony-video.srt").path
        #expect(try cli.run(["attach", record, srt, "--translation", "en"], in: dir).status == 0)
        let again = try cli.run(["show", record, "--format", "json"], in: dir)
        let after = try #require(try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])
        let translations = try #require((after["testimony"] as? [String: Any])?["translations"] as? [[String: Any]])
        #expect(translations.count == 1 && translations[0]["language"] as? String == "en")
        #expect(!(translations[0]["text"] as? String ?? "").isEmpty)
        #expect(try cli.run(["attach", record, srt, "--translation", "en", "--transcript"], in: dir).status == 64)
        // --transcript takes one timed transcript only.
        #expect(try cli.run(["attach", record, vtt, vtt, "--transcript"], in: dir).status == 64)
        #expect(try cli.run(["attach", record, "--kind", "testimony_audio", vtt], in: dir).status == 0)
    }
}
