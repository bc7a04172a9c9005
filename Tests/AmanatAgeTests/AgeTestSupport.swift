import AmanatAge
import AmanatCrypto
import Foundation

/// Shared helpers for the AmanatAge tests.
enum AgeTestSupport {
    /// The package root (two levels above this file's folder).
    static let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static let testkitFolder = packageRoot.appendingPathComponent("../shared/vectors/age-testkit").standardized

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    static func sha256Hex(_ bytes: [UInt8]) throws -> String { hex(try SHA256.hash(bytes)) }

    /// Deterministic pseudo-random test bytes (not cryptographic; just varied content).
    static func pattern(_ count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    /// Runs a program; returns its exit status, stdout and stderr.
    @discardableResult
    static func run(
        _ executable: String, _ arguments: [String], stdin: [UInt8]? = nil
    ) throws -> (status: Int32, stdout: [UInt8], stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let outPipe = Pipe()
        let errPipe = Pipe()
        let inPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = stdin == nil ? FileHandle.nullDevice : inPipe
        try process.run()
        if let stdin {
            // Write stdin on another thread so a large input cannot deadlock against a full stdout pipe.
            let handle = inPipe.fileHandleForWriting
            let data = Data(stdin)
            Thread.detachNewThread {
                try? handle.write(contentsOf: data)
                try? handle.close()
            }
        }
        let errBox = ErrBox()
        let errThread = Thread { errBox.data = errPipe.fileHandleForReading.readDataToEndOfFile() }
        errThread.start()
        let out = outPipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while errBox.data == nil { usleep(1000) }
        return (process.terminationStatus, [UInt8](out), String(decoding: errBox.data ?? Data(), as: UTF8.self))
    }

    final class ErrBox: @unchecked Sendable {
        private let lock = NSLock()
        private var value: Data?
        var data: Data? {
            get { lock.withLock { value } }
            set { lock.withLock { value = newValue } }
        }
    }

    /// The path of a tool on PATH, or nil.
    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// zlib-inflates `data` with python3's zlib module (the test kit compresses its large vectors).
    static func zlibDecompress(_ data: [UInt8]) throws -> [UInt8] {
        guard let python = which("python3") else { throw TestFailure("python3 is needed to inflate test-kit vectors") }
        let result = try run(
            python, ["-c", "import sys, zlib; sys.stdout.buffer.write(zlib.decompress(sys.stdin.buffer.read()))"],
            stdin: data)
        guard result.status == 0 else { throw TestFailure("zlib inflate failed: \(result.stderr)") }
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
