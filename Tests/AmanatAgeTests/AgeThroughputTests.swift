import AmanatAge
import AmanatCrypto
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A manual throughput measurement, not a timed unit test: runs only when `AMANAT_AGE_BENCH` names a large input
/// file (e.g. a 1 GiB file in /dev/shm), and prints MB/s for encryption and decryption with 1 and all threads.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["AMANAT_AGE_BENCH"] != nil, "set AMANAT_AGE_BENCH=<file>"))
struct AgeThroughputTests {
    @Test func measure() throws {
        let input = try #require(ProcessInfo.processInfo.environment["AMANAT_AGE_BENCH"])
        let output = input + ".amanat.age"
        let me = X25519AgeIdentity(privateKey: try X25519.PrivateKey.generate())
        let size = Double(try FileManager.default.attributesOfItem(atPath: input)[.size] as! Int)
        for threads in [1, 2] {
            // Encrypt file → file.
            let inFD = open(input, O_RDONLY)
            let outFD = open(output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            var start = Date()
            let writer = try AgeWriter(recipients: [me.recipient], parallelism: threads) { bytes in
                var done = 0
                while done < bytes.count { done += Glibc.write(outFD, bytes.baseAddress! + done, bytes.count - done) }
            }
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(inFD, $0.baseAddress!, $0.count) }
                if n <= 0 { break }
                try buffer.withUnsafeBytes { try writer.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            }
            try writer.finish()
            close(inFD)
            close(outFD)
            let encrypt = size / Date().timeIntervalSince(start) / 1e6
            // Decrypt file → discard.
            let readFD = open(output, O_RDONLY)
            start = Date()
            let reader = try AgeReader(
                source: { Glibc.read(readFD, $0.baseAddress!, $0.count) }, identities: [me], parallelism: threads)
            var total = 0
            while true {
                let n = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) }
                if n == 0 { break }
                total += n
            }
            close(readFD)
            let decrypt = size / Date().timeIntervalSince(start) / 1e6
            #expect(Double(total) == size)
            print("AmanatAge threads=\(threads): encrypt \(Int(encrypt)) MB/s, decrypt \(Int(decrypt)) MB/s")
        }
        unlink(output)
    }
}
