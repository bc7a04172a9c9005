import AmanatAge
import AmanatCrypto
import AmanatTestSupport
import Foundation
import Testing

/// Helpers for the AmanatAge tests that only they use (the shared ones are in AmanatTestSupport).
enum AgeTestSupport {
    static func sha256Hex(_ bytes: [UInt8]) throws -> String { Hex.encode(try SHA256.hash(bytes)) }

    /// zlib-inflates `data` with python3's zlib module (the test kit compresses its large vectors). The caller's
    /// test needs ``ExternalTool/python3``.
    static func zlibDecompress(_ data: [UInt8]) throws -> [UInt8] {
        let python = try ExternalTool.python3.require()
        let result = try Subprocess.run(
            python, ["-c", "import sys, zlib; sys.stdout.buffer.write(zlib.decompress(sys.stdin.buffer.read()))"],
            stdin: Data(data))
        guard result.status == 0 else { throw TestFailure("zlib inflate failed: \(result.stderrText)") }
        return result.stdout
    }

    /// Decrypts with a reader, collecting the released plaintext and the error (if any).
    static func decryptCollecting(
        _ file: [UInt8], identities: [any AgeIdentity], armor: AgeArmorMode = .detect, readSize: Int = 1 << 16
    ) -> (plaintext: [UInt8], error: Error?) {
        var plaintext: [UInt8] = []
        do {
            let reader = try AgeReader(source: Age.memorySource(file), identities: identities, armor: armor)
            var buffer = [UInt8](repeating: 0, count: readSize)
            while true {
                let n = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) }
                if n == 0 { break }
                plaintext += buffer[0..<n]
            }
            return (plaintext, nil)
        } catch {
            return (plaintext, error)
        }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
