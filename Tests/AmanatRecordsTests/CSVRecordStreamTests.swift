import Foundation
import Testing

@testable import AmanatRecords

/// The CSV stream of `amanat add` reads a file piece by piece and gives the same records, row numbers and errors as
/// the whole-file parser, whatever the piece and batch sizes.
@Suite("CSV record stream")
struct CSVRecordStreamTests {
    /// Reads `bytes` through a stream with tiny pieces; returns every record with its row, and the batch sizes.
    static func stream(
        _ bytes: [UInt8], pieceBytes: Int, batch: Int, limits: RecordImport.Limits = .init(),
        maximumRowBytes: Int = 64 << 20
    ) throws -> (items: [CSVRecordStream.Item], batches: [Int]) {
        var offset = 0
        var stream = try CSVRecordStream(
            file: "test.csv", limits: limits, maximumRowBytes: maximumRowBytes, pieceBytes: pieceBytes
        ) { count in
            // Never more than a few bytes at a time, whatever is asked.
            let n = min(count, 3, bytes.count - offset)
            defer { offset += n }
            return Array(bytes[offset..<offset + n])
        }
        var items: [CSVRecordStream.Item] = []
        var batches: [Int] = []
        while let got = try stream.next(maximumCount: batch) {
            batches.append(got.count)
            items += got
        }
        #expect(try stream.next(maximumCount: batch)?.count == nil)
        return (items, batches)
    }

    static let header = "testimony.consent,provenance.organization,provenance.reference,testimony.transcript"

    /// A BOM, CRLF and LF line ends, blank rows, quoted cells with commas, doubled quotes and line breaks.
    static let tricky =
        "\u{FEFF}" + header + "\r\n"
        + "public,Org (synthetic),SYN-1,\"first line\r\nsecond, with a comma\"\r\n"
        + ",,,\n"
        + "\n"
        + "partners,Org (synthetic),SYN-2,\"a \"\"quoted\"\" word\n\nand more\"\n"
        + "internal,Org (synthetic),SYN-3,plain\n"
        + "public,Org (synthetic),SYN-4,\"ends the file without a line feed\""

    @Test(arguments: [1, 2, 5, 17, 1 << 20])
    func givesTheRecordsAndRowsOfTheWholeFileParser(pieceBytes: Int) throws {
        let bytes = Array(Self.tricky.utf8)
        let whole = try RecordImport.parseCSV(bytes, file: "test.csv")
        let rows = try RecordImport.csvRecordRows(bytes, file: "test.csv")
        #expect(whole.count == 4 && rows == [2, 5, 6, 7])
        for batch in [1, 3, 100] {
            let (items, batches) = try Self.stream(bytes, pieceBytes: pieceBytes, batch: batch)
            #expect(items.map(\.record) == whole)
            #expect(items.map(\.row) == rows)
            #expect(batches.allSatisfy { $0 >= 1 && $0 <= batch })
            #expect(batches.count == (4 + batch - 1) / batch)
        }
    }

    @Test func theExampleFileStreamsLikeItParses() throws {
        let bytes = try RecordSpecFiles.bytes(RecordSpecFiles.examples.appendingPathComponent("records.csv"))
        let whole = try RecordImport.parseCSV(bytes, file: "test.csv")
        #expect(whole.count == 4)
        let (items, _) = try Self.stream(bytes, pieceBytes: 64, batch: 3)
        #expect(items.map(\.record) == whole)
    }

    /// The same problems as the whole-file parser, listed together, rows counted across pieces and batches.
    @Test(arguments: [1, 7, 1 << 20])
    func reportsEveryProblemOfTheFileAsTheWholeFileParserDoes(pieceBytes: Int) throws {
        var text = Self.header + "\n"
        for i in 1...30 {
            let consent = i == 12 || i == 29 ? "secret" : "public"
            text += "\(consent),Org (synthetic),SYN-\(i),\"line one\nline two\"\n"
        }
        text += "public,Org (synthetic),SYN-31\n"
        let bytes = Array(text.utf8)
        let expected = try #require(throwsImportError { _ = try RecordImport.parseCSV(bytes, file: "test.csv") })
        #expect(expected.issues.map(\.row) == [13, 30, 32])
        let got = try #require(throwsImportError { _ = try Self.stream(bytes, pieceBytes: pieceBytes, batch: 4) })
        #expect(got.description == expected.description)
    }

    /// A batch of many rows is checked on all cores: the problems still come in row order, across the batch and the
    /// rest of the file, and a limit on the number of problems cuts the list where the whole-file parser cuts it.
    @Test(arguments: [100, 1000], [3, 100])
    func rowsCheckedInParallelReportTheirProblemsInRowOrder(batch: Int, maximumIssues: Int) throws {
        var text = Self.header + "\n"
        let bad: Set<Int> = [5, 6, 40, 41, 77, 150, 151, 299]
        for i in 1...300 {
            let consent = bad.contains(i) ? "secret" : "public"
            let cells = i == 120 ? ",extra" : ""
            text += "\(consent),Org (synthetic),SYN-\(i),\"line one\nline two\"\(cells)\n"
        }
        let bytes = Array(text.utf8)
        var limits = RecordImport.Limits()
        limits.maximumIssues = maximumIssues
        let expected = try #require(
            throwsImportError { _ = try RecordImport.parseCSV(bytes, file: "test.csv", limits: limits) })
        #expect(expected.issues.count == min(maximumIssues, 9))
        let got = try #require(
            throwsImportError { _ = try Self.stream(bytes, pieceBytes: 1 << 20, batch: batch, limits: limits) })
        #expect(got.description == expected.description)
        #expect(got.issues.map(\.row) == expected.issues.map(\.row))

        // The same rows without problems: every record, in order, in batches of the size asked for.
        let clean = Array(
            text.replacingOccurrences(of: "secret", with: "public").replacingOccurrences(of: ",extra", with: "").utf8)
        let whole = try RecordImport.parseCSV(clean, file: "test.csv")
        let (items, batches) = try Self.stream(clean, pieceBytes: 1 << 20, batch: batch)
        #expect(items.map(\.record) == whole)
        #expect(items.map(\.row) == Array(2...301))
        #expect(batches.allSatisfy { $0 <= batch } && batches.reduce(0, +) == 300)
    }

    @Test func syntaxErrorsAndOverlongRowsNameTheirRow() throws {
        let unclosed = Array((Self.header + "\npublic,Org (synthetic),SYN-1,ok\npublic,Org,SYN-2,\"open\n").utf8)
        let whole = try #require(throwsImportError { _ = try RecordImport.parseCSV(unclosed, file: "test.csv") })
        let streamed = try #require(throwsImportError { _ = try Self.stream(unclosed, pieceBytes: 4, batch: 1) })
        #expect(streamed.description == whole.description)
        #expect(streamed.first.row == 3)

        // The header is shorter than 120 bytes; the third row never ends.
        let long = Array(
            (Self.header + "\npublic,Org (synthetic),SYN-1,ok\npublic,Org,SYN-2,\"open"
                + String(repeating: "\n", count: 300)).utf8)
        let overlong = try #require(
            throwsImportError { _ = try Self.stream(long, pieceBytes: 8, batch: 1, maximumRowBytes: 120) })
        #expect(overlong.first.row == 3)
        #expect(overlong.first.reason.contains("longer than 120 bytes"))

        let tooMany = Array((Self.header + "\npublic,O,S-1,a\npublic,O,S-2,b\npublic,O,S-3,c\n").utf8)
        let limited = try #require(
            throwsImportError {
                _ = try Self.stream(tooMany, pieceBytes: 5, batch: 1, limits: .init(maximumRecords: 2))
            })
        #expect(limited.first.reason.contains("more than 2 records"))

        let empty = try #require(throwsImportError { _ = try Self.stream([], pieceBytes: 5, batch: 1) })
        #expect(empty.first.reason.contains("no header row"))
    }

    func throwsImportError(_ body: () throws -> Void) -> RecordImportError? {
        do {
            try body()
            Issue.record("expected an import error")
            return nil
        } catch let error as RecordImportError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }
}
