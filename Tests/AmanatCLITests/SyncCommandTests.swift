import AmanatStore
import Foundation
import Testing

@Suite("status, conflicts, resolve, duplicates, link, retract, erase")
struct SyncCommandTests {
    func json(_ result: CLIHarness.Result) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
    }

    /// A and B share one record, then both edit it: A changes the interview date and adds a tag, B changes the date
    /// differently and adds another tag. Returns the record id after B imported A's edit.
    func concurrentEdit(_ p: BundleCommandTests.Partners) throws -> String {
        let id = try p.cli.run(["add", RecordCommandTests.example("en-survivor-public.json")], in: p.a).addedId
        #expect(
            try p.cli.run(["seal", "-r", "berlin", "--since-last", "-o", p.cli.path("0.amanat")], in: p.a).status == 0)
        #expect(try p.cli.run(["open", p.cli.path("0.amanat")], in: p.b).status == 0)
        for (dir, date, tag) in [(p.a, "2019-04-02", "date-checked"), (p.b, "2019-04-12", "reviewed")] {
            let shown = try p.cli.run(["show", "id:" + id, "--format", "json"], in: dir).stdout
            var object = try #require(try JSONSerialization.jsonObject(with: Data(shown.utf8)) as? [String: Any])
            var testimony = try #require(object["testimony"] as? [String: Any])
            testimony["date"] = date
            object["testimony"] = testimony
            object["tags"] = ((object["tags"] as? [String]) ?? []) + [tag]
            try JSONSerialization.data(withJSONObject: object).write(
                to: URL(fileURLWithPath: p.cli.path("\(tag).json")))
            #expect(try p.cli.run(["update", "id:" + id, p.cli.path("\(tag).json")], in: dir).status == 0)
        }
        #expect(
            try p.cli.run(["seal", "-r", "berlin", "--since-last", "-o", p.cli.path("1.amanat")], in: p.a).status == 0)
        #expect(try p.cli.run(["open", p.cli.path("1.amanat")], in: p.b).status == 0)
        return id
    }

    @Test func conflictIsShownResolvedAndBothStoresConverge() throws {
        let p = try BundleCommandTests.Partners()
        defer { p.cli.cleanup() }
        let id = try concurrentEdit(p)

        // status --json has the contract's keys and one conflict
        let status = try #require(try json(try p.cli.run(["status", "--json"], in: p.b)) as? [String: Any])
        for key in ["stateHash", "records", "versions", "conflicts", "duplicates"] {
            #expect(status[key] != nil, "\(key)")
        }
        #expect(status["conflicts"] as? Int == 1)
        #expect(status["versions"] as? Int == 3)

        // conflicts --json: one entry per record; the date field lists the base and both candidates
        let conflicts = try #require(try json(try p.cli.run(["conflicts", "--json"], in: p.b)) as? [[String: Any]])
        #expect(conflicts.count == 1)
        // `conflicts` exits 2 while conflicts are unresolved (#14 bug 5), text and JSON alike
        #expect(try p.cli.run(["conflicts"], in: p.b).status == 2)
        #expect(try p.cli.run(["conflicts", "--json"], in: p.b).status == 2)
        #expect(conflicts.first?["record"] as? String == id)
        let fields = try #require(conflicts.first?["fields"] as? [[String: Any]])
        #expect(fields.map { $0["path"] as? String } == ["/testimony/date"])
        let candidates = try #require(fields.first?["candidates"] as? [[String: Any]])
        #expect(Set(candidates.compactMap { $0["value"] as? String }) == ["2019-04-02", "2019-04-12"])
        #expect(Set(candidates.compactMap { $0["organization"] as? String }).contains("steppe"))
        #expect(fields.first?["base"] as? String != nil)

        // --accept refuses a real conflict (exit 2); --take steppe resolves it
        #expect(try p.cli.run(["resolve", "id:" + id, "--accept"], in: p.b).status == 2)
        #expect(try p.cli.run(["update", "id:" + id, p.cli.path("reviewed.json")], in: p.b).status == 2)
        let resolved = try p.cli.run(["resolve", "id:" + id, "--take", "steppe"], in: p.b)
        #expect(resolved.status == 0, "\(resolved.stderr)")
        let after = try #require(
            try p.cli.run(["show", "id:" + id, "--format", "json"], in: p.b).stdout.data(using: .utf8))
        let content = try #require(try JSONSerialization.jsonObject(with: after) as? [String: Any])
        #expect((content["testimony"] as? [String: Any])?["date"] as? String == "2019-04-02")
        #expect(Set((content["tags"] as? [String]) ?? []).isSuperset(of: ["date-checked", "reviewed"]))

        // B sends the merge; both stores end with equal state hashes and no conflict
        #expect(
            try p.cli.run(["seal", "-r", "steppe", "--since-last", "-o", p.cli.path("2.amanat")], in: p.b).status == 0)
        let opened = try p.cli.run(["open", p.cli.path("2.amanat")], in: p.a)
        #expect(opened.status == 0)
        #expect(opened.stderr.contains("equal state hashes"))
        let hashA = (try json(try p.cli.run(["status", "--json"], in: p.a)) as? [String: Any])?["stateHash"] as? String
        let hashB = (try json(try p.cli.run(["status", "--json"], in: p.b)) as? [String: Any])?["stateHash"] as? String
        #expect(hashA != nil && hashA == hashB)
        #expect(((try json(try p.cli.run(["conflicts", "--json"], in: p.a))) as? [Any])?.isEmpty == true)
    }

    @Test func takeAcceptsThisOrganizationByItsNameAndListsTheChoices() throws {
        // #14 bug 6: at B itself, B's own name (any case, or its first word) is accepted; a wrong name lists choices
        let p = try BundleCommandTests.Partners()
        defer { p.cli.cleanup() }
        let id = try concurrentEdit(p)
        let wrong = try p.cli.run(["resolve", "id:" + id, "--take", "nobody"], in: p.b)
        #expect(wrong.status == 64)
        #expect(wrong.stderr.contains("'steppe'") && wrong.stderr.contains("'self'"))
        #expect(wrong.stderr.contains("'Test Database Two'"))
        let own = try p.cli.run(["resolve", "id:" + id, "--take", "test"], in: p.b)
        #expect(own.status == 0, "\(own.stderr)")
        #expect(((try json(try p.cli.run(["conflicts", "--json"], in: p.b))) as? [Any])?.isEmpty == true)
    }

    @Test func fieldChoiceResolves() throws {
        let p = try BundleCommandTests.Partners()
        defer { p.cli.cleanup() }
        let id = try concurrentEdit(p)
        let resolved = try p.cli.run(["resolve", "id:" + id, "--field", "/testimony/date=\"2019-04-07\""], in: p.b)
        #expect(resolved.status == 0, "\(resolved.stderr)")
        #expect(try p.cli.run(["show", "id:" + id, "--format", "json"], in: p.b).stdout.contains("2019-04-07"))
        // a path that is not in conflict is refused with exit 2, an unknown organization with 64
        let p2 = try BundleCommandTests.Partners()
        defer { p2.cli.cleanup() }
        let id2 = try concurrentEdit(p2)
        let versionsBefore = try p2.cli.run(["status", "--json"], in: p2.b).stdout
        #expect(try p2.cli.run(["resolve", "id:" + id2, "--field", "/tags=[]"], in: p2.b).status == 2)
        #expect(try p2.cli.run(["resolve", "id:" + id2, "--take", "nobody-known"], in: p2.b).status == 64)
        #expect(try p2.cli.run(["status", "--json"], in: p2.b).stdout == versionsBefore)
    }

    @Test func duplicatesAreFlaggedAndLinksDecide() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        // Two records about the same testifier (same resident ID), one unrelated.
        let first = try cli.run(["add", RecordCommandTests.example("en-survivor-public.json")], in: a).addedId
        let second = try cli.run(["add", RecordCommandTests.example("en-survivor-public.json")], in: a).addedId
        #expect(try cli.run(["add", RecordCommandTests.example("kk-cyrl-relative-public.json")], in: a).status == 0)
        let groups = try #require(try json(try cli.run(["duplicates", "--json"], in: a)) as? [[String: Any]])
        #expect(groups.count == 1)
        #expect(Set(groups.first?["records"] as? [String] ?? []) == [first, second])
        #expect(groups.first?["confirmed"] as? Bool == false)
        // The duplicate report never prints an ID number.
        let text = try cli.run(["duplicates"], in: a).stdout
        #expect(!text.contains("1985"))
        // "different" splits the group; "same" confirms it.
        #expect(try cli.run(["link", "id:" + first, "id:" + second, "--different"], in: a).status == 0)
        #expect(((try json(try cli.run(["duplicates", "--json"], in: a))) as? [Any])?.isEmpty == true)
        #expect(try cli.run(["link", "id:" + first, "id:" + second, "--same"], in: a).status == 0)
        let confirmed = try #require(try json(try cli.run(["duplicates", "--json"], in: a)) as? [[String: Any]])
        #expect(confirmed.first?["confirmed"] as? Bool == true)
        #expect(try cli.run(["link", "id:" + first, "id:" + first, "--same"], in: a).status == 64)
    }

    @Test func partnersDeriveTheSameMatchingKeyAndNobodyElse() throws {
        // Given A and B who trust each other, and C, each holding the same record
        let p = try BundleCommandTests.Partners()
        defer { p.cli.cleanup() }
        let c = try p.cli.initWorkspace("c", org: "Test Group Three")
        try p.cli.run(["identity", "export", "-o", p.cli.path("c.json")], in: c)
        #expect(try p.cli.run(["trust", "add", p.cli.path("a.json"), "--name", "steppe"], in: c).status == 0)
        #expect(try p.cli.run(["trust", "add", p.cli.path("c.json"), "--name", "third"], in: p.a).status == 0)
        for dir in [p.a, p.b, c] {
            #expect(try p.cli.run(["add", RecordCommandTests.example("en-survivor-public.json")], in: dir).status == 0)
        }
        func pseudonyms(_ dir: String, partner: String?) throws -> [String] {
            let args = ["duplicates", "--pseudonyms", "--json"] + (partner.map { ["--partner", $0] } ?? [])
            let list = try #require(try json(try p.cli.run(args, in: dir)) as? [[String: Any]])
            return list.flatMap { ($0["pseudonyms"] as? [String]) ?? [] }
        }
        // Then A and B, each using the key agreed with the other, get the same pseudonyms for the same ID numbers
        let ab = try pseudonyms(p.a, partner: "berlin")
        let ba = try pseudonyms(p.b, partner: "steppe")
        #expect(!ab.isEmpty && ab == ba)
        // … while the key A agreed with C gives different ones, and so do the organizations' own keys
        #expect(try pseudonyms(p.a, partner: "third") != ab)
        let ownA = try pseudonyms(p.a, partner: nil)
        let ownB = try pseudonyms(p.b, partner: nil)
        #expect(ownA != ownB)
        // The pseudonyms never contain the ID number itself
        #expect(!ab.joined().contains("654"))
    }

    @Test func retractionAndErasureTravelAndHistoryStillVerifies() throws {
        let p = try BundleCommandTests.Partners()
        defer { p.cli.cleanup() }
        let keep = try p.cli.run(["add", RecordCommandTests.example("kk-cyrl-relative-public.json")], in: p.a).addedId
        let gone = try p.cli.run(["add", RecordCommandTests.example("en-survivor-public.json")], in: p.a).addedId
        try Data("synthetic photo".utf8).write(to: URL(fileURLWithPath: p.cli.path("photo.jpg")))
        #expect(try p.cli.run(["attach", "id:" + gone, p.cli.path("photo.jpg")], in: p.a).status == 0)
        #expect(try p.cli.run(["seal", "-r", "berlin", "--all", "-o", p.cli.path("1.amanat")], in: p.a).status == 0)
        #expect(try p.cli.run(["open", p.cli.path("1.amanat")], in: p.b).status == 0)

        // A retracts one record and erases the other
        #expect(
            try p.cli.run(["retract", "id:" + keep, "--reason", "duplicate interview", "--yes"], in: p.a).status == 0)
        let erased = try p.cli.run(
            ["erase", "id:" + gone, "--reason", "the family withdrew", "--yes", "--json"], in: p.a)
        #expect(erased.status == 0, "\(erased.stderr)")
        #expect(erased.stdout.contains("\"attachmentsDeleted\" : 1"))
        let statusA = try #require(try json(try p.cli.run(["status", "--json"], in: p.a)) as? [String: Any])
        #expect(statusA["retracted"] as? Int == 2)
        #expect(statusA["erased"] as? Int == 1)

        // The erasure travels: B's store deletes the personal data and the attachment too
        #expect(
            try p.cli.run(["seal", "-r", "berlin", "--since-last", "-o", p.cli.path("2.amanat")], in: p.a).status == 0)
        let opened = try p.cli.run(["open", p.cli.path("2.amanat")], in: p.b)
        #expect(opened.status == 0)
        #expect(opened.stderr.contains("Erasure requests honored"))
        let store = try CLIHarness.store(p.b)
        let erasedVersions = try store.versions(record: gone)
        #expect(erasedVersions.allSatisfy { $0.disclosures.isEmpty && $0.content == nil })
        let blobs = (try? FileManager.default.subpathsOfDirectory(atPath: p.b + "/.amanat/blobs")) ?? []
        #expect(!blobs.contains { $0.count > 60 })
        // … while the signed history still verifies (every version, all disclosures withheld)
        let create = try #require(try store.versions(record: gone).first { $0.prev.isEmpty })
        try Data(create.sdjwt.compact.utf8).write(to: URL(fileURLWithPath: p.cli.path("erased.sd-jwt")))
        let verified = try p.cli.run(["verify", p.cli.path("erased.sd-jwt")], in: p.b)
        #expect(verified.status == 0)
        #expect(verified.stdout.contains("0 disclosure(s) presented"))
        // Re-importing the old bundle does not bring the erased data back
        #expect(try p.cli.run(["open", p.cli.path("1.amanat")], in: p.b).status == 0)
        #expect(try store.versions(record: gone).allSatisfy { $0.disclosures.isEmpty })
        let statusB = try #require(try json(try p.cli.run(["status", "--json"], in: p.b)) as? [String: Any])
        #expect(statusB["stateHash"] as? String == statusA["stateHash"] as? String)
    }

    @Test func aBundleWithOneChangedByteIsRefusedAndTheStoreIsUnchanged() throws {
        let p = try BundleCommandTests.Partners()
        defer { p.cli.cleanup() }
        #expect(try p.cli.run(["add", RecordCommandTests.example("en-survivor-public.json")], in: p.b).status == 0)
        #expect(
            try p.cli.run(["add", RecordCommandTests.example("kk-cyrl-relative-public.json")], in: p.a).status == 0)
        #expect(try p.cli.run(["seal", "-r", "berlin", "--all", "-o", p.cli.path("r.amanat")], in: p.a).status == 0)
        let original = try Data(contentsOf: URL(fileURLWithPath: p.cli.path("r.amanat")))
        let before = CLIHarness.snapshot(p.b + "/.amanat")
        let hashBefore = try p.cli.run(["status", "--json"], in: p.b).stdout
        for position in [original.count / 3, original.count / 2, original.count - 20] {
            var changed = original
            changed[position] ^= 0x04
            try changed.write(to: URL(fileURLWithPath: p.cli.path("changed.amanat")))
            let opened = try p.cli.run(["open", p.cli.path("changed.amanat")], in: p.b)
            #expect(opened.status == 1, "byte \(position): \(opened.stderr)")
        }
        // SQLite moves pages between its files on checkpoints, so the store is compared by content: the same
        // versions and the same state hash; every other file byte for byte.
        func files(_ snapshot: [String: Data]) -> [String: Data] {
            snapshot.filter { !$0.key.hasPrefix("store.sqlite") }
        }
        #expect(files(CLIHarness.snapshot(p.b + "/.amanat")) == files(before))
        #expect(try CLIHarness.store(p.b).counts().versions == 1)
        #expect(try p.cli.run(["status", "--json"], in: p.b).stdout == hashBefore)
    }
}
