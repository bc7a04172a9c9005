import AmanatTestSupport
import Foundation
import Testing

@Suite("add, update, attach, list, show, verify; records in bundles")
struct RecordCommandTests {
    static let examples: URL = PackagePaths.url("Specs/examples")

    static func example(_ name: String) -> String { examples.appendingPathComponent(name).path }

    static let exampleFiles = [
        "kk-cyrl-relative-public.json", "ru-survivor-partners.json", "zh-relative-internal.json",
        "ug-arab-relative-public.json", "en-survivor-public.json", "kk-latn-relative-public.json",
    ]

    func ids(_ cli: CLIHarness, in dir: String) throws -> [String] {
        let list = try cli.run(["list", "--json"], in: dir)
        let items = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        return items.compactMap { $0["id"] as? String }
    }

    @Test func addShowRoundTripsTheContent() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        let added = try cli.run(["add", "--json"] + Self.exampleFiles.map(Self.example), in: a)
        #expect(added.status == 0, "\(added.stderr)")
        let newIds = try #require(
            (try JSONSerialization.jsonObject(with: Data(added.stdout.utf8)) as? [[String: Any]])?.compactMap {
                $0["id"] as? String
            })
        #expect(newIds.count == Self.exampleFiles.count)
        #expect(Set(try ids(cli, in: a)) == Set(newIds))

        // show --format json gives the content back: the same JSON as the file (member order aside)
        for (file, id) in zip(Self.exampleFiles, newIds) {
            let shown = try cli.run(["show", id, "--format", "json"], in: a)
            #expect(shown.status == 0)
            let original =
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.example(file))))
                as? NSDictionary
            let back = try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? NSDictionary
            #expect(original == back, "\(file) did not round-trip")
        }
        // … and `add` accepts what `show --format json` printed
        let shown = try cli.run(["show", newIds[0], "--format", "json"], in: a)
        try Data(shown.stdout.utf8).write(to: URL(fileURLWithPath: cli.path("again.json")))
        #expect(try cli.run(["add", cli.path("again.json")], in: a).status == 0)
    }

    @Test func oneBadRecordFailsTheWholeAddAndChangesNothing() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        #expect(try cli.run(["add", Self.example("en-survivor-public.json")], in: a).status == 0)
        let hashBefore = try cli.run(["status", "--json"], in: a).stdout
        let bad = try cli.run(
            ["add", Self.example("kk-cyrl-relative-public.json"), Self.example("invalid/missing-consent.json")], in: a)
        #expect(bad.status == 65)
        #expect(bad.stderr.contains("missing-consent.json"))
        #expect(try ids(cli, in: a).count == 1)
        #expect(try cli.run(["status", "--json"], in: a).stdout == hashBefore)
        try Data("{\"schema\": \"amanat-record/v1\",".utf8).write(to: URL(fileURLWithPath: cli.path("truncated.json")))
        let truncated = try cli.run(["add", cli.path("truncated.json")], in: a)
        #expect(truncated.status == 65)
        #expect(truncated.stderr.contains("line 1"))
        #expect(try cli.run(["add", cli.path("absent.json")], in: a).status == 66)
    }

    @Test func updateAttachHistoryAndSDJWTVerify() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        let id = try cli.run(["add", Self.example("en-survivor-public.json")], in: a).addedId
        try Data("synthetic photo bytes".utf8).write(to: URL(fileURLWithPath: cli.path("photo.jpg")))
        let attached = try cli.run(
            ["attach", "id:" + String(id.prefix(10)), cli.path("photo.jpg"), "--kind", "id_card_photo"], in: a)
        #expect(attached.status == 0, "\(attached.stderr)")
        let shown = try cli.run(["show", id, "--format", "json"], in: a).stdout
        #expect(shown.contains("\"id_card_photo\""))
        // the blob is stored under its SHA-256
        let blobs = try FileManager.default.subpathsOfDirectory(atPath: a + "/.amanat/blobs").filter { $0.count > 60 }
        #expect(blobs.count == 1)

        try Data(shown.utf8).write(to: URL(fileURLWithPath: cli.path("edit.json")))
        // unchanged content: `update` signs nothing (exit 0), so the history is create + the attachment's edit
        #expect(try cli.run(["update", id, cli.path("edit.json")], in: a).status == 0)
        // one line per version (the fields each changed follow, indented)
        let history = try cli.run(["show", id, "--history"], in: a).stdout.split(separator: "\n").filter {
            !$0.hasPrefix(" ")
        }
        #expect(history.count == 2)
        #expect(history.first?.contains("create") == true)
        #expect(history.last?.contains("(head)") == true)

        let sdjwt = try cli.run(["show", id, "--format", "sd-jwt"], in: a).stdout
        try Data(sdjwt.utf8).write(to: URL(fileURLWithPath: cli.path("r.sd-jwt")))
        let verified = try cli.run(["verify", cli.path("r.sd-jwt"), "--json"], in: a)
        #expect(verified.status == 0)
        #expect(verified.stdout.contains("\"valid\" : true"))
        // a presentation that drops a disclosure still verifies; a changed byte does not
        var parts = sdjwt.trimmingCharacters(in: .whitespacesAndNewlines).split(
            separator: "~", omittingEmptySubsequences: false
        ).map(String.init)
        parts.remove(at: 1)
        try Data(parts.joined(separator: "~").utf8).write(to: URL(fileURLWithPath: cli.path("p.sd-jwt")))
        let presented = try cli.run(["verify", cli.path("p.sd-jwt")], in: a)
        #expect(presented.status == 0)
        #expect(presented.stdout.contains("1 withheld"))
        var tampered = Array(sdjwt.utf8)
        tampered[40] = tampered[40] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        try Data(tampered).write(to: URL(fileURLWithPath: cli.path("t.sd-jwt")))
        #expect(try cli.run(["verify", cli.path("t.sd-jwt")], in: a).status != 0)
        // the identifiers never appear in clear in the signed payload, only in disclosures
        var payload = String(sdjwt.split(separator: ".")[1]).replacingOccurrences(of: "-", with: "+")
            .replacingOccurrences(of: "_", with: "/")
        while payload.count % 4 != 0 { payload += "=" }
        let payloadText = String(decoding: try #require(Data(base64Encoded: payload)), as: UTF8.self)
        let record = try String(contentsOfFile: Self.example("en-survivor-public.json"), encoding: .utf8)
        let resident = try #require(record.firstMatch(of: /"cnResidentId": *"([0-9X]{18})"/)?.1)
        #expect(payloadText.contains("\"_sd\""))
        #expect(!payloadText.contains(String(resident)))
        #expect(
            sdjwt.split(separator: "~").dropFirst().contains { part in
                var b64 = part.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
                while b64.count % 4 != 0 { b64 += "=" }
                return String(decoding: Data(base64Encoded: b64) ?? Data(), as: UTF8.self).contains(String(resident))
            })
    }

    @Test func recordsTravelInBundlesAndImportIsIdempotent() throws {
        let p = try BundleCommandTests.Partners()
        defer { p.cli.cleanup() }
        let added = try p.cli.run(["add"] + Self.exampleFiles.map(Self.example), in: p.a)
        #expect(added.status == 0)
        // A public record gets the attachment (ids are printed in input order)
        let printed = added.addedIds
        let id = try #require(printed.count == Self.exampleFiles.count ? printed[0] : nil)
        try Data("synthetic verdict scan".utf8).write(to: URL(fileURLWithPath: p.cli.path("scan.pdf")))
        #expect(try p.cli.run(["attach", id, p.cli.path("scan.pdf")], in: p.a).status == 0)
        #expect(
            try p.cli.run(["seal", "-r", "berlin", "--all", "-o", p.cli.path("records.amanat")], in: p.a).status == 0)

        // The one record with consent internal never leaves A (Specs/authority.md)
        let internalRecords = Self.exampleFiles.filter { $0.contains("internal") }.count
        #expect(internalRecords == 1)

        let first = try p.cli.run(["open", p.cli.path("records.amanat"), "--json"], in: p.b)
        #expect(first.status == 0, "\(first.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any])
        #expect(report["versionsAdded"] as? Int == Self.exampleFiles.count + 1 - internalRecords)
        #expect(report["attachmentsStored"] as? Int == 1)
        #expect(Set(try ids(p.cli, in: p.b)).isSubset(of: Set(try ids(p.cli, in: p.a))))
        #expect(try ids(p.cli, in: p.b).count == Self.exampleFiles.count - internalRecords)

        // The same bundle again changes nothing.
        let stateBefore = try p.cli.run(["status", "--json"], in: p.b).stdout
        let second = try p.cli.run(["open", p.cli.path("records.amanat"), "--json"], in: p.b)
        let report2 = try #require(try JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as? [String: Any])
        #expect(report2["versionsAdded"] as? Int == 0)
        #expect(report2["versionsAlreadyPresent"] as? Int == Self.exampleFiles.count + 1 - internalRecords)
        #expect(try p.cli.run(["status", "--json"], in: p.b).stdout == stateBefore)

        // B sees A's record, verified against A's key.
        let shown = try p.cli.run(["show", id], in: p.b)
        #expect(shown.stdout.contains("signed by steppe"))
    }

    @Test func concurrentEditsAreKeptAndReported() throws {
        let p = try BundleCommandTests.Partners()
        defer { p.cli.cleanup() }
        let id = try p.cli.run(["add", Self.example("en-survivor-public.json")], in: p.a).addedId
        #expect(
            try p.cli.run(["seal", "-r", "berlin", "--record", id, "-o", p.cli.path("1.amanat")], in: p.a).status == 0)
        #expect(try p.cli.run(["open", p.cli.path("1.amanat")], in: p.b).status == 0)
        // Both edit the same record at the same time.
        for (dir, tag) in [(p.a, "edited-at-a"), (p.b, "edited-at-b")] {
            let json = try p.cli.run(["show", id, "--format", "json"], in: dir).stdout
            var object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            object["tags"] = [tag]
            try JSONSerialization.data(withJSONObject: object).write(
                to: URL(fileURLWithPath: p.cli.path("\(tag).json")))
            #expect(try p.cli.run(["update", id, p.cli.path("\(tag).json")], in: dir).status == 0)
        }
        #expect(
            try p.cli.run(["seal", "-r", "berlin", "--record", id, "-o", p.cli.path("2.amanat")], in: p.a).status == 0)
        let opened = try p.cli.run(["open", p.cli.path("2.amanat")], in: p.b)
        #expect(opened.status == 0)
        #expect(opened.stderr.contains("Concurrent versions"))
        #expect(opened.stderr.contains(id))
        // Two heads now: an update is blocked with exit 2 until resolved.
        #expect(try p.cli.run(["update", id, p.cli.path("edited-at-b.json")], in: p.b).status == 2)
        let list = try p.cli.run(["list", "--json"], in: p.b).stdout
        let entries = try JSONSerialization.jsonObject(with: Data(list.utf8)) as? [[String: Any]] ?? []
        #expect(entries.first { $0["id"] as? String == id }?["concurrent"] as? Bool == true)
    }

    @Test func importRefusesUntrustedRecordsAndChangesNothing() throws {
        let p = try BundleCommandTests.Partners()
        defer { p.cli.cleanup() }
        // C's records forwarded by A: the bundle signer (A) is trusted, the record author (C) is not.
        let c = try p.cli.initWorkspace("c", org: "Test Group Three")
        try p.cli.run(["identity", "export", "-o", p.cli.path("c.json")], in: c)
        #expect(try p.cli.run(["trust", "add", p.cli.path("a.json"), "--name", "steppe"], in: c).status == 0)
        #expect(try p.cli.run(["add", Self.example("en-survivor-public.json")], in: c).status == 0)
        #expect(try p.cli.run(["trust", "add", p.cli.path("c.json"), "--name", "third"], in: p.a).status == 0)
        try p.cli.run(["identity", "export", "-o", p.cli.path("a2.json")], in: p.a)
        #expect(try p.cli.run(["trust", "add", p.cli.path("a.json"), "--name", "steppe2"], in: c).status != 0)
        // C seals for A; A imports (trusts C); A forwards everything to B, who does not trust C.
        try p.cli.run(["trust", "add", p.cli.path("a.json")], in: c)
        #expect(
            try p.cli.run(["seal", "-r", p.cli.path("a.json"), "--all", "-o", p.cli.path("c.amanat")], in: c).status
                == 0)
        #expect(try p.cli.run(["open", p.cli.path("c.amanat")], in: p.a).status == 0)
        #expect(try p.cli.run(["seal", "-r", "berlin", "--all", "-o", p.cli.path("fwd.amanat")], in: p.a).status == 0)
        let before = CLIHarness.snapshot(p.b + "/.amanat")
        let refused = try p.cli.run(["open", p.cli.path("fwd.amanat")], in: p.b)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("not on the trust list"))
        #expect(refused.stderr.contains("Nothing was imported"))
        #expect(Set(CLIHarness.snapshot(p.b + "/.amanat").keys) == Set(before.keys))
        #expect(try ids(p.cli, in: p.b).isEmpty)
        // Once B trusts C, the forwarded record verifies against C, its author.
        #expect(try p.cli.run(["trust", "add", p.cli.path("c.json"), "--name", "third"], in: p.b).status == 0)
        #expect(try p.cli.run(["open", p.cli.path("fwd.amanat")], in: p.b).status == 0)
        #expect(try ids(p.cli, in: p.b).count == 1)
    }
}
