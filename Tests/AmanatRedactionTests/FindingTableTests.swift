import AmanatRedaction
import Foundation
import Testing

@Suite("Compact findings and streaming scans")
struct FindingTableTests {
    /// Several MiB of multilingual text with identifiers placed so that some straddle the scan's block seams.
    static let text: [UInt8] = {
        let pieces = [
            "身份证号65010219800101139X，他在伊宁。", "ЖСН: 910317 300400, БИН 700140000019. ", "+7 (701) 234-56-78 ",
            "旧身份证 650102800101123 ", "Order 16501021980010112345 ", "туған күні 17.03.1991, арестован 17.03.2018. ",
            "My phone is +86 138-0013-8000 and e-mail test.person@example.org. ", "Ordinary sentence without numbers. ",
        ]
        var out: [UInt8] = []
        var i = 0
        while out.count < 3 << 20 {
            out += Array(pieces[i % pieces.count].utf8)
            i += 1
        }
        return out
    }()

    @Test func tableStreamingAndSequentialScansAgree() throws {
        // Given a detector that splits big inputs into parallel blocks
        let detector = Detector(parallelThreshold: 1 << 20, threadCount: 3)
        try Self.text.withUnsafeBytes { buffer in
            // When the same bytes are scanned sequentially, as a table, and streamed block by block
            let sequential = detector.scanSequential(buffer)
            let table = detector.scanTable(buffer).findings
            var streamed: [Finding] = []
            var blocks = 0
            var lastDone = 0
            try detector.scanTable(buffer) { block, doneBelow in
                blocks += 1
                #expect(doneBelow >= lastDone)
                lastDone = doneBelow
                for i in 0..<block.count { streamed.append(block.finding(i)) }
            }
            // Then all three give exactly the same findings, in order, with values intact
            #expect(sequential.count > 10_000)
            #expect(table == sequential)
            #expect(streamed == sequential)
            #expect(blocks > 1)
            #expect(detector.scan(buffer) == sequential)
        }
    }

    @Test func compactValuesMatchTheFindings() throws {
        let detector = Detector()
        let bytes = Array("身份证 650102198001011235 and +7 701 234 5678".utf8)
        try bytes.withUnsafeBytes { buffer in
            var seen: [(IdentifierKind, String, Confidence)] = []
            try detector.scanTable(buffer) { block, _ in
                for i in 0..<block.count {
                    let value = block.withValue(i) { String(decoding: $0, as: UTF8.self) }
                    seen.append((block.kind(i), value, block.confidence(i)))
                }
            }
            #expect(seen.map(\.0) == [.cnResidentID, .phone])
            #expect(seen.map(\.1) == ["650102198001011235", "+77012345678"])
            #expect(seen.map(\.2) == [.suspect, .valid])
        }
    }
}
