import AmanatTestSupport
import Foundation
import Testing

/// Runs the built `amanat` executable as a child process, as a user would.
struct CLIHarness {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String

        init(status: Int32, stdout: String, stderr: String) {
            self.status = status
            self.stdout = stdout
            self.stderr = stderr
        }

        init(_ result: Subprocess.Result) {
            self.init(status: result.status, stdout: result.stdoutText, stderr: result.stderrText)
        }
    }

    /// The `amanat` binary next to the test bundle (swift test builds every product into one folder).
    static let executable: URL = {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var candidates = [here.appendingPathComponent("amanat")]
        candidates.append(PackagePaths.url(".build/debug/amanat"))
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }()

    /// A fresh temporary folder, removed by the caller with `cleanup()`.
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("amanat-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    func cleanup() { try? FileManager.default.removeItem(at: folder) }

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// Creates `name` as a subfolder and returns its path.
    @discardableResult
    func makeFolder(_ name: String) throws -> String {
        let url = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    @discardableResult
    func run(
        _ arguments: [String], in directory: String? = nil, passphrase: String? = "test passphrase 123",
        environment extra: [String: String] = [:], stdin: Data? = nil
    ) throws -> Result {
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "AMANAT_PASSPHRASE")
        environment.removeValue(forKey: "AMANAT_WORKSPACE")
        if let passphrase { environment["AMANAT_PASSPHRASE"] = passphrase }
        for (k, v) in extra { environment[k] = v }
        let result = try Subprocess.run(
            Self.executable, arguments, in: URL(fileURLWithPath: directory ?? folder.path), environment: environment,
            stdin: stdin ?? Data())
        return Result(result)
    }

    /// `amanat init` with fast (test-only) key protection in a new subfolder; returns the folder.
    func initWorkspace(_ name: String, org: String) throws -> String {
        let dir = try makeFolder(name)
        let result = try run(["init", "--org", org, "--kdf-log-n", "10"], in: dir)
        #expect(result.status == 0, "init failed: \(result.stderr)")
        return dir
    }

    /// SHA-256-free snapshot of a folder tree: relative path → contents, to prove "nothing changed".
    static func snapshot(_ root: String) -> [String: Data] {
        var result: [String: Data] = [:]
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return result }
        while let relative = enumerator.nextObject() as? String {
            let full = root + "/" + relative
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory)
            result[relative] = isDirectory.boolValue ? Data("<dir>".utf8) : FileManager.default.contents(atPath: full)
        }
        return result
    }

    /// The path of the program `name` on PATH, or nil (forwards to `PathLookup`; skipping a test whose tool is
    /// missing is `ExternalTool`'s job).
    static func tool(_ name: String) -> String? { PathLookup.find(name)?.path }

    /// Runs a program other than `amanat` (forwards to `Subprocess`).
    static func runTool(_ path: String, _ arguments: [String]) throws -> Result {
        Result(try Subprocess.run(path, arguments))
    }
}
