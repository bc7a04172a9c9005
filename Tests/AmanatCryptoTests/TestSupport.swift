import AmanatCrypto
import Foundation
import Testing

/// Bytes from a hex string; whitespace is ignored. Traps on a bad digit so a typo in a vector fails loudly.
func hexBytes(_ text: String) -> [UInt8] {
    let digits = Array(text.unicodeScalars.filter { !$0.properties.isWhitespace })
    precondition(digits.count % 2 == 0, "odd number of hex digits")
    var out: [UInt8] = []
    out.reserveCapacity(digits.count / 2)
    var index = 0
    while index < digits.count {
        let pair = String(String.UnicodeScalarView(digits[index..<(index + 2)]))
        guard let byte = UInt8(pair, radix: 16) else { preconditionFailure("bad hex digit in \(pair)") }
        out.append(byte)
        index += 2
    }
    return out
}

func hexString(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}

func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }

func secret(_ text: String) -> SecretBytes { SecretBytes(Array(text.utf8)) }

/// Paths of the package and of the shared vector folder (`../shared/vectors` beside the package root).
enum TestPaths {
    static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        // …/Tests/AmanatCryptoTests/TestSupport.swift → package root
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()

    static let vectors: URL = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/vectors")

    static func vector(_ relativePath: String) -> URL { vectors.appendingPathComponent(relativePath) }

    static var vectorsPresent: Bool { FileManager.default.fileExists(atPath: vectors.path) }

    /// Vector suites run when the folder is present, and always in CI (env `CI` set), so that a missing folder
    /// fails loudly there instead of skipping.
    static var runVectorTests: Bool { vectorsPresent || ProcessInfo.processInfo.environment["CI"] != nil }
}

/// A stock command-line tool found on PATH, run as a subprocess.
struct Tool {
    let url: URL

    static func find(_ name: String) -> Tool? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return Tool(url: candidate) }
        }
        return nil
    }

    static let openssl = find("openssl")
    static let ageKeygen = find("age-keygen")

    struct Result {
        let status: Int32
        let stdout: Data
        let stderr: String
        var output: String { String(decoding: stdout, as: UTF8.self) }
    }

    /// Runs the tool with `arguments` in `directory`, feeding `input` on stdin.
    func run(_ arguments: [String], in directory: URL? = nil, input: Data? = nil) throws -> Result {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let outPipe = Pipe()
        let errPipe = Pipe()
        let inPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = inPipe
        try process.run()
        if let input { inPipe.fileHandleForWriting.write(input) }
        try inPipe.fileHandleForWriting.close()
        // Read both pipes concurrently so a chatty tool cannot block on a full pipe.
        let errBox = DataBox()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errBox.data = errPipe.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let out = outPipe.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: out, stderr: String(decoding: errBox.data, as: UTF8.self))
    }
}

private final class DataBox: @unchecked Sendable {
    var data = Data()
}

/// A fresh temporary folder, removed when the value goes away.
final class TemporaryFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("amanat-crypto-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
    }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> URL {
        let target = file(name)
        try Data(text.utf8).write(to: target)
        return target
    }

    @discardableResult
    func write(_ name: String, bytes: [UInt8]) throws -> URL {
        let target = file(name)
        try Data(bytes).write(to: target)
        return target
    }

    func read(_ name: String) throws -> String { try String(contentsOf: file(name), encoding: .utf8) }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// Wycheproof JSON (only the members the tests use).
struct WycheproofFile<Group: Decodable>: Decodable {
    let algorithm: String
    let numberOfTests: Int
    let testGroups: [Group]
}

func loadJSON<T: Decodable>(_ type: T.Type, from url: URL) throws -> T {
    try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
}
