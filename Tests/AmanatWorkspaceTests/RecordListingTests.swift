import AmanatRecords
import AmanatRedaction
import AmanatStore
import AmanatSync
import AmanatTestSupport
import Foundation
import Testing

@testable import AmanatWorkspace

@Suite("Record listing: short ids, filters, states, no-op edits, history")
struct RecordListingTests {
    typealias Entry = RecordListing.Entry
    typealias Filter = RecordListing.Filter

    @Test func shortIdsAreTheShortestUniquePrefixOfAtLeastSix() {
        let ids = ["abcdefgh1", "abcdefgx2", "abcdzzzz3", "Qwertyui4", "abcdefgh1"]
        let short = ShortIds.compute(ids)
        #expect(short["abcdefgh1"] == "abcdefgh")
        #expect(short["abcdefgx2"] == "abcdefgx")
        #expect(short["abcdzzzz3"] == "abcdzz")
        #expect(short["Qwertyui4"] == "Qwerty")
        #expect(ShortIds.compute(["abc"])["abc"] == "abc")
        // unique among all: no short id is a prefix of another record's id
        for (id, s) in short { #expect(ids.filter { $0 != id && $0.hasPrefix(s) }.isEmpty) }
    }

    @Test func shortIdsReadInOrderEqualThoseOfTheWholeList() {
        // `list` computes short ids while it streams the store's ids in order; random ids over a small alphabet
        // share long prefixes, so every branch (neighbour before, after, both, none) is taken.
        var rng = SplitMix64(seed: 17)
        for round in 0..<200 {
            let count = Int.random(in: 0...40, using: &rng)
            let ids = Set(
                (0..<count).map { _ in
                    String(
                        (0..<Int.random(in: 4...12, using: &rng)).map { _ in
                            Bool.random(using: &rng) ? Character("a") : "b"
                        })
                }
            ).sorted()
            let minimum = round % 2 == 0 ? ShortIds.minimumLength : 1
            let whole = ShortIds.compute(ids, minimum: minimum)
            // One id at a time: pages of one, each waiting for the next.
            var edges = ShortIds.PageEdges(minimum: minimum)
            var streamed: [String: String] = [:]
            for (i, id) in ids.enumerated() {
                if let length = edges.add([id]).previousLast {
                    streamed[ids[i - 1]] = String(ids[i - 1].prefix(length))
                }
            }
            if let length = edges.finish(), let last = ids.last { streamed[last] = String(last.prefix(length)) }
            #expect(streamed == whole, "round \(round): \(ids)")
        }
    }

    static let entries = [
        Entry(
            id: "r1", shortId: "r1", caseReference: "DSA-2019-0412", language: "kk-Cyrl", consent: .public,
            date: "2019-06-03", attachments: 3, state: .clean),
        Entry(
            id: "r2", shortId: "r2", caseReference: nil, language: "kk-Latn", consent: .partners, date: "2019",
            attachments: 0, state: .conflict),
        Entry(
            id: "r3", shortId: "r3", caseReference: "DBD-SURV-0042", language: "en", consent: .internal,
            date: nil, attachments: 1, state: .erased),
        Entry(
            id: "r0", shortId: "r0", caseReference: "x", language: "ru", consent: .public, date: "2020-07",
            attachments: 2, state: .retracted),
    ]

    func ids(_ filters: String...) throws -> [String] {
        let parsed = try filters.map(Filter.init(parsing:))
        return RecordListing.sorted(Self.entries.filter { e in parsed.allSatisfy { $0.matches(e) } }).map(\.id)
    }

    @Test func sortedByDateThenIdWithoutDatesLast() {
        #expect(RecordListing.sorted(Self.entries).map(\.id) == ["r2", "r1", "r0", "r3"])
    }

    @Test func filtersCompareEachColumn() throws {
        #expect(try ids("language=kk") == ["r2", "r1"])
        #expect(try ids("language=KK-cyrl") == ["r1"])
        #expect(try ids("language=k") == [])
        #expect(try ids("state=conflict") == ["r2"])
        #expect(try ids("state!=conflict", "state!=erased") == ["r1", "r0"])
        #expect(try ids("date>=2019-01") == ["r2", "r1", "r0"])
        #expect(try ids("date>=2019-04") == ["r1", "r0"])  // "2019" may mean a day before April
        #expect(try ids("date=2019") == ["r2", "r1"])
        #expect(try ids("date<2020") == ["r2", "r1"])
        #expect(try ids("date<=2020-07-31") == ["r2", "r1", "r0"])
        #expect(try ids("date=") == ["r3"])
        #expect(try ids("date!=") == ["r2", "r1", "r0"])
        #expect(try ids("case=") == ["r2"])
        #expect(try ids("case~surv") == ["r3"])
        #expect(try ids("case!=x") == ["r2", "r1", "r3"])
        #expect(try ids("attachments>=2") == ["r1", "r0"])
        #expect(try ids("consent>=partners") == ["r2", "r1", "r0"])
        #expect(try ids("id=r") == ["r2", "r1", "r0", "r3"])
        #expect(try ids("language=kk", "state=conflict", "date>=2019-01") == ["r2"])
        #expect(try ids("language=kk", "state=conflict", "date>=2019-02") == [])
    }

    @Test func badFiltersAreUsageErrors() {
        for bad in [
            "", "language", "colour=red", "=kk", "state=gone", "date>=2019-13", "date=19", "attachments>x",
            "language>=kk", "state~c", "consent=secret", "attachments=", "date>=",
        ] {
            #expect(throws: AmanatError.self, "\(bad)") { try Filter(parsing: bad) }
            do { _ = try Filter(parsing: bad) } catch let error as AmanatError {
                #expect(error.kind == .invalidRequest)
                #expect(error.message.contains("Example"))
            } catch {}
        }
    }

    // MARK: With a store

    static let passphrase = WorkspaceFlowTests.passphrase

    func workspace() throws -> (Workspace, URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("amanat-list-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let ws = try Workspace.create(
            at: folder, organization: "Listing Test Org", passphrase: Self.passphrase,
            parameters: WorkspaceFlowTests.fast
        ).0
        return (ws, folder)
    }

    /// A listing larger than one run is sorted in runs spilled to encrypted temporary files and merged: for run
    /// sizes from 2 up, with and without filters, skip and limit, the entries are exactly those of the in-memory
    /// sort, and no temporary file is left in `.amanat/`.
    @Test func runsSpilledToDiskMergeToTheInMemoryOrder() throws {
        let (ws, folder) = try workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let service = try RecordService(workspace: ws)
        let examples = [
            "en-survivor-public.json", "kk-cyrl-relative-public.json", "kk-latn-relative-public.json",
            "ug-arab-relative-public.json", "minimal-partial.json", "ru-survivor-partners.json",
            "zh-relative-internal.json",
        ]
        // 28 records: the examples (some without a date) with the date changed on some.
        var contents: [JSONValue] = []
        for i in 0..<28 {
            var content = try WorkspaceFlowTests.example(examples[i % examples.count])
            if i % 3 == 1, let testimony = content["testimony"] {
                content = content.setting(
                    "testimony", testimony.setting("date", .string("20\(10 + i % 9)-0\(1 + i % 9)")))
            }
            contents.append(content)
        }
        let ids = try service.add(contents, key: try ws.signingKey())
        let reference = try service.listing(filters: [], skip: 0, limit: nil, run: 1000, render: { $0 }) { _ in }
        #expect(reference == 28)
        var all: [Entry] = []
        try service.listing { all.append($0) }
        #expect(Set(all.map(\.id)) == Set(ids) && all.count == 28)
        #expect(all == RecordListing.sorted(all))
        #expect(all.contains { $0.date == nil } && Set(all.compactMap(\.date)).count > 5)
        var compared = 0
        let filters: [[Filter]] = [[], [try Filter(parsing: "consent=public")], [try Filter(parsing: "date>=2014")]]
        for filter in filters {
            var expected: [Entry] = []
            let matching = try service.listing(filters: filter) { expected.append($0) }
            #expect(matching == expected.count)
            for (run, page) in [(2, 1), (3, 2), (7, 5), (1000, 2000)] {
                for (skip, limit) in [(0, nil), (0, 5), (4, 3), (3, nil), (30, nil), (0, 0)] as [(Int, Int?)] {
                    var got: [Entry] = []
                    let count = try service.listing(
                        filters: filter, skip: skip, limit: limit, run: run, page: page, render: { $0 },
                        { got.append($0) })
                    #expect(count == matching)
                    #expect(
                        got == Array(expected.dropFirst(skip).prefix(limit ?? .max)),
                        "run \(run), \(skip), \(String(describing: limit))")
                    compared += 1
                }
            }
        }
        #expect(compared == 72)
        // Short ids as the whole list makes them, whatever the pages.
        let short = ShortIds.compute(ids)
        #expect(all.allSatisfy { short[$0.id] == $0.shortId })
        // Rendered table rows travel through the runs too.
        var rows: [ListingCells] = []
        let listed = try service.listing(
            filters: [], skip: 1, limit: nil, run: 3, page: 4, render: { ListingCells([$0.shortId]) }
        ) { rows.append($0) }
        #expect(listed == 28)
        #expect(rows.map(\.cells) == all.dropFirst().map { [$0.shortId] })
        let left = try FileManager.default.contentsOfDirectory(atPath: ws.dotFolder.path).filter {
            $0.contains(".partial-")
        }
        #expect(left.isEmpty, "left in .amanat: \(left)")
    }

    @Test func theHeapHandsItsElementsOutInOrderAndKeepsTheLeast() {
        var generator = SystemRandomNumberGenerator()
        for count in [0, 1, 2, 3, 10, 257] {
            let values = (0..<count).map { _ in Int.random(in: -50...50, using: &generator) }
            var heap = Heap<Int>(less: <)
            for v in values { heap.push(v) }
            var out: [Int] = []
            while let top = heap.top {
                out.append(top)
                heap.popTop()
            }
            #expect(out == values.sorted())
            // Kept as the sorter keeps a page: the greatest of the kept on top, replaced by anything less.
            let keep = 5
            var kept = Heap<Int>(less: >)
            for v in values {
                if kept.count < keep {
                    kept.push(v)
                } else if let top = kept.top, v < top {
                    kept.replaceTop(v)
                }
            }
            #expect(kept.items.sorted() == Array(values.sorted().prefix(keep)))
        }
    }

    @Test func shortIdsReadAPageAtATimeEqualThoseOfTheWholeList() {
        // `list` makes the short ids inside each page on every core and those at its edges as the pages arrive; random
        // ids over a small alphabet, cut into pages at random (of one id, too), share long prefixes across the cuts.
        var rng = SplitMix64(seed: 29)
        var compared = 0
        for round in 0..<300 {
            let ids = Set(
                (0..<Int.random(in: 0...40, using: &rng)).map { _ in
                    String(
                        (0..<Int.random(in: 4...12, using: &rng)).map { _ in
                            Bool.random(using: &rng) ? Character("a") : "b"
                        })
                }
            ).sorted()
            let minimum = round % 2 == 0 ? ShortIds.minimumLength : 1
            var edges = ShortIds.PageEdges(minimum: minimum)
            var paged: [String: String] = [:]
            var start = 0
            var previousLast: String?
            while start < ids.count {
                let page = Array(ids[start..<min(ids.count, start + Int.random(in: 1...6, using: &rng))])
                start += page.count
                for i in page.indices {
                    if let length = ShortIds.lengthInPage(page, i, minimum: minimum) {
                        paged[page[i]] = String(page[i].prefix(length))
                    }
                }
                let lengths = edges.add(page)
                if let last = previousLast, let length = lengths.previousLast {
                    paged[last] = String(last.prefix(length))
                }
                if let length = lengths.first { paged[page[0]] = String(page[0].prefix(length)) }
                #expect((lengths.previousLast == nil) == (previousLast == nil))
                #expect((lengths.first == nil) == (page.count == 1))
                previousLast = page.last
            }
            if let last = previousLast, let length = edges.finish() { paged[last] = String(last.prefix(length)) }
            #expect(paged == ShortIds.compute(ids, minimum: minimum), "round \(round): \(ids)")
            compared += 1
        }
        #expect(compared == 300)
    }

    @Test func commonPrefixesByBytesAreCountedInCharacters() {
        // Ids are ASCII and compared byte by byte; a carriage return (one character with a line feed after it) or a
        // combining mark after an agreeing byte must still be counted as characters are.
        func byCharacters(_ a: String, _ b: String) -> Int {
            zip(a, b).prefix { $0 == $1 }.count
        }
        let pieces = ["a", "b", "\r", "\n", "\r\n", "e", "\u{301}", "é", "ü", "😀", "-", "_"]
        var rng = SplitMix64(seed: 31)
        var compared = 0
        for _ in 0..<3000 {
            func text() -> String {
                (0..<Int.random(in: 0...6, using: &rng)).map { _ in
                    pieces[Int.random(in: 0..<pieces.count, using: &rng)]
                }
                .joined()
            }
            let common = text()
            let (a, b) = (common + text(), common + text())
            #expect(
                ShortIds.commonPrefix(a, b) == byCharacters(a, b),
                "\(Array(a.unicodeScalars)) \(Array(b.unicodeScalars))")
            compared += 1
        }
        #expect(compared == 3000)
        #expect(ShortIds.commonPrefix("abc\r\nx", "abc\r\ny") == 4)
        #expect(ShortIds.commonPrefix("abe\u{301}", "abex") == 2)
        #expect(ShortIds.commonPrefix("---0lm0v6LrfRB", "---0lmX") == 6)
    }

    @Test func linesSortedByIntegerPrefixesKeepTheListingOrder() {
        // Dates and ids from pieces that share prefixes, end inside the 16 bytes or run past them, and hold what
        // sends a line to the comparison by texts (NUL, a combining mark that composes with the byte before it).
        let datePieces = ["2019", "-0", "4", "-02", "1", "\u{0}", "e", "\u{301}", "é", " "]
        let idPieces = ["a", "b", "-", "_", "Z", "\u{0}", "e\u{301}", "ü"]
        var rng = SplitMix64(seed: 37)
        func text(_ pieces: [String], _ count: ClosedRange<Int>) -> String {
            (0..<Int.random(in: count, using: &rng)).map { _ in pieces[Int.random(in: 0..<pieces.count, using: &rng)] }
                .joined()
        }
        var lines: [SortedLine] = []
        var ids = Set<String>()
        while lines.count < 400 {
            // One line in four may hold the pieces past ASCII.
            let plain = Int.random(in: 0..<4, using: &rng) != 0
            let id = text(plain ? Array(idPieces.prefix(5)) : idPieces, 1...24)
            guard ids.insert(id).inserted else { continue }
            let dated = plain ? Array(datePieces.prefix(5)) + [" "] : datePieces
            let date = Int.random(in: 0..<5, using: &rng) == 0 ? nil : text(dated, 0...8)
            lines.append(SortedLine(date: date, id: id, line: Array(id.utf8)))
        }
        #expect(lines.contains { $0.prefix == nil } && lines.filter { $0.prefix != nil }.count > 200)
        var compared = 0
        for a in lines {
            for b in lines {
                #expect(
                    SortedLine.precedes(a, b) == RecordListing.precedes((a.date, a.id), (b.date, b.id)),
                    "\(String(describing: a.date)) \(a.id) / \(String(describing: b.date)) \(b.id)")
                compared += 1
            }
        }
        #expect(compared == 160_000)
        let expected = lines.sorted { RecordListing.precedes(($0.date, $0.id), ($1.date, $1.id)) }.map(\.id)
        #expect(SortedLine.sortedOrder(lines).map { lines[$0].id } == expected)
    }

    @Test func renderedLinesReadBackAsWritten() throws {
        let cells = ListingCells(["abcdef", "", "ü-REF 1", "…"])
        #expect(try ListingCells(listingBytes: cells.listingBytes) == cells)
        #expect(try ListingCells(listingBytes: []) == ListingCells([]))
        // A cell cut short is refused; a cut at a cell's end is a row of fewer cells.
        let cellBytes = cells.listingBytes
        var ends: [Int] = []
        for cell in cells.cells { ends.append((ends.last ?? 0) + 4 + cell.utf8.count) }
        #expect(ends.last == cellBytes.count)
        for cut in 0..<cellBytes.count where !ends.contains(cut) && cut != 0 {
            #expect(throws: AmanatError.self) { try ListingCells(listingBytes: Array(cellBytes.prefix(cut))) }
        }
        for line in [
            SortedLine(date: "2019-04", id: "x-ü-1", line: cellBytes), SortedLine(date: nil, id: "", line: []),
        ] {
            let bytes = line.bytes
            let back = try SortedLine(bytes: bytes)
            #expect(back.date == line.date && back.id == line.id && back.line == line.line)
            // Cut inside the date or the id: refused.
            for cut in 0..<(bytes.count - line.line.count) {
                #expect(throws: AmanatError.self) { try SortedLine(bytes: Array(bytes.prefix(cut))) }
            }
        }
    }

    @Test func summaryReadersTakeWhatTheWholeSummaryHolds() throws {
        // Summaries as the store keeps them (made from the example records, one retracted) and of other shapes
        let (ws, folder) = try workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let service = try RecordService(workspace: ws)
        let names = ["en-survivor-public.json", "kk-cyrl-relative-public.json", "zh-relative-internal.json"]
        let ids = try service.add(try names.map { try WorkspaceFlowTests.example($0) }, key: try ws.signingKey())
        var summaries = try ids.map { RecordSummary.make(try service.view($0), lastContent: nil) }
        #expect(summaries.allSatisfy { $0["identifiers"] != nil })
        summaries += try [
            #"{"identifiers":[["cn_resident_id","1"],["nope","2"],["kz_iin"],[1,"x"],"s"],"state":null}"#,
            #"{"identifiers":"x","links":[["r","same_person"],["s"],"t"],"linkSigner":5,"tags":"t","date":7}"#,
            #"{"attachments":"3","state":"unknown","reference":["x"],"language":"ug","tags":["a",1,"b"]}"#,
            #"{"attachments":2.5,"state":"conflict","links":{},"extra":{"identifiers":[]}}"#, "[]", "null", "{}",
            #"{"links":[["r","different_person"]],"linkSigner":"SHA256:synthetic","identifiers":[]}"#,
        ].map { try JSONValue.parse($0) }
        for summary in summaries {
            func read<T>(_ body: (inout JSONReader) throws -> T) throws -> T {
                var reader = try JSONReader(summary.canonicalUTF8())
                defer { #expect((try? reader.finish()) != nil) }
                return try body(&reader)
            }
            // What matching takes, as read from the whole summary
            let matching = try #require(try read(SyncService.readMatchingFields))
            func pairs(_ name: String) -> [[String]]? {
                summary[name]?.arrayValue?.compactMap { item in
                    guard let pair = item.arrayValue, pair.count == 2, let a = pair[0].stringValue,
                        let b = pair[1].stringValue
                    else { return nil }
                    return [a, b]
                }
            }
            #expect(
                matching.identifiers?.map { [$0.0.rawValue, $0.1] }
                    == pairs("identifiers")?.filter { IdentifierKind(rawValue: $0[0]) != nil })
            #expect(matching.hasState == (summary["state"] != nil))
            #expect(matching.linkSigner == summary["linkSigner"]?.stringValue ?? "")
            #expect(matching.links.map { [$0.other, $0.kind] } == pairs("links") ?? [])
            // What a listing entry takes
            let listed = try #require(try read(RecordSummary.readListedFields))
            var attachments = 0
            if case .number(let n)? = summary["attachments"] { attachments = Int(n) ?? 0 }
            #expect(listed.attachments == attachments)
            #expect(listed.state == summary["state"]?.stringValue.flatMap(RecordState.init(rawValue:)) ?? .incomplete)
            #expect(listed.reference == summary["reference"]?.stringValue)
            #expect(listed.language == summary["language"]?.stringValue)
            #expect(listed.date == summary["date"]?.stringValue)
            #expect(listed.tags == summary["tags"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        }
        #expect(summaries.count == 11)
    }

    @Test func listingEntriesReadBackAsWritten() throws {
        let entries = [
            Entry(id: "abcdefgh", shortId: "abcdef"),
            Entry(
                id: "x-ü-1", shortId: "x-ü-1", caseReference: "REF 1", language: "kk-Cyrl", consent: .public,
                date: "2019-04", attachments: 3, state: .conflict, versions: 4, heads: ["h1", "h2"], createdBy: "fp",
                lastIssuedAt: -5, tags: ["a", "", "c"]),
        ]
        for entry in entries {
            let bytes = RecordListing.encode(entry)
            #expect(try RecordListing.decode(bytes) == entry)
            for cut in 0..<bytes.count {
                #expect(throws: AmanatError.self) { try RecordListing.decode(Array(bytes.prefix(cut))) }
            }
        }
    }

    @Test func editWithTheSameContentSignsNothingAndHistoryNamesChangedFields() throws {
        let (ws, folder) = try workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let service = try RecordService(workspace: ws)
        let key = try ws.signingKey()
        let record = try WorkspaceFlowTests.example("kk-cyrl-relative-public.json")
        let id = try service.add([record], key: key)[0]
        let current = try service.editableContent(id)
        guard case .unchanged(let head) = try service.edit(id, content: current.content, key: key) else {
            Issue.record("an unchanged edit was signed")
            return
        }
        #expect(head == current.head.id)
        #expect(try service.store.versions(record: id).count == 1)
        #expect(throws: AmanatError.self) { try service.update(id, content: current.content, key: key) }

        let testimony = try #require(current.content["testimony"]).setting("date", .string("2019-06-04"))
        guard case .signed = try service.edit(id, content: current.content.setting("testimony", testimony), key: key)
        else {
            Issue.record("a real edit was not signed")
            return
        }
        let history = try service.history(id)
        #expect(history.map(\.kindName) == ["create", "edit"])
        #expect(history[0].comparisons.isEmpty)
        #expect(history[1].isHead)
        #expect(history[1].comparisons.first?.changes?.map(\.pointer) == ["/testimony/date"])

        let listed = try service.listing()
        #expect(listed.count == 1)
        #expect(listed[0].caseReference == "DSA-2019-0412")
        #expect(listed[0].date == "2019-06-04" && listed[0].language == "kk-Cyrl" && listed[0].attachments == 3)
        #expect(listed[0].state == .clean && listed[0].shortId == String(id.prefix(6)))
        #expect(try service.resolve(String(id.prefix(4))) == id)
        #expect(throws: AmanatError.self) { try service.resolve(String(id.prefix(3))) }

        _ = try service.tombstone(id, .retraction, reason: "duplicate", key: key)
        let retracted = try service.listing()[0]
        #expect(retracted.state == .retracted && retracted.caseReference == "DSA-2019-0412")
        _ = try service.tombstone(id, .erasure, reason: "asked", key: key)
        let erased = try service.listing()[0]
        #expect(erased.state == .erased && erased.caseReference == nil && erased.attachments == 0)
        #expect(try service.history(id).last?.kindName == "erase")
    }

    @Test func anAmbiguousPrefixListsTheCandidates() throws {
        let (ws, folder) = try workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let service = try RecordService(workspace: ws)
        let fakes = ["zzzzAAAAAAA", "zzzzAAAAAAB", "zzzzBBBBBBB"].map { id in
            StoredVersion(
                id: id, recordId: id, kind: .create, prev: [], issuedAt: 1, signer: "nobody", jwt: "jwt-" + id,
                disclosures: [], attachments: [],
                content: #"{"provenance":{"reference":"REF-\#(id.suffix(1))"},"schema":"amanat-record/v1"}"#)
        }
        _ = try service.store.insert(fakes, authority: service.authority)
        do {
            _ = try service.resolve("zzzz")
            Issue.record("an ambiguous prefix resolved")
        } catch let error as AmanatError {
            #expect(error.kind == .invalidRequest)
            #expect(error.message.contains("zzzzAAAAAAA  case REF-A"))
            #expect(error.message.contains("zzzzAAAAAAB  case REF-B"))
            #expect(error.message.contains("zzzzBB  case REF-B"))
        }
        #expect(try service.resolve("zzzzB") == "zzzzBBBBBBB")
        #expect(try service.resolve("id:zzzzAAAAAAA") == "zzzzAAAAAAA")
        #expect(throws: AmanatError.self) { try service.resolve("ZZZZB") }
    }
}
