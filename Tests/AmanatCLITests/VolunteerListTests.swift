import AmanatStore
import Foundation
import Testing

extension CLIHarness.Result {
    /// The record ids `amanat add` printed: the first tab-separated field of each stdout line.
    var addedIds: [String] {
        stdout.split(separator: "\n").map { String($0.split(separator: "\t", omittingEmptySubsequences: false)[0]) }
    }

    /// The first record id `amanat add` printed ("" if none).
    var addedId: String { addedIds.first ?? "" }
}

@Suite("The command line as a volunteer meets it: list, add output, prefixes, update no-op, history")
struct VolunteerListTests {
    static func example(_ name: String) -> String { RecordCommandTests.example(name) }

    static func jsonArray(_ result: CLIHarness.Result) throws -> [[String: Any]] {
        try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
    }

    @Test func addSaysWhichIdCameFromWhichFileAndRow() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        // A blank row and the example's multi-line cells: rows are numbered as a spreadsheet shows them.
        var csv = try Data(contentsOf: URL(fileURLWithPath: Self.example("records.csv")))
        csv.insert(0x0A, at: try #require(csv.firstIndex(of: 0x0A)))
        try csv.write(to: URL(fileURLWithPath: cli.path("rows.csv")))
        let array = cli.path("two.json")
        let two = try [Self.example("en-survivor-public.json"), Self.example("ru-survivor-partners.json")].map {
            try String(contentsOfFile: $0, encoding: .utf8)
        }
        try Data("[\(two[0]),\(two[1])]".utf8).write(to: URL(fileURLWithPath: array))
        let single = Self.example("kk-cyrl-relative-public.json")
        let added = try cli.run(["add", cli.path("rows.csv"), array, single], in: a)
        #expect(added.status == 0, "\(added.stderr)")
        let lines = added.stdout.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        #expect(lines.count == 7)
        #expect(lines.allSatisfy { $0.count == 2 && $0[0].count == 43 })
        let places = lines.map { $0[1] }
        #expect(places.prefix(4).map { String($0.split(separator: " ").last ?? "") } == ["3", "4", "5", "6"])
        #expect(places[0] == cli.path("rows.csv") + " row 3")
        #expect(places[4] == array + " [0]" && places[5] == array + " [1]" && places[6] == single)
        #expect(added.stderr.contains("Added 7 records"))

        let json = try Self.jsonArray(try cli.run(["add", "--json", cli.path("rows.csv"), single], in: a))
        #expect(json.count == 5)
        #expect(json[1]["row"] as? Int == 4 && json[1]["file"] as? String == cli.path("rows.csv"))
        #expect(json[4]["row"] == nil && json[4]["index"] == nil && (json[4]["id"] as? String)?.count == 43)
    }

    @Test func listShowsVolunteerColumnsSortedAndFiltered() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        let files = [
            "kk-cyrl-relative-public.json", "kk-latn-relative-public.json", "en-survivor-public.json",
            "minimal-partial.json", "ug-arab-relative-public.json",
        ]
        let added = try cli.run(["add"] + files.map(Self.example), in: a)
        #expect(added.status == 0, "\(added.stderr)")
        let ids = added.addedIds

        let list = try cli.run(["list"], in: a)
        #expect(list.status == 0, "\(list.stderr)")
        let rows = list.stdout.split(separator: "\n").map(String.init)
        #expect(rows.first?.hasPrefix("ID") == true)
        #expect(rows.first?.contains("CASE") == true && rows.first?.contains("ATTACHMENTS") == true)
        // By testimony date: ug (2019-03-28), kk-Cyrl (2019-06-03), kk-Latn (2019-12-10), en (2020-07-02), minimal (none)
        let references = ["DSA-2019-0233", "DSA-2019-0412", "DSA-2019-1120", "DBD-SURV-0042", "DSA-2021-0007"]
        #expect(rows.count == 6)
        for (row, reference) in zip(rows.dropFirst(), references) { #expect(row.contains(reference), "\(row)") }
        let first = rows[2].split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        #expect(first[0].count >= 6 && ids[0].hasPrefix(first[0]))
        #expect(Array(first.dropFirst(2)) == ["kk-Cyrl", "public", "2019-06-03", "3", "clean"])
        #expect(rows[5].contains(" - ") && rows[5].hasSuffix("clean"))

        let kk = try cli.run(["list", "--filter", "language=kk", "--filter", "date>=2019-06"], in: a)
        #expect(kk.status == 0)
        #expect(kk.stdout.split(separator: "\n").count == 3)
        #expect(kk.stdout.contains("DSA-2019-0412") && kk.stdout.contains("DSA-2019-1120"))
        let none = try cli.run(["list", "--filter", "state=conflict"], in: a)
        #expect(none.status == 0 && none.stdout.isEmpty && none.stderr.contains("No record matches"))

        let json = try Self.jsonArray(try cli.run(["list", "--json", "--filter", "date="], in: a))
        #expect(json.count == 1)
        let item = json[0]
        #expect(item["id"] as? String == ids[3])
        #expect(item["caseReference"] as? String == "DSA-2021-0007 (video received, not yet transcribed)")
        #expect(item["consent"] as? String == "public" && item["state"] as? String == "clean")
        #expect(item["attachments"] as? Int == 0 && item["date"] == nil)
        for key in ["shortId", "versions", "heads", "createdBy", "lastIssuedAt", "concurrent", "retracted"] {
            #expect(item[key] != nil, "\(key)")
        }

        for bad in ["colour=red", "language", "date>=last-week", "state=lost", "language>kk"] {
            let refused = try cli.run(["list", "--filter", bad], in: a)
            #expect(refused.status == 64, "\(bad): \(refused.stderr)")
            #expect(refused.stderr.contains("--filter"), "\(bad): \(refused.stderr)")
        }
        let help = try cli.run(["list", "--help"], in: a)
        #expect(help.stdout.contains("--filter language=kk --filter state=conflict"))
    }

    @Test func theTablePadsByCharactersAndCutsNothingItShows() throws {
        // References with characters of two UTF-16 units and with combining marks: padding by UTF-16 length (as
        // Foundation's `padding(toLength:)` does) cut the widest cell to fewer characters and misaligned the columns
        // after such a cell.
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        let references = ["DSA-😀😀😀😀😀😀😀😀", "DSA-e\u{301}e\u{301}x", "DSA-plain-1"]
        var files: [String] = []
        for (i, reference) in references.enumerated() {
            let data = try Data(contentsOf: URL(fileURLWithPath: Self.example("en-survivor-public.json")))
            var record = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            var provenance = record["provenance"] as? [String: Any] ?? [:]
            provenance["reference"] = reference
            record["provenance"] = provenance
            let path = cli.path("ref-\(i).json")
            try JSONSerialization.data(withJSONObject: record).write(to: URL(fileURLWithPath: path))
            files.append(path)
        }
        let added = try cli.run(["add"] + files, in: a)
        #expect(added.status == 0, "\(added.stderr)")
        let list = try cli.run(["list"], in: a)
        #expect(list.status == 0, "\(list.stderr)")
        let rows = list.stdout.split(separator: "\n").map(String.init)
        #expect(rows.count == 4)
        for reference in references {
            #expect(rows.contains { $0.contains(reference) }, "\(reference) in \(rows)")
        }
        // The LANGUAGE column starts at the same character in every row
        let starts = rows.dropFirst().map { row in
            row.distance(from: row.startIndex, to: try! #require(row.range(of: " en ")).lowerBound)
        }
        let header = rows[0].distance(
            from: rows[0].startIndex, to: try #require(rows[0].range(of: "LANGUAGE")).lowerBound)
        #expect(Set(starts).count == 1 && starts.first.map { $0 + 1 } == header, "\(rows)")
    }

    @Test func fourCharacterPrefixesAndAmbiguousOnesListCandidates() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        let id = try cli.run(["add", Self.example("en-survivor-public.json")], in: a).addedId
        let prefix = id.hasPrefix("-") ? "id:" + id.prefix(4) : String(id.prefix(4))
        let shown = try cli.run(["show", prefix, "--format", "json"], in: a)
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("DBD-SURV-0042"))
        #expect(try cli.run(["show", "id:" + id.prefix(3)], in: a).status == 64)

        // Two records sharing a prefix (ids written straight into the store: real ones are random)
        let store = try CLIHarness.store(a)
        let fakes = ["qqqqAAAAAA1", "qqqqBBBBBB2"].map { fake in
            StoredVersion(
                id: fake, recordId: fake, kind: .create, prev: [], issuedAt: 1, signer: "nobody", jwt: "jwt-" + fake,
                disclosures: [], attachments: [],
                content: #"{"provenance":{"reference":"CASE-\#(fake.suffix(1))"},"schema":"amanat-record/v1"}"#)
        }
        _ = try store.insert(fakes, authority: .collectorOnly)
        let ambiguous = try cli.run(["show", "qqqq"], in: a)
        #expect(ambiguous.status == 64)
        #expect(ambiguous.stderr.contains("qqqqAA  case CASE-1") && ambiguous.stderr.contains("qqqqBB  case CASE-2"))
        let retract = try cli.run(["retract", "qqqq", "--reason", "x", "--yes"], in: a)
        #expect(retract.status == 64 && retract.stderr.contains("qqqqAA"))
    }

    @Test func settingTheConsentInForceSignsNothingLikeAnUnchangedUpdate() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        let id = try cli.run(["add", Self.example("kk-cyrl-relative-public.json")], in: a).addedId
        let before = try cli.run(["status", "--json"], in: a).stdout
        let same = try cli.run(["consent", "id:" + id, "--set", "public"], in: a)
        #expect(same.status == 0, "\(same.stderr)")
        #expect(same.stdout.contains("consent 'public' in force"))
        #expect(same.stderr.contains("already states consent 'public'; nothing was signed"))
        #expect(try cli.run(["status", "--json"], in: a).stdout == before)
        let lowered = try cli.run(["consent", "id:" + id, "--set", "partners"], in: a)
        #expect(lowered.status == 0 && lowered.stdout.count > 40, "\(lowered.stderr)")
    }

    @Test func updateWithTheSameContentMakesNoVersionAndHistoryNamesFields() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        let id = try cli.run(["add", Self.example("kk-cyrl-relative-public.json")], in: a).addedId
        let current = try cli.run(["show", "id:" + id, "--format", "json"], in: a).stdout
        try Data(current.utf8).write(to: URL(fileURLWithPath: cli.path("same.json")))
        let before = try cli.run(["status", "--json"], in: a).stdout
        let same = try cli.run(["update", "id:" + id, cli.path("same.json")], in: a)
        #expect(same.status == 0, "\(same.stderr)")
        #expect(same.stdout.isEmpty)
        #expect(same.stderr.contains("nothing changed"))
        #expect(try cli.run(["status", "--json"], in: a).stdout == before)

        let edited = current.replacingOccurrences(of: "\"2019-06-03\"", with: "\"2019-06-04\"")
        #expect(edited != current)
        try Data(edited.utf8).write(to: URL(fileURLWithPath: cli.path("edited.json")))
        let updated = try cli.run(["update", "id:" + id, cli.path("edited.json")], in: a)
        #expect(updated.status == 0 && updated.stdout.count > 40, "\(updated.stderr)")

        let history = try cli.run(["show", "id:" + id, "--history"], in: a)
        #expect(history.status == 0, "\(history.stderr)")
        let lines = history.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "\(history.stdout)")
        #expect(lines[0].contains("create") && lines[1].contains("edit (head)"))
        #expect(lines[2] == "    changed /testimony/date")
        #expect(!history.stdout.contains("2019-06-04"))
        let withValues = try cli.run(["show", "id:" + id, "--history", "--values"], in: a)
        #expect(withValues.stdout.contains("    changed /testimony/date: \"2019-06-03\" → \"2019-06-04\""))
        #expect(try cli.run(["show", "id:" + id, "--values"], in: a).status == 64)
    }
}
