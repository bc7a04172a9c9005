import Foundation
import Testing

@testable import AmanatRecords

@Suite("Record import")
struct ImportTests {
    // Synthetic identifiers with valid check characters, made from invented parts with check.py:
    // --make-cn 659001 19770412 523, --make-iin 770412 3 5018, --make-cn 659001 19880705 216.
    static let cnID = "65900119770412523X"
    static let iin = "770412350184"
    static let cnID2 = "659001198807052162"

    static let minimalHeader = "testimony.consent,provenance.organization,provenance.reference"

    func csv(_ text: String, limits: RecordImport.Limits = .init()) throws -> [JSONValue] {
        try RecordImport.parseCSV(Array(text.utf8), file: "test.csv", limits: limits)
    }

    /// The import error of `body`, or a test failure.
    func importError(_ body: () throws -> [JSONValue]) -> RecordImportError? {
        do {
            let records = try body()
            Issue.record("expected an import error, got \(records.count) records")
            return nil
        } catch let error as RecordImportError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    func csvError(_ text: String, limits: RecordImport.Limits = .init()) -> RecordImportError? {
        importError { try csv(text, limits: limits) }
    }

    func csvError(bytes: [UInt8], limits: RecordImport.Limits = .init()) -> RecordImportError? {
        importError { try RecordImport.parseCSV(bytes, file: "test.csv", limits: limits) }
    }

    // MARK: JSON

    @Test func everyJSONExampleImports() throws {
        var all: [JSONValue] = []
        for file in try RecordSpecFiles.exampleRecords() {
            let bytes = try RecordSpecFiles.bytes(file)
            let records = try RecordImport.parseJSON(bytes, file: file.lastPathComponent)
            #expect(records.count == 1)
            #expect(records.first == (try JSONValue.parse(bytes)))
            all += records
        }
        #expect(all.count == 7)
        let array = JSONValue.array(all).serialized()
        #expect(try RecordImport.parseJSON(Array(array.utf8), file: "all.json").count == 7)
    }

    @Test func jsonArrayErrorsNameIndexAndField() throws {
        let good = RecordSpecFiles.base
        let bad =
            #"{"schema":"amanat-record/v1","testimony":{"consent":"public"},"provenance":{"organization":"O","reference":"R"},"testifier":{"cnResidentId":"\#(Self.cnID.dropLast())"}}"#
        let error = importError {
            try RecordImport.parseJSON(Array("[\(good),\(good),\(bad)]".utf8), file: "batch.json")
        }
        #expect(error?.file == "batch.json")
        #expect(error?.issues.count == 1)
        #expect(error?.first.recordIndex == 2)
        #expect(error?.first.pointer == "/testifier/cnResidentId")
        #expect(error?.first.keyword == "pattern")
        let text = error?.description ?? ""
        #expect(
            text.hasPrefix(
                "batch.json: record [2], field /testifier/cnResidentId: does not match the pattern for a Chinese resident ID"
            ))
        #expect(!text.contains(String(Self.cnID.dropLast())))
    }

    @Test func jsonHostileInput() throws {
        func reason(_ text: String) -> RecordImportError? {
            importError { try RecordImport.parseJSON(Array(text.utf8), file: "x.json") }
        }
        let syntax = reason("{\n  \"schema\": \"amanat-record/v1\",\n  \"testimony\": {\"consent\": public}\n}")
        #expect(syntax?.first.line == 3)
        #expect(syntax?.first.characterColumn == 28)
        #expect(
            reason(#"{"schema":"amanat-record/v1","schema":"amanat-record/v1"}"#)?.first.reason.contains("duplicate")
                == true)
        #expect(reason(String(repeating: "[", count: 5000))?.first.reason.contains("nested deeper") == true)
        #expect(reason("[]")?.first.reason.contains("no records") == true)
        #expect(reason(#""just a string""#)?.first.reason.contains("found string") == true)
        #expect(reason("[\(RecordSpecFiles.base),7]")?.first.recordIndex == 1)
        let nul = reason(
            #"{"schema":"amanat-record/v1","testimony":{"consent":"public"},"provenance":{"organization":"O","reference":"R\u0000"}}"#
        )
        #expect(nul?.first.pointer == "/provenance/reference")
        #expect(nul?.first.reason == "contains a control character")
        let invalidUTF8 = importError { try RecordImport.parseJSON([0x22, 0xFF, 0x22], file: "x.json") }
        #expect(invalidUTF8?.first.reason.contains("UTF-8") == true)
        let tooBig = importError {
            try RecordImport.parseJSON(
                Array(RecordSpecFiles.base.utf8), file: "x.json", limits: .init(maximumFileBytes: 10))
        }
        #expect(tooBig?.first.reason.contains("larger than 10 bytes") == true)
        // A BOM is ignored (records.md says so for CSV; done for JSON too).
        #expect(
            try RecordImport.parseJSON([0xEF, 0xBB, 0xBF] + Array(RecordSpecFiles.base.utf8), file: "bom.json").count
                == 1)
    }

    @Test func stringsAreNormalizedToNFC() throws {
        let decomposed = "Aqbo\u{0301}ta (synthetic)"  // o + combining acute
        let record = try RecordSpecFiles.record([
            ("testifier", .object([("name", .object([("latn", .string(decomposed))]))]))
        ])
        let imported = try RecordImport.parseJSON(Array(record.serialized().utf8), file: "nfc.json")
        let name = imported.first?["testifier"]?["name"]?["latn"]?.stringValue ?? ""
        #expect(Array(name.unicodeScalars) == Array("Aqb\u{00F3}ta (synthetic)".unicodeScalars))
        let fromCSV = try csv("\(Self.minimalHeader),testifier.name.latn\npublic,Org,R-1,\(decomposed)\n")
        #expect(
            Array((fromCSV.first?["testifier"]?["name"]?["latn"]?.stringValue ?? "").unicodeScalars)
                == Array(name.unicodeScalars))
    }

    // MARK: CSV: the example file

    @Test func recordsCSVImportsAsCheckPyConverts() throws {
        let bytes = try RecordSpecFiles.bytes(RecordSpecFiles.examples.appendingPathComponent("records.csv"))
        let records = try RecordImport.parseCSV(bytes, file: "records.csv")
        #expect(records.count == 4)
        guard records.count == 4 else { return }
        let schema = try RecordSchema.bundled()
        for r in records { #expect(schema.validate(r).isEmpty) }
        // Row 2: status mini-syntax, approximate date, list cells, multi-line transcript.
        let r2 = records[0]
        #expect(r2["schema"] == .string("amanat-record/v1"))
        #expect(r2["testifier"]?["phones"] == .array([.string("+7 777 301 44 85"), .string("8 708 912 30 17")]))
        #expect(
            r2["detainees"]?.arrayValue?.first?["statusHistory"]
                == .array([
                    .object([
                        ("status", .string("detained")), ("date", .string("2018-09")), ("approximate", .bool(true)),
                        ("note", .string("жұмыс орнынан алып кетті")),
                    ]),
                    .object([
                        ("status", .string("sentenced")), ("date", .string("2019-06")), ("note", .string("12 жыл")),
                    ]),
                ]))
        #expect(r2["detainees"]?.arrayValue?.first?["sentence"]?["charges"] == .array([.string("煽动民族仇恨、民族歧视罪")]))
        #expect(
            r2["testimony"]?["transcript"]?.stringValue?.hasSuffix("кетті.\nМенің телефоным +7 777 301 44 85.") == true)
        #expect(r2["tags"] == .array([.string("synthetic"), .string("sentenced")]))
        // Row 3: two detainees, relatives, pair list, boolean, translation group.
        let r3 = records[1]
        #expect(
            r3["testifier"]?["documents"]
                == .array([.object([("kind", .string("kz_passport")), ("number", .string("N51830276"))])]))
        #expect(r3["detainees"]?.arrayValue?.count == 2)
        #expect(r3["detainees"]?.arrayValue?.last?["cnResidentId"] == .string("654223197001010115"))
        #expect(
            r3["detainees"]?.arrayValue?.first?["relativesInXinjiang"]?.arrayValue?.first?["relation"]
                == .string("жена"))
        #expect(r3["testimony"]?["translations"]?.arrayValue?.first?["machine"] == .bool(true))
        #expect(
            r3["testimony"]?["riskFlags"]
                == .array([.string("relatives_in_xinjiang"), .string("relatives_threatened")]))
        // Row 4: the bare internal row.
        #expect(
            records[2]
                == .object([
                    ("schema", .string("amanat-record/v1")), ("language", .string("zh-Hans")),
                    ("testimony", .object([("medium", .string("audio")), ("consent", .string("internal"))])),
                    (
                        "provenance",
                        .object([
                            ("organization", .string("Demo Steppe Archive (synthetic)")),
                            ("reference", .string("DSA-2021-0031 (语音未整理)")),
                        ])
                    ),
                ]))
        // Row 5: numbers, coordinates, attachment, camp survivor, link.
        let r5 = records[3]
        let coordinates = r5["detainees"]?.arrayValue?.first?["detention"]?.arrayValue?.first?["coordinates"]
        #expect(
            coordinates
                == .object([("lat", .number("46.75")), ("lon", .number("82.98")), ("source", .string("synthetic"))]))
        #expect(r5["attachments"]?.arrayValue?.first?["size"] == .number("61203456"))
        #expect(
            r5["testimony"]?["campSurvivor"]?["cellOccupancy"]
                == .object([("min", .number("14")), ("max", .number("14"))]))
        #expect(r5["testimony"]?["campSurvivor"]?["punishments"]?.stringValue?.contains("\"thought reports\"") == true)
        #expect(
            r5["links"]
                == .array([
                    .object([
                        ("kind", .string("published_video")),
                        ("url", .string("https://video.example.org/watch/dbd-surv-0007")),
                    ])
                ]))
    }

    @Test func columnListIsTheOneInRecordsMD() throws {
        let md = try String(contentsOf: RecordSpecFiles.specs.appendingPathComponent("records.md"), encoding: .utf8)
        let block = try #require(
            md.components(separatedBy: "from the schema):\n\n```\n").dropFirst().first?.components(separatedBy: "```")
                .first)
        func expand(_ token: String) -> [String] {
            guard let open = token.firstIndex(of: "{"), let close = token[open...].firstIndex(of: "}") else {
                return [token]
            }
            let head = String(token[..<open])
            let tail = String(token[token.index(after: close)...])
            return token[token.index(after: open)..<close].split(separator: ",").flatMap { expand(head + $0 + tail) }
        }
        var listed = Set<String>()
        for line in block.split(separator: "\n") {
            for token in line.split(separator: " ") {
                if token.hasPrefix("(") { break }
                expand(String(token)).forEach { listed.insert($0) }
            }
        }
        let derived = try RecordImport.csvColumns()
        #expect(derived.count == 153)
        #expect(Set(derived) == listed)
    }

    // MARK: CSV: cells

    @Test func cellConventions() throws {
        let header =
            "\(Self.minimalHeader),testifier.notes,detainee1.sentence.charges,testifier.documents,testifier.name.other,attachment1.sha256,attachment1.size,testimony.translation1.language,testimony.translation1.text,testimony.translation1.machine,schema"
        let sha = String(repeating: "ab", count: 32)
        let row =
            #" public ,Org,R-1,"  keep my spaces  ","a\;b; c\\d ;; e；f","kz_passport:N07315524; cn_passport ; other:","ru: Нурлан: second",\#(sha), 12 ,en, text ,TRUE,"#
        let records = try csv(header + "\r\n" + row + "\r\n")
        let r = try #require(records.first)
        #expect(r["testimony"]?["consent"] == .string("public"))  // structured cells are trimmed
        #expect(r["testifier"]?["notes"] == .string("  keep my spaces  "))  // text cells are literal
        #expect(
            r["detainees"]?.arrayValue?.first?["sentence"]?["charges"]
                == .array([.string("a;b"), .string("c\\d"), .string("e；f")]))
        #expect(
            r["testifier"]?["documents"]
                == .array([
                    .object([("kind", .string("kz_passport")), ("number", .string("N07315524"))]),
                    .object([("kind", .string("cn_passport"))]),
                    .object([("kind", .string("other"))]),
                ]))
        #expect(
            r["testifier"]?["name"]?["other"]
                == .array([.object([("lang", .string("ru")), ("value", .string("Нурлан: second"))])]))
        #expect(r["attachments"]?.arrayValue?.first?["size"] == .number("12"))
        #expect(
            r["testimony"]?["translations"]?.arrayValue?.first
                == .object([
                    ("language", .string("en")), ("text", .string(" text ")), ("machine", .bool(true)),
                ]))
        #expect(r["schema"] == .string("amanat-record/v1"))  // empty schema cell = default
        // Keys come out in schema order whatever the column order.
        #expect(
            r.objectValue?.map(\.0) == ["schema", "testifier", "detainees", "testimony", "attachments", "provenance"])
        let permuted = try csv(
            "provenance.reference,testimony.consent,provenance.organization,testifier.notes\nR-1,public,Org,n\n")
        let straight = try csv(
            "testimony.consent,testifier.notes,provenance.organization,provenance.reference\npublic,n,Org,R-1\n")
        #expect(permuted == straight)
        #expect(permuted.first?.serialized() == straight.first?.serialized())
    }

    @Test func blankRowsAreSkippedButCounted() throws {
        let text = "\u{FEFF}\(Self.minimalHeader)\npublic,Org,R-1\n\n,,\n   , ,\npublic,Org,\n"
        let error = csvError(text)
        // Row 6 (after a blank line and two empty rows) has nothing that identifies the testimony.
        #expect(error?.first.row == 6)
        #expect(error?.first.keyword == "anyOf")
        #expect(error?.first.reason.hasPrefix("nothing identifies the testimony") == true)
        #expect(try csv("\(Self.minimalHeader)\npublic,Org,R-1\n\n\n").count == 1)
    }

    @Test func badCellsNameRowAndColumn() throws {
        func first(_ extraHeader: String, _ extraCells: String) -> RecordImportError.Issue? {
            csvError("\(Self.minimalHeader),\(extraHeader)\npublic,Org,R-1,\(extraCells)\n")?.first
        }
        let size = first("attachment1.sha256,attachment1.size", "\(String(repeating: "0", count: 64)),1.5")
        #expect(size?.row == 2)
        #expect(size?.column == "attachment1.size")
        #expect(size?.columnPosition == 5)
        #expect(size?.reason == "must be a whole number in plain decimal (e.g. 14)")
        #expect(
            first(
                "testimony.translation1.machine,testimony.translation1.language,testimony.translation1.text", "yes,en,t"
            )?.reason == "must be true or false")
        #expect(
            first("detainee1.detention1.coordinates.lat,detainee1.detention1.coordinates.lon", "4e1,1")?.column
                == "detainee1.detention1.coordinates.lat")
        let status = first("detainee1.status", "detained@2018; vanished@2019")
        #expect(status?.column == "detainee1.status")
        #expect(status?.pointer == "/detainees/0/statusHistory/1/status")
        #expect(status?.reason.hasPrefix("item 2, status: must be one of: \"detained\"") == true)
        #expect(first("detainee1.status", "detained@")?.reason == "item 1: a date must follow @ (STATUS@DATE)")
        #expect(first("detainee1.status", "detained~")?.reason.hasPrefix("item 1: ~ marks") == true)
        #expect(first("detainee1.status", "@2019")?.reason.hasPrefix("item 1: the status is missing") == true)
        #expect(first("detainee1.status", "released@2019-02-30")?.keyword == "calendar")
        let unique = first("testifier.citizenship", "KZ; CN; KZ")
        #expect(unique?.column == "testifier.citizenship")
        #expect(unique?.reason == "item 3: repeats an earlier item; items must be unique")
        let missing = csvError("provenance.organization,provenance.reference,testimony.medium\nOrg,R-1,video\n")?.first
        #expect(missing?.column == "testimony.consent")
        #expect(missing?.keyword == "required")
        #expect(missing?.columnPosition == nil)
        let noProvenance = csvError("testimony.consent,testimony.transcript\npublic,t\n")?.first
        #expect(noProvenance?.pointer == "/provenance")
        #expect(noProvenance?.column == nil)
        let wrongSchema = csvError("\(Self.minimalHeader),schema\npublic,Org,R,amanat-record/v2\n")?.first
        #expect(wrongSchema?.column == "schema")
        #expect(wrongSchema?.keyword == "const")
    }

    @Test func numberedGroupsMustNotHaveGaps() throws {
        let error = csvError(
            "\(Self.minimalHeader),detainee1.gender,detainee2.gender,detainee3.gender\npublic,Org,R-1,male,,female\n")
        #expect(error?.first.row == 2)
        #expect(error?.first.column == "detainee3.gender")
        #expect(error?.first.reason.hasPrefix("detainee3 is filled but detainee2 is empty") == true)
        let nested = csvError("\(Self.minimalHeader),detainee1.relative2.relation\npublic,Org,R-1,wife\n")
        #expect(nested?.first.column == "detainee1.relative2.relation")
        let fine = try csv(
            "\(Self.minimalHeader),detainee1.gender,detainee2.gender,detainee3.gender\npublic,Org,R-1,male,female,\n")
        #expect(fine.first?["detainees"]?.arrayValue?.count == 2)
    }

    @Test func headerProblems() throws {
        for bad in [
            "testimony.Consent", "detainee0.gender", "detainee01.gender", "detainees.gender", "detainee1000.gender",
            "testifier.name", "detainee1.status_history", "testifier.cnResidentId", "testifier.phones.0", "detainee1",
            "testimony.translation1", "testifier.documents.kind", "testifier..name", "nickname",
            "detainee1.detention1.location",
        ] {
            let error = csvError("\(Self.minimalHeader),\(bad)\npublic,Org,R,x\n")
            #expect(error?.first.row == 1, "\(bad)")
            #expect(error?.first.column == bad, "\(bad)")
            #expect(error?.first.columnPosition == 4, "\(bad)")
            #expect(error?.first.reason.hasPrefix("unknown column") == true, "\(bad)")
        }
        let duplicate = csvError("\(Self.minimalHeader),testimony.consent\npublic,Org,R,public\n")
        #expect(duplicate?.first.column == "testimony.consent")
        #expect(duplicate?.first.columnPosition == 4)
        #expect(duplicate?.first.reason.contains("twice") == true)
        // A column without a name is tolerated only while it is empty.
        #expect(try csv("\(Self.minimalHeader),\npublic,Org,R,\n").count == 1)
        let unnamed = csvError("\(Self.minimalHeader),\npublic,Org,R,x\n")
        #expect(unnamed?.first.columnPosition == 4)
        #expect(unnamed?.first.column == nil)
        #expect(csvError("")?.first.reason.contains("empty") == true)
        #expect(try csv("\(Self.minimalHeader)\n").isEmpty)  // a header and no rows: nothing to import
    }

    // MARK: CSV: hostile input

    @Test func malformedCSV() throws {
        let h = Self.minimalHeader
        let unterminated = csvError("\(h)\npublic,Org,R-1\npublic,Org,\"R-2\nmore text\n")
        #expect(unterminated?.first.row == 3)
        #expect(unterminated?.first.column == "provenance.reference")
        #expect(unterminated?.first.line == 3)
        #expect(unterminated?.first.reason.contains("not closed") == true)
        let innerQuote = csvError("\(h)\npublic,Or\"g,R-1\n")
        #expect(innerQuote?.first.row == 2)
        #expect(innerQuote?.first.column == "provenance.organization")
        #expect(innerQuote?.first.reason.contains("does not start with") == true)
        let afterQuote = csvError("\(h)\n\"public\"x,Org,R-1\n")
        #expect(afterQuote?.first.column == "testimony.consent")
        #expect(afterQuote?.first.reason.contains("after the closing") == true)
        let ragged = csvError("\(h)\npublic,Org,R-1\npublic,Org\npublic,Org,R-3,extra\n")
        #expect(ragged?.issues.map(\.row) == [3, 4])
        #expect(ragged?.first.reason == "the row has 2 cells but the header has 3 columns")
        let bareCR = csvError("\(h)\rpublic,Org,R-1\r")
        #expect(bareCR?.first.row == 1)
        #expect(bareCR?.first.reason.contains("carriage return") == true)
        // Quoted cells keep commas, doubled quotes and line breaks; a multi-line cell does not start a row.
        let quoted = try csv(
            "\(h),testimony.transcript\npublic,\"Org, \"\"Demo\"\"\",R-1,\"line 1\r\nline 2\"\npublic,Org,R-2,t\n")
        #expect(quoted.first?["provenance"]?["organization"] == .string("Org, \"Demo\""))
        #expect(quoted.first?["testimony"]?["transcript"] == .string("line 1\r\nline 2"))
        let afterMultiline = csvError("\(h),testimony.transcript\npublic,Org,R-1,\"a\nb\nc\"\nsecret,Org,R-2,t\n")
        #expect(afterMultiline?.first.row == 3)
        #expect(afterMultiline?.first.column == "testimony.consent")
    }

    @Test func encodingAndControlBytes() throws {
        let head = Array("\(Self.minimalHeader),testifier.notes\npublic,Org,R-1,".utf8)
        let invalid = csvError(bytes: head + [0x61, 0xC3, 0x28] + Array("\n".utf8))
        #expect(invalid?.first.row == 2)
        #expect(invalid?.first.column == "testifier.notes")
        #expect(invalid?.first.reason == "a cell is not valid UTF-8")
        let overlong = csvError(bytes: head + [0xC0, 0xAF] + Array("\n".utf8))
        #expect(overlong?.first.reason == "a cell is not valid UTF-8")
        let nul = csvError(bytes: head + [0x61, 0x00, 0x62] + Array("\n".utf8))
        #expect(nul?.first.column == "testifier.notes")
        #expect(nul?.first.reason == "a cell contains a NUL byte")
        let quotedNul = csvError(bytes: head + [0x22, 0x00, 0x22] + Array("\n".utf8))
        #expect(quotedNul?.first.reason == "a cell contains a NUL byte")
        let escape = csvError(bytes: head + [0x1B] + Array("[31m\n".utf8))
        #expect(escape?.first.reason == "a cell contains a control character")
        // A BOM is ignored; a BOM anywhere else is text.
        #expect(
            try RecordImport.parseCSV(
                [0xEF, 0xBB, 0xBF] + Array("\(Self.minimalHeader)\npublic,Org,R-1\n".utf8), file: "b.csv"
            ).count == 1)
    }

    @Test func sizeLimits() throws {
        // A 100 MB file (one huge cell) is refused before it is read.
        var huge = Array("\(Self.minimalHeader)\npublic,Org,".utf8)
        huge += [UInt8](repeating: 0x61, count: 100 << 20)
        let file = csvError(bytes: huge)
        #expect(file?.first.reason == "the file is larger than \(64 << 20) bytes")
        // A 5 MB cell in a file under the file limit is refused at its row and column.
        var big = Array("\(Self.minimalHeader),testimony.transcript\npublic,Org,R-1,\"".utf8)
        big += [UInt8](repeating: 0x61, count: 5 << 20)
        big += Array("\"\n".utf8)
        let cell = csvError(bytes: big)
        #expect(cell?.first.row == 2)
        #expect(cell?.first.column == "testimony.transcript")
        #expect(cell?.first.reason == "a cell is larger than \(4 << 20) bytes")
        // Columns.
        let wide = csvError(String(repeating: "a,", count: 20) + "a\n", limits: .init(maximumColumns: 10))
        #expect(wide?.first.reason == "the row has more than 10 columns")
    }

    @Test func moreThan100kRowsAreRefused() throws {
        var text = Self.minimalHeader + "\n"
        text.reserveCapacity(1_700_000)
        for _ in 0..<100_001 { text += "public,O,R\n" }
        let error = csvError(text)
        #expect(error?.first.row == 100_002)
        #expect(error?.first.reason == "the file has more than 100000 records; split it into smaller files")
        // Exactly at a (smaller) limit is fine.
        let small = String(repeating: "public,O,R\n", count: 5)
        #expect(try csv(Self.minimalHeader + "\n" + small, limits: .init(maximumRecords: 5)).count == 5)
        #expect(
            csvError(Self.minimalHeader + "\n" + small + "public,O,R\n", limits: .init(maximumRecords: 5))?.first.row
                == 7)
    }

    @Test func oneBadRowFailsTheFileAndIssuesAreCapped() throws {
        var text = Self.minimalHeader + ",testifier.cn_resident_id\n"
        text += "public,Org,R-1,\(Self.cnID)\n"
        text += "public,Org,R-2,\(Self.cnID.dropLast())\n"
        text += "public,Org,R-3,\(Self.cnID2)\n"
        let error = csvError(text)
        #expect(error?.issues.count == 1)
        #expect(error?.first.row == 3)
        #expect(error?.first.column == "testifier.cn_resident_id")
        #expect(
            error?.description
                == "test.csv: row 3, column testifier.cn_resident_id (D): does not match the pattern for a Chinese resident ID (18 characters: 17 digits and a digit or X, or the legacy 15 digits)"
        )
        var many = Self.minimalHeader + ",testifier.kz_iin\n"
        for i in 0..<80 { many += "public,Org,R-\(i),\(Self.cnID)\n" }
        let capped = csvError(many)
        #expect(capped?.issues.count == 50)
        #expect(capped?.truncated == true)
        #expect(capped?.description.contains("only the first 50 are listed") == true)
    }

    @Test func errorsNeverContainIdentifiers() throws {
        let h =
            "\(Self.minimalHeader),testifier.kz_iin,testifier.cn_resident_id,testifier.phones,detainee1.gender,testifier.documents,detainee1.status,testifier.date_of_birth"
        let row =
            "public,Org,R-1,\(Self.cnID),\(Self.iin),\(Self.cnID2)x,\(Self.iin),\(Self.iin):\(Self.cnID2),\(Self.cnID)@\(Self.iin),\(Self.iin)"
        let error = try #require(csvError("\(h)\n\(row)\n"))
        #expect(error.issues.count == 8, "\(error)")
        // Within a row, problems are listed in column order.
        #expect(error.issues.compactMap(\.columnPosition) == [4, 5, 6, 7, 8, 9, 9, 10])
        let text = error.description
        for secret in [Self.cnID, Self.iin, Self.cnID2, "659001", "770412"] {
            #expect(!text.contains(secret), "\(secret)")
        }
        let json = JSONValue.object([
            ("schema", .string("amanat-record/v1")), ("testimony", .object([("consent", .string(Self.iin))])),
            ("provenance", .object([("organization", .string("Org")), ("reference", .string(Self.cnID))])),
            ("testifier", .object([("kzIin", .string(Self.cnID)), ("emails", .array([.string(Self.cnID2)]))])),
        ])
        let jsonError = try #require(
            importError { try RecordImport.parseJSON(Array(json.serialized().utf8), file: "r.json") })
        #expect(jsonError.issues.count == 3)
        for secret in [Self.cnID, Self.iin, Self.cnID2, "659001", "770412"] {
            #expect(!jsonError.description.contains(secret), "\(secret)")
        }
    }
}
