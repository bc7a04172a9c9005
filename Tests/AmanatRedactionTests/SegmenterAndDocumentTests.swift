import AmanatCrypto
import AmanatTestSupport
import Foundation
import Testing

@testable import AmanatRedaction

@Suite struct SegmenterTests {
    let segmenter = SimpleTextSegmenter()

    @Test func segmentsConcatenateToTheTextAndIsolateIdentifiers() {
        let text = "他的身份证号65010219800101139X。他在伊宁出生！Телефон +7 701 234 56 78? Yes.\nNext line 13800138000"
        let segments = segmenter.segments(of: text)
        #expect(segments.map(\.text).joined() == text)
        let identifiers = segments.filter { $0.finding != nil }
        #expect(identifiers.map(\.text) == ["65010219800101139X", "+7 701 234 56 78", "13800138000"])
        #expect(segments.contains { $0.text == "。" || $0.text.hasPrefix("。") })
        // Ranges are contiguous.
        for (a, b) in zip(segments, segments.dropFirst()) { #expect(a.range.upperBound == b.range.lowerBound) }
    }

    @Test func sentencesSplitOnPunctuationAndNewlines() {
        let segments = segmenter.segments(of: "One. Two! 三。四？\nFive")
        #expect(segments.map(\.text) == ["One. ", "Two! ", "三。", "四？", "\n", "Five"])
        #expect(segmenter.segments(of: "").isEmpty)
    }

    @Test func randomTextsRoundTrip() {
        var rng = SplitMix64(seed: 21)
        let pieces = ["。", ". ", "!", "\n", "ЖСН 910317300400", "text", "他", " ", "13800138000", "17.03.1991", "?"]
        for _ in 0..<300 {
            let text = (0..<Int.random(in: 0...20, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }
                .joined()
            let segments = segmenter.segments(of: text)
            #expect(segments.map(\.text).joined() == text)
            for segment in segments where segment.finding != nil { #expect(segment.range == segment.finding!.range) }
        }
    }
}

@Suite struct NormalizationTests {
    @Test func foldsOneCodePointToOneCharacterWithOffsets() {
        let folded = Normalization.fold(Array("１٢۳xⅩ—\u{3000}a\r\nб".utf8))
        #expect(folded.string == "123XX- a\n?")
        #expect(folded.offsets == [0, 3, 5, 7, 8, 11, 14, 17, 18, 20, 22])
    }

    @Test func everyFoldedDigitForm() {
        for d in 0..<10 {
            for base in [0xFF10, 0x0660, 0x06F0] {
                let scalar = String(Character(UnicodeScalar(UInt32(base + d))!))
                #expect(Normalization.fold(Array(scalar.utf8)).characters == [UInt8(0x30 + d)])
            }
        }
        for dash in ["\u{2010}", "\u{2011}", "\u{2012}", "\u{2013}", "\u{2014}", "\u{2015}", "\u{2212}", "\u{FF0D}"] {
            #expect(Normalization.fold(Array(dash.utf8)).characters == [0x2D])
        }
        for x in ["X", "x", "Ｘ", "ｘ", "Ⅹ", "ⅹ", "×"] { #expect(Normalization.fold(Array(x.utf8)).characters == [0x58]) }
        for space in ["\u{00A0}", "\u{2007}", "\u{2009}", "\u{202F}", "\u{3000}", "\t"] {
            #expect(Normalization.fold(Array(space.utf8)).characters == [0x20])
        }
    }
}

@Suite struct DocumentScannerTests {
    let scanner = DocumentScanner()

    func scan(_ text: String, _ format: DocumentFormat) throws -> [Finding] {
        try Array(text.utf8).withUnsafeBytes { try scanner.scan($0, format: format) }
    }

    @Test func jsonEscapesAreDecodedAndMappedBack() throws {
        let json = #"{"a":"ID 650102\u0031980\n0101-1234","b":"\u8eab\u4efd\u8bc1 650102198001011235"}"#
        let findings = try scan(json, .json)
        #expect(findings.map(\.value) == ["650102198001011234", "650102198001011235"])
        #expect(findings.map(\.confidence) == [.valid, .suspect])
        let start = json.byteOffset(of: "650102\\u")
        #expect(findings[0].range == start..<(start + 26))
    }

    @Test func jsonWithoutEscapesIsScannedRaw() throws {
        let json = #"{"phone":"+86 138 0013 8000","iin":"910317300400"}"#
        let findings = try scan(json, .json)
        #expect(findings.map(\.kind) == [.phone, .kzIIN])
        #expect(findings[1].range == json.byteOffset(of: "9103")..<(json.byteOffset(of: "9103") + 12))
    }

    @Test func surrogatePairsDecode() throws {
        let json = #"{"t":"\ud83d\ude00 13800138000"}"#
        let findings = try scan(json, .json)
        #expect(findings.map(\.value) == ["+8613800138000"])
        #expect(findings[0].range.lowerBound == json.byteOffset(of: "1380"))
    }

    @Test func sdJWTDisclosuresAreDecoded() throws {
        let header = Base64URL.encode(Array(#"{"alg":"EdDSA"}"#.utf8))
        let payload = Base64URL.encode(Array(#"{"iss":"org","note":"ЖСН 910317300400"}"#.utf8))
        let d1 = Base64URL.encode(Array(#"["salt1","national_id","65010219800101139X"]"#.utf8))
        let d2 = Base64URL.encode(Array(#"["salt2","city","Ghulja"]"#.utf8))
        let d3 = Base64URL.encode(Array(#"["salt3","phone","+7 701 234 56 78"]"#.utf8))
        let compact = "\(header).\(payload).c2ln~\(d1)~\(d2)~\(d3)~"
        let findings = try scan(compact, .sdJWT)
        #expect(findings.map(\.kind) == [.kzIIN, .cnResidentID, .phone])
        let p0 = compact.byteOffset(of: payload)
        #expect(findings[0].range == p0..<(p0 + payload.utf8.count))
        let s1 = compact.byteOffset(of: d1)
        #expect(findings[1].range == s1..<(s1 + d1.utf8.count))
        let s3 = compact.byteOffset(of: d3)
        #expect(findings[2].range == s3..<(s3 + d3.utf8.count))
        #expect(findings[2].value == "+77012345678")
        #expect(
            Array(compact.utf8).withUnsafeBytes { DocumentScanner.detectFormat($0, pathExtension: "txt") } == .sdJWT)
    }

    @Test func invalidSDJWTDisclosureThrows() {
        let header = Base64URL.encode(Array(#"{"alg":"EdDSA"}"#.utf8))
        let payload = Base64URL.encode(Array(#"{"iss":"org"}"#.utf8))
        #expect(throws: DocumentScanError.invalidSDJWTSegment(index: 1)) {
            try scan("\(header).\(payload).c2ln~!!!notbase64~", .sdJWT)
        }
        #expect(throws: DocumentScanError.invalidSDJWTSegment(index: 0)) { try scan("abc~", .sdJWT) }
    }

    @Test func formatDetection() {
        func detect(_ text: String, _ ext: String) -> DocumentFormat {
            Array(text.utf8).withUnsafeBytes { DocumentScanner.detectFormat($0, pathExtension: ext) }
        }
        #expect(detect("  {\"a\":1}", "txt") == .json)
        #expect(detect("hello", "json") == .json)
        #expect(detect("hello", "sd-jwt") == .sdJWT)
        #expect(detect("eyJ hello ~", "") == .text)
        #expect(detect("plain text", "txt") == .text)
    }
}
