import Foundation
import Testing

@testable import AmanatRedaction

@Suite("Redaction policies: the media section")
struct MediaPolicyTests {
    static let minimal = """
        policy: test
        version: 1
        consent: [public]
        fields:
          schema: keep
        identifiers:
          phone: strip

        """

    func parse(_ media: String) throws -> MediaPolicy {
        try RedactionPolicy.parse(Array((Self.minimal + media).utf8)).media
    }

    /// The line and reason of the error a media section raises (nil if it parses).
    func error(_ media: String) -> (Int, String)? {
        do {
            _ = try parse(media)
            return nil
        } catch let error as PolicyError {
            return (error.line, error.reason)
        } catch {
            return (-1, "\(error)")
        }
    }

    @Test func everythingIsWithheldWithoutAMediaSection() throws {
        let media = try parse("")
        for kind in MediaPolicy.kinds { #expect(media.action(for: kind) == .withhold) }
        #expect(media.action(for: nil) == .withhold && !media.publishesAnything)
        #expect(media.margin == MediaPolicy.defaultMargin)
    }

    @Test func kindsDefaultAndMargin() throws {
        let media = try parse(
            """
            media:
              testimony_video: redact
              testimony_audio: redact
              photo: withhold
              default: publish
              margin: 1.5

            """)
        #expect(media.action(for: "testimony_video") == .redact)
        #expect(media.line(for: "testimony_video") == 9)
        #expect(media.action(for: "photo") == .withhold)
        #expect(media.action(for: "letter") == .publish && media.action(for: nil) == .publish)
        // Identity documents are never published by the default: only when named.
        for kind in MediaPolicy.identityDocumentKinds { #expect(media.action(for: kind) == .withhold) }
        #expect(media.margin == 1.5 && media.publishesAnything)
        let named = try parse("media:\n  passport_photo: publish\n")
        #expect(named.action(for: "passport_photo") == .publish && named.action(for: "id_card_photo") == .withhold)
    }

    @Test func mistakesAreErrorsWithLineNumbers() {
        let cases: [(String, Int, String)] = [
            ("media:\n  tesimony_video: redact\n", 9, "unknown attachment kind 'tesimony_video'"),
            ("media:\n  photo: blur\n", 9, "unknown action 'blur'"),
            ("media:\n  margin: 11\n", 9, "from 0 to 10"),
            ("media:\n  margin: soon\n", 9, "from 0 to 10"),
            ("media:\n  default: redact\n", 9, "name the kinds to redact"),
            ("media:\n  photo: [publish]\n", 9, "must be a single value"),
            ("media: publish\n", 8, "'media' must be a mapping"),
        ]
        for (text, line, reason) in cases {
            let found = error(text)
            #expect(found?.0 == line, "\(text): \(String(describing: found))")
            #expect(found?.1.contains(reason) == true, "\(text): \(String(describing: found))")
        }
    }
}
