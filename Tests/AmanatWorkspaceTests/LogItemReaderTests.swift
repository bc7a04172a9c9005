import AmanatLog
import Foundation
import Testing

@testable import AmanatWorkspace

/// A bundle's version proofs are read one item at a time from where the import staged them
/// (``BundleLog/ItemReader``): the same items and the same refusals as parsing the whole file, whatever the pieces
/// the stream comes in.
@Suite("Log items read as a stream")
struct LogItemReaderTests {
    /// Reads `bytes` through an item reader, `piece` bytes at a time at most.
    static func stream(_ bytes: [UInt8], piece: Int) throws -> [(label: String, bytes: [UInt8])] {
        var offset = 0
        let reader = try BundleLog.ItemReader { buffer in
            let n = min(buffer.count, piece, bytes.count - offset)
            for i in 0..<n { buffer[i] = bytes[offset + i] }
            offset += n
            return n
        }
        var items: [(label: String, bytes: [UInt8])] = []
        while let item = try reader.next() { items.append(item) }
        #expect(try reader.next() == nil)
        return items
    }

    static func same(_ a: [(label: String, bytes: [UInt8])], _ b: [(label: String, bytes: [UInt8])]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.label == $1.label && $0.bytes == $1.bytes }
    }

    @Test(arguments: [1, 3, 200, 1 << 16])
    func givesTheItemsOfTheWholeFileParser(piece: Int) throws {
        var generator = SystemRandomNumberGenerator()
        var items = BundleLog.Items()
        for i in 0..<300 {
            // Empty items, items with newlines inside, and items longer than a read.
            let length = [0, 1, 50, 1000, 70_000][i % 5]
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            items.items.append(("label-\(i)", bytes))
        }
        let serialized = items.serialized
        let whole = try BundleLog.Items(parsing: serialized)
        let streamed = try Self.stream(serialized, piece: piece)
        #expect(streamed.count == 300)
        #expect(Self.same(streamed, whole.items))
        #expect(Self.same(try Self.stream(Array(BundleLog.Items.magic.utf8), piece: piece), []))
    }

    /// Truncated, malformed and hostile streams are refused as the whole-file parser refuses them; an item longer
    /// than the stream's limit is refused before it is read.
    @Test func refusesWhatTheWholeFileParserRefuses() throws {
        let good = BundleLog.Items([("a", Array("one".utf8)), ("b", Array("two\n".utf8))]).serialized
        let magic = Array(BundleLog.Items.magic.utf8)
        var cases: [[UInt8]] = [
            Array(good.dropLast()),  // the last item's newline cut off
            Array(good.dropLast(3)),  // the last item cut short
            Array("not-items/v1\n".utf8),  // another magic line
            Array(magic.dropLast()),  // the magic line cut short
            magic + Array("a 3\nonexb 0\n\n".utf8),  // no newline after an item
            magic + Array("a 03\none\n".utf8),  // a leading zero
            magic + Array("a b 3\none\n".utf8),  // two labels
            magic + Array(" 3\none\n".utf8),  // no label
            magic + Array("a 1234567890\n".utf8),  // ten digits
            magic + Array(String(repeating: "x", count: 300).utf8) + Array(" 1\nx\n".utf8),  // a line too long
            magic + Array("a\u{7F} 1\nx\n".utf8),  // a label that is not printable ASCII
        ]
        let tooLong = BundleLog.ItemReader.maximumItemBytes + 1
        cases.append(magic + Array("a \(tooLong)\n".utf8) + [UInt8](repeating: 0x41, count: tooLong) + [0x0A])
        var refused = 0
        for (i, bytes) in cases.enumerated() {
            for piece in [1, 7, 1 << 16] {
                do {
                    _ = try Self.stream(bytes, piece: piece)
                    Issue.record("case \(i) was read in pieces of \(piece)")
                } catch is LogError {
                    refused += 1
                }
            }
            if i < cases.count - 1 {
                #expect(throws: LogError.self, "case \(i)") { _ = try BundleLog.Items(parsing: bytes) }
            }
        }
        #expect(refused == cases.count * 3)
        #expect(Self.same(try Self.stream(good, piece: 2), try BundleLog.Items(parsing: good).items))
    }
}
