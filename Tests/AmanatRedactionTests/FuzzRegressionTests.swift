import AmanatTestSupport
import Foundation
import Testing

@testable import AmanatRedaction

/// The fuzzer's findings for the detectors (`Tests/Vectors/fuzz-regressions/detectors/`), and the property they
/// broke: a parallel scan gives exactly the findings of ``Detector/scanSequential(_:)``, whatever the input and
/// wherever the blocks are cut.
@Suite struct FuzzRegressionTests {
    static let folder = TestVectors.folder.appendingPathComponent("fuzz-regressions/detectors")

    /// Every file in the folder, by name.
    static func regressions() throws -> [(name: String, bytes: [UInt8])] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        return try names.map { name in
            (name, Array(try Data(contentsOf: folder.appendingPathComponent(name))))
        }
    }

    /// `bytes` repeated until the result is at least `count` bytes long, cut to `count`.
    static func repeated(_ bytes: [UInt8], to count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count + bytes.count)
        while out.count < count { out += bytes }
        return Array(out.prefix(count))
    }

    /// The parallel scan (the array, the table and the streamed blocks) next to the sequential one.
    static func expectSameAsSequential(
        _ bytes: [UInt8], _ detector: Detector, _ label: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let sequential = bytes.withUnsafeBytes { Detector().scanSequential($0) }
        let parallel = detector.scan(bytes)
        #expect(parallel.count == sequential.count, "\(label)", sourceLocation: sourceLocation)
        #expect(parallel == sequential, "\(label)", sourceLocation: sourceLocation)
        var streamed: [Finding] = []
        try bytes.withUnsafeBytes { buffer in
            try detector.scanTable(buffer) { block, _ in
                for index in 0..<block.count { streamed.append(block.finding(index)) }
            }
        }
        #expect(streamed == sequential, "\(label) streamed", sourceLocation: sourceLocation)
    }

    @Test func everyRegressionAtEverySize() throws {
        // Given every minimized input of the detectors' harness, repeated as the harness does (9,000 bytes) and to
        // more than 1 MiB (where `amanat scan` turns parallel by default),
        let regressions = try Self.regressions()
        #expect(regressions.map(\.name) == ["parallel-block-boundary-phone"])
        for (name, bytes) in regressions {
            #expect(!bytes.isEmpty)
            // When scanned in parallel with the harness's settings (blocks of 4 KiB) and others,
            let small = Self.repeated(bytes, to: 9000)
            for threads in [2, 3, 4] {
                try Self.expectSameAsSequential(
                    small, Detector(parallelThreshold: 1, threadCount: threads), "\(name) 9000 bytes, \(threads)")
            }
            let large = Self.repeated(bytes, to: (1 << 20) + 4099)
            // Then the findings are exactly those of the sequential scan.
            try Self.expectSameAsSequential(large, Detector(threadCount: 2), "\(name) 1 MiB, 2 threads")
            try Self.expectSameAsSequential(large, Detector(threadCount: 7), "\(name) 1 MiB, 7 threads")
        }
    }

    @Test func blockBoundaryPhoneAsTheFuzzerReportedIt() throws {
        // The first difference the fuzzer saw: at the 8192-byte boundary the sequential scan finds the phone at
        // 8206..<8219, which the parallel scan missed (it reported one at 8215..<8228 instead).
        let bytes = Self.repeated(Array("74-184-18".utf8), to: 9000)
        let sequential = bytes.withUnsafeBytes { Detector().scanSequential($0) }
        let parallel = Detector(parallelThreshold: 1, threadCount: 2).scan(bytes)
        #expect(sequential.count == 499)
        #expect(sequential.contains { $0.kind == .phone && $0.range == 8206..<8219 })
        #expect(parallel == sequential)
    }

    // MARK: Random inputs around block boundaries

    static let ignorables = ["\u{200B}", "\u{00AD}", "\u{2060}", "\u{FEFF}", "\u{200F}", "\u{E0041}", "\u{180E}"]
    static let separators = [" ", "-", ".", "/", "\n", "\r\n", "\u{00A0}", "\u{2013}", "。", "(", ")", "  ", "- "]
    static let words = [
        "passport ", "护照", "ИИН ", "身份证", "туған ", "born ", "arrested ", "E", "G", "N", "EA", "+", "X", "x",
        "@mail.kz ", "微信 ", "年", "月", "日", "一", "二〇", "March ", "марта ", "ЖСН: ", "a", "。",
    ]
    static let zeros: [UInt32] = [0x30, 0x30, 0x30, 0x0660, 0x06F0, 0xFF10, 0x0966, 0x1D7CE]

    /// A random digit group (1 to 8 digits, mostly ASCII, sometimes another script or Chinese numerals).
    static func group(_ rng: inout SplitMix64) -> String {
        let count = Int.random(in: 1...8, using: &rng)
        let digits = (0..<count).map { _ in Int.random(in: 0...9, using: &rng) }
        if Int.random(in: 0..<12, using: &rng) == 0 {
            return digits.map { EvasionPropertyTests.hanNumerals[$0] }.joined()
        }
        let zero = zeros.randomElement(using: &rng)!
        return digits.map { String(Unicode.Scalar(zero + UInt32($0))!) }.joined()
    }

    /// Text made mostly of digit groups glued by separators, with ignorables and context words between them, and
    /// sometimes a valid identifier.
    static func randomText(_ rng: inout SplitMix64, bytes: Int) -> [UInt8] {
        var text = ""
        var count = 0
        while count < bytes {
            var piece: String
            switch Int.random(in: 0..<20, using: &rng) {
            case 0..<10: piece = group(&rng)
            case 10..<15: piece = separators.randomElement(using: &rng)!
            case 15..<17: piece = ignorables.randomElement(using: &rng)!
            case 17..<19: piece = words.randomElement(using: &rng)!
            default:
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: piece = Synthetic.chineseID(&rng)
                case 1: piece = Synthetic.kazakhIIN(&rng)
                case 2: piece = "+86 " + Synthetic.chineseMobile(&rng)
                default: piece = "17.03.1991"
                }
            }
            count += piece.utf8.count
            text += piece
        }
        return Array(text.utf8)
    }

    @Test func randomGluedNumbersAroundBlockBoundaries() throws {
        // Given 300 seeded random texts of glued digit groups, separators, ignorables and context words, long
        // enough for two to six blocks,
        var rng = SplitMix64(seed: 0xB10C)
        var scans = 0
        var differing = 0
        var findings = 0
        var firstDifference = ""
        for round in 0..<300 {
            let size = Int.random(in: 5000...30000, using: &rng)
            let bytes = Self.randomText(&rng, bytes: size)
            let threads = Int.random(in: 2...5, using: &rng)
            // When scanned in parallel (blocks of at least 4 KiB) and sequentially,
            let sequential = bytes.withUnsafeBytes { Detector().scanSequential($0) }
            let parallel = Detector(parallelThreshold: 1, threadCount: threads).scan(bytes)
            scans += 1
            findings += sequential.count
            if parallel != sequential {
                if differing == 0 {
                    firstDifference = "round \(round): \(parallel.count) vs \(sequential.count) findings"
                }
                differing += 1
            }
        }
        print("random block boundaries: scans: \(scans), findings: \(findings), differing: \(differing)")
        // Then they agree every time.
        #expect(scans == 300)
        #expect(findings > 300)
        #expect(differing == 0, "first: \(firstDifference)")
    }

    @Test func numbersGluedAcrossManyBlocksStayExact() throws {
        // Given long runs of glued groups (whose chains the sequential scan cuts every 48 groups) of every period,
        // the same with ignorables inside, and a run longer than a whole block,
        var rng = SplitMix64(seed: 0xB10D)
        for round in 0..<40 {
            let groups = (0..<Int.random(in: 1...5, using: &rng)).map { _ in Self.group(&rng) }
            let separator = Self.separators.randomElement(using: &rng)!
            var unit = groups.joined(separator: separator) + separator
            if round % 3 == 1 { unit = unit.replacingOccurrences(of: "1", with: "1\u{200B}") }
            let bytes = Self.repeated(Array(unit.utf8), to: Int.random(in: 9000...40000, using: &rng))
            // Then the parallel scan gives the sequential scan's findings.
            try Self.expectSameAsSequential(
                bytes, Detector(parallelThreshold: 1, threadCount: Int.random(in: 2...4, using: &rng)), "round \(round)"
            )
        }
    }
}
