import AmanatCrypto
import Foundation
import Testing

@testable import AmanatWorkspace

/// `OutputFile` hands a durable file's pages to the disk every ``OutputFile/writebackStride`` bytes while it is
/// written (a hint; the flush in `commit()` is the guarantee). Files that cross the stride many times, in pieces
/// that do not line up with it, arrive byte for byte; an uncommitted one leaves nothing behind.
@Suite("OutputFile")
struct OutputFileTests {
    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("amanat-output-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Pseudo-random bytes from a seed (the content only has to differ from piece to piece).
    static func piece(_ seed: Int, count: Int) -> [UInt8] {
        var state = UInt64(truncatingIfNeeded: seed) &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<count).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
    }

    @Test(arguments: [true, false])
    func aFileAcrossManyStridesArrivesWhole(durable: Bool) throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("big.bin").path
        let out = try OutputFile(path, mode: 0o600, tracked: false, durable: durable)
        let stride = Int(OutputFile.writebackStride)
        // 2.5 strides in pieces of a prime size, so no write ends on a stride boundary.
        let pieceSize = 1_048_573
        var expected = [UInt8]()
        var n = 0
        while expected.count < stride * 5 / 2 {
            let bytes = Self.piece(n, count: pieceSize)
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
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("never.bin").path
        do {
            let out = try OutputFile(path, mode: 0o600, tracked: false)
            let bytes = Self.piece(7, count: Int(OutputFile.writebackStride) + 4096)
            try bytes.withUnsafeBytes { try out.write($0) }
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).count == 1)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }
}
