import AmanatCrypto
import AmanatLog
import AmanatTestSupport
import Foundation
import Testing

@testable import AmanatWorkspace

/// What a long command keeps per record until its end waits in a ``Spool``: the items come back whole and in order
/// (across the 64 KiB chunks of the encrypted file), nothing of them is readable on disk, and the file goes with
/// the spool.
@Suite("spool")
struct SpoolTests {
    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The names in `folder`.
    static func beside(_ folder: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path)
    }

    @Test func itemsComeBackWholeAndInOrderAndAreNotReadableOnDisk() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let marker = "SYNTHETIC-MARKER-410105"
        // Sizes around the 64 KiB chunk and the 4-byte length prefix, empty items, and many small ones.
        var items: [[UInt8]] = [[], Array(marker.utf8), [0, 0, 0, 0]]
        for size in [1, 3, 65_531, 65_532, 65_536, 65_537, 200_000] {
            items.append((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ size) })
        }
        for i in 0..<5000 { items.append(Array("\(marker) \(i)".utf8)) }
        var spool: Spool? = try Spool(beside: folder.appendingPathComponent("out"), label: "test")
        for item in items { try spool!.append(item) }
        #expect(spool!.count == items.count)
        // One staging folder beside the output, named so that a sweep after a crash would remove it.
        let staged = try Self.beside(folder)
        #expect(staged.count == 1 && staged[0].hasPrefix(".out.test.partial-"), "\(staged)")
        var read: [[UInt8]] = []
        try spool!.forEach { read.append($0) }
        #expect(read == items)
        // Read a second time: the same items.
        var again = 0
        try spool!.forEach { item in
            #expect(item == items[again])
            again += 1
        }
        #expect(again == items.count)
        // On disk: no item's bytes in the clear.
        let stagedFolder = folder.appendingPathComponent(staged[0])
        for name in try FileManager.default.contentsOfDirectory(atPath: stagedFolder.path) {
            let bytes = try Data(contentsOf: stagedFolder.appendingPathComponent(name))
            #expect(bytes.range(of: Data(marker.utf8)) == nil, "\(name) holds an item in the clear")
        }
        // Written to after it was read: refused.
        #expect(throws: AmanatError.self) { try spool!.append([1]) }
        spool = nil
        #expect(try Self.beside(folder).isEmpty)
    }

    @Test func aFileAlteredOrCutShortIsAnErrorNotWrongItems() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for damage in ["flip", "cut", "append"] {
            let spool = try Spool(beside: folder.appendingPathComponent("out-\(damage)"), label: "test")
            for i in 0..<20_000 { try spool.append(Array("item \(i)".utf8)) }
            try spool.forEach { _ in }
            let staged = try #require(try Self.beside(folder).first { $0.hasPrefix(".out-\(damage).") })
            let file = folder.appendingPathComponent(staged).appendingPathComponent("items")
            var bytes = try Data(contentsOf: file)
            switch damage {
            case "flip": bytes[bytes.count / 2] ^= 1
            case "cut": bytes = bytes.prefix(bytes.count - 100)
            default: bytes.append(contentsOf: [1, 2, 3])
            }
            try bytes.write(to: file)
            var seen = 0
            #expect(throws: AmanatError.self, "\(damage)") { try spool.forEach { _ in seen += 1 } }
            #expect(seen < 20_000, "\(damage): every item was read from a damaged file")
        }
    }

    @Test func publicationLogItemsReadBackAsWritten() throws {
        let digest = (0..<32).map { UInt8($0) }
        let entry = try LogEntry(kind: .recordVersion, digest: (0..<32).map { UInt8(255 - $0) })
        let items = [
            PublicationLogItem(record: "media/" + String(repeating: "ab", count: 32), digest: digest, version: nil),
            PublicationLogItem(record: "rec-1", digest: digest, version: ("v-1", "signer-1", nil)),
            PublicationLogItem(record: "rec-ü", digest: digest, version: ("v-2", "signer-2", entry)),
        ]
        for item in items {
            let back = try PublicationLogItem(encoded: item.encoded)
            #expect(back.record == item.record && back.digest == item.digest)
            #expect(back.version?.id == item.version?.id && back.version?.signer == item.version?.signer)
            #expect(back.version?.entry == item.version?.entry)
            #expect((back.version == nil) == (item.version == nil))
            // Cut short or with bytes left over: an error.
            for cut in 0..<item.encoded.count {
                #expect(throws: AmanatError.self) { try PublicationLogItem(encoded: Array(item.encoded.prefix(cut))) }
            }
            #expect(throws: AmanatError.self) { try PublicationLogItem(encoded: item.encoded + [0]) }
        }
    }

    @Test func aPublicationNamesTheFirstSkippedRecordsAndCountsTheRestByReason() {
        var result = PublicationResult(records: [], skipped: [])
        for i in 0..<250 {
            result.skip(Publisher.Skipped(record: "r\(i)", reason: ["internal", "withdrawn", "partners"][i % 3]))
        }
        #expect(result.skipped.map(\.record) == (0..<Publisher.listedSkips).map { "r\($0)" })
        #expect(result.skippedCount == 250)
        #expect(result.skippedReasons == ["internal": 84, "withdrawn": 83, "partners": 83])
        // Reasons beyond the counted ones are counted together.
        var many = PublicationResult(records: [], skipped: [])
        for i in 0..<(Publisher.countedReasons + 30) {
            many.skip(Publisher.Skipped(record: "r\(i)", reason: "why \(i)"))
        }
        many.skip(Publisher.Skipped(record: "again", reason: "why 0"))
        #expect(many.skippedReasons.count == Publisher.countedReasons + 1)
        #expect(many.skippedReasons[Publisher.otherReasons] == 30)
        #expect(many.skippedReasons["why 0"] == 2)
        #expect(many.skippedReasons.values.reduce(0, +) == many.skippedCount)
    }
}
