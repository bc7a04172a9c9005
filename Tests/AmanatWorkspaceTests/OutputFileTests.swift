import AmanatCrypto
import AmanatTestSupport
import Foundation
import Testing

@testable import AmanatWorkspace

/// `OutputFile` hands a durable file's pages to the disk every ``OutputFile/writebackStride`` bytes while it is
/// written (a hint; the flush in `commit()` is the guarantee). Files that cross the stride many times, in pieces
/// that do not line up with it, arrive byte for byte; an uncommitted one leaves nothing behind.
@Suite("OutputFile")
struct OutputFileTests {
    @Test(arguments: [true, false])
    func aFileAcrossManyStridesArrivesWhole(durable: Bool) throws {
        let dir = try SpoolTests.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("big.bin").path
        let out = try OutputFile(path, mode: 0o600, tracked: false, durable: durable)
        let stride = Int(OutputFile.writebackStride)
        // 2.5 strides in pieces of a prime size, so no write ends on a stride boundary.
        let pieceSize = 1_048_573
        var expected = [UInt8]()
        var n = 0
        while expected.count < stride * 5 / 2 {
            let bytes = SplitMix64.bytes(pieceSize, seed: UInt64(n))
            try bytes.withUnsafeBytes { try out.write($0) }
            expected += bytes
            n += 1
        }
        #expect(!FileManager.default.fileExists(atPath: path))
        try out.commit()
        let written = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(written.count == expected.count)
        #expect(try SHA256.hash(written) == SHA256.hash(expected))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["big.bin"])
    }

    @Test func anUncommittedFileLeavesNothing() throws {
        let dir = try SpoolTests.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("never.bin").path
        do {
            let out = try OutputFile(path, mode: 0o600, tracked: false)
            let bytes = SplitMix64.bytes(Int(OutputFile.writebackStride) + 4096, seed: 7)
            try bytes.withUnsafeBytes { try out.write($0) }
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).count == 1)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }
}
