import AmanatCrypto
import Foundation

/// A search of the workspace's own files for values that must not be readable there (the demo's "seized laptop"
/// step and the tests of `Specs/storage.md`): each file's bytes, and what every base64url run in it decodes to.
public enum AtRestAudit {
    /// What a search covered and found.
    public struct Report: Sendable {
        public var files = 0
        public var bytes = 0
        /// `value in file` for every hit (empty: nothing readable).
        public var hits: [String] = []
    }

    /// Searches every file under `folder` for each of `values` (UTF-8), as bytes and inside base64url runs of 16 or
    /// more characters.
    public static func search(_ folder: URL, for values: Set<String>) -> Report {
        var report = Report()
        let needles = values.filter { !$0.isEmpty }.sorted().map { ($0, Data($0.utf8)) }
        guard let walker = FileManager.default.enumerator(atPath: folder.path) else { return report }
        while let relative = walker.nextObject() as? String {
            guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(relative).path)
            else { continue }
            report.files += 1
            report.bytes += data.count
            var haystacks = [data]
            var run: [UInt8] = []
            func flush() {
                if run.count >= 16, let decoded = Base64URL.decode(String(decoding: run, as: UTF8.self)) {
                    haystacks.append(Data(decoded))
                }
                run = []
            }
            for byte in data {
                switch byte {
                case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x5F: run.append(byte)
                default: flush()
                }
            }
            flush()
            for (value, bytes) in needles where haystacks.contains(where: { $0.range(of: bytes) != nil }) {
                report.hits.append("\(value) in \(relative)")
            }
        }
        return report
    }
}
