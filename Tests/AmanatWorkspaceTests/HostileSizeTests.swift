import AmanatRedaction
import AmanatWorkspace
import Foundation
import Testing

/// Issue #12 item 3: memory stays within a small multiple of the input, whatever the input holds.
@Suite("Hostile sizes")
struct HostileSizeTests {
    /// The process's peak resident set size in bytes.
    static func peakRSS() -> Int {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return usage.ru_maxrss * 1024
    }

    @Test func recognizingAnArrayOfTinyValuesAsJSONTakesNoMemory() throws {
        // Given an 8 MB JSON array of 4 million zeros (scan took 3.5 GB on 32 MB of them, about 900 MB on these, when it built the document)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("amanat-size-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var bytes = [UInt8](repeating: 0x2C, count: (8 << 20) - 1)
        for i in stride(from: 1, to: bytes.count, by: 2) { bytes[i] = 0x30 }
        bytes[0] = 0x5B
        bytes[bytes.count - 1] = 0x5D
        let path = folder.appendingPathComponent("zeros.json").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        bytes = []
        // When scan opens it and decides its format
        let before = Self.peakRSS()
        let (mapped, format) = try FileScan.open(file: path)
        let grown = Self.peakRSS() - before
        // Then it is JSON, and the check raised the peak by far less than a gigabyte (it copies the input once)
        #expect(format == .json)
        #expect(mapped.buffer.count == (8 << 20) - 1)
        #expect(grown < 256 << 20, "peak memory grew by \(grown >> 20) MB")
        // And a truncated copy is refused as invalid JSON with a clear error
        try Data(Array(try Data(contentsOf: URL(fileURLWithPath: path)).prefix(1000))).write(
            to: URL(fileURLWithPath: path))
        #expect {
            _ = try FileScan.open(file: path)
        } throws: { error in
            (error as? AmanatError)?.message.contains("is not valid JSON") == true
        }
    }
}
