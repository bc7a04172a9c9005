import AmanatCrypto
import AmanatRedaction
import ArgumentParser
import Foundation
import Testing

@testable import AmanatCLI

/// `amanat scan`: argument parsing, JSON shape, masking, exit codes (run as a child process, as a user would).
@Suite struct ScanCommandTests {
    @Test func parsesFilesAndJSONFlag() throws {
        let command = try ScanCommand.parse(["a.txt", "b.json", "--json"])
        #expect(command.files == ["a.txt", "b.json"])
        #expect(command.json)
        #expect(throws: (any Error).self) { try ScanCommand.parse([]) }
        #expect(ScanCommand.configuration.commandName == "scan")
    }

    @Test func jsonOutputShapeAndExitStatusOne() throws {
        let harness = try CLIHarness()
        defer { harness.cleanup() }
        // Given a text file with a Chinese ID glued to Chinese text and a Kazakh phone,
        let text = "身份证号65010219800101139X，他在伊宁。Тел. +7 (701) 234-56-78\n"
        try text.write(toFile: harness.path("a.txt"), atomically: true, encoding: .utf8)
        // When it is scanned with --json,
        let result = try harness.run(["scan", "--json", "a.txt"], passphrase: nil)
        // Then exit status 1 and one JSON array with byte offsets and normalized values.
        #expect(result.status == 1)
        let array = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(array.count == 2)
        #expect(
            array.map { Set($0.keys) }.allSatisfy { $0 == ["file", "kind", "start", "end", "value", "confidence"] })
        #expect(array[0]["kind"] as? String == "cn_resident_id")
        #expect(array[0]["start"] as? Int == 12)
        #expect(array[0]["end"] as? Int == 30)
        #expect(array[0]["value"] as? String == "65010219800101139X")
        #expect(array[0]["confidence"] as? String == "valid")
        #expect(array[1]["value"] as? String == "+77012345678")
        #expect(array.allSatisfy { $0["file"] as? String == "a.txt" })
    }

    @Test func humanSummaryNeverShowsFullValues() throws {
        let harness = try CLIHarness()
        defer { harness.cleanup() }
        try "ЖСН: 910317 300400\n身份证 650102198001011235\n".write(
            toFile: harness.path("b.txt"), atomically: true, encoding: .utf8)
        let result = try harness.run(["scan", "b.txt"], passphrase: nil)
        #expect(result.status == 1)
        #expect(!result.stdout.contains("910317300400"))
        #expect(!result.stdout.contains("910317 300400"))
        #expect(!result.stdout.contains("650102198001011235"))
        #expect(result.stdout.contains("6501**********1235"))
        #expect(result.stdout.contains("suspect"))
    }

    @Test func cleanFileExitsZeroWithEmptyArray() throws {
        let harness = try CLIHarness()
        defer { harness.cleanup() }
        try "Nothing identifying here, only 2024 and 17.03.2018.\n".write(
            toFile: harness.path("c.txt"), atomically: true, encoding: .utf8)
        let result = try harness.run(["scan", "--json", "c.txt"], passphrase: nil)
        #expect(result.status == 0)
        #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
    }

    @Test func missingFileExits66NamingIt() throws {
        let harness = try CLIHarness()
        defer { harness.cleanup() }
        let result = try harness.run(["scan", "no-such-file.txt"], passphrase: nil)
        #expect(result.status == 66)
        #expect(result.stderr.contains("no-such-file.txt"))
        #expect(result.stdout.isEmpty)
    }

    @Test func invalidInputsExit65() throws {
        let harness = try CLIHarness()
        defer { harness.cleanup() }
        try Data([0x00, 0x01, 0x02, 0x03]).write(to: URL(fileURLWithPath: harness.path("bin.txt")))
        try "{not json".write(toFile: harness.path("bad.json"), atomically: true, encoding: .utf8)
        try "eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJvcmcifQ.c2ln~!!!~".write(
            toFile: harness.path("bad.sd-jwt"), atomically: true, encoding: .utf8)
        for name in ["bin.txt", "bad.json", "bad.sd-jwt"] {
            let result = try harness.run(["scan", name], passphrase: nil)
            #expect(result.status == 65, "\(name)")
            #expect(result.stderr.contains(name))
        }
    }

    @Test func jsonRecordsAndSDJWTDisclosures() throws {
        let harness = try CLIHarness()
        defer { harness.cleanup() }
        let record = #"{"narrative":"\u8eab\u4efd\u8bc1 650102198001011234","phone":"13800138000"}"#
        try record.write(toFile: harness.path("r.json"), atomically: true, encoding: .utf8)
        let header = Base64URL.encode(Array(#"{"alg":"EdDSA"}"#.utf8))
        let payload = Base64URL.encode(Array(#"{"iss":"org"}"#.utf8))
        let disclosure = Base64URL.encode(Array(#"["salt","iin","910317300400"]"#.utf8))
        let compact = "\(header).\(payload).c2ln~\(disclosure)~\n"
        try compact.write(toFile: harness.path("v.sd-jwt"), atomically: true, encoding: .utf8)
        let result = try harness.run(["scan", "--json", "v.sd-jwt", "r.json"], passphrase: nil)
        #expect(result.status == 1)
        let array = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        // Sorted by file then start: r.json first.
        #expect(array.map { $0["file"] as? String } == ["r.json", "r.json", "v.sd-jwt"])
        #expect(array[0]["value"] as? String == "650102198001011234")
        let start = compact.utf8.count - disclosure.utf8.count - 2
        #expect(array[2]["start"] as? Int == start)
        #expect(array[2]["end"] as? Int == start + disclosure.utf8.count)
        #expect(array[2]["kind"] as? String == "kz_iin")
    }

    @Test func maskedValues() {
        let finding = { (kind: AmanatRedaction.IdentifierKind, value: String) in
            AmanatRedaction.Finding(kind: kind, range: 0..<1, value: value)
        }
        #expect(ScanCommand.masked(finding(.cnResidentID, "65010219800101139X")) == "6501**********139X")
        #expect(ScanCommand.masked(finding(.phone, "+8613800138000")) == "+86138******00")
        #expect(ScanCommand.masked(finding(.email, "aizhan@example.org")) == "a*****@example.org")
    }
}
