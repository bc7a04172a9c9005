import AmanatStore
import Foundation
import Testing

@Suite("Faults during import")
struct KillDuringImportTests {
    @Test func sigkillAtRandomMomentsLeavesAConsistentStore() throws {
        // Given a bundle with several hundred record versions from a trusted partner
        let p = try BundleCommandTests.Partners()
        defer { p.cli.cleanup() }
        let example = try Data(contentsOf: URL(fileURLWithPath: RecordCommandTests.example("en-survivor-public.json")))
        let record = String(decoding: example, as: UTF8.self)
        let many = "[" + Array(repeating: record, count: 400).joined(separator: ",") + "]"
        try Data(many.utf8).write(to: URL(fileURLWithPath: p.cli.path("many.json")))
        #expect(try p.cli.run(["add", p.cli.path("many.json")], in: p.a).status == 0)
        #expect(try p.cli.run(["seal", "-r", "berlin", "--all", "-o", p.cli.path("big.amanat")], in: p.a).status == 0)

        // The state an uninterrupted import reaches, in a separate workspace
        let reference = try p.cli.initWorkspace("r", org: "Test Reference")
        #expect(try p.cli.run(["trust", "add", p.cli.path("a.json")], in: reference).status == 0)
        try p.cli.run(["identity", "export", "-o", p.cli.path("r.json")], in: reference)
        #expect(
            try p.cli.run(["seal", "-r", p.cli.path("r.json"), "--all", "-o", p.cli.path("big-r.amanat")], in: p.a)
                .status == 0)
        #expect(try p.cli.run(["open", p.cli.path("big-r.amanat")], in: reference).status == 0)
        let expected = try stateHash(p.cli, reference)

        // When `amanat open` is killed with SIGKILL at random moments, again and again
        var rng = SystemRandomNumberGenerator()
        var killed = 0
        for _ in 0..<6 {
            let process = Process()
            process.executableURL = CLIHarness.executable
            process.arguments = ["open", p.cli.path("big.amanat")]
            process.currentDirectoryURL = URL(fileURLWithPath: p.b)
            var environment = ProcessInfo.processInfo.environment
            environment["AMANAT_PASSPHRASE"] = "test passphrase 123"
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(UInt32.random(in: 20_000...1_500_000, using: &rng))
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                killed += 1
            }
            process.waitUntilExit()
            // Then the store opens and passes SQLite's integrity check every time
            let storePath = p.b + "/.amanat/store.sqlite"
            if FileManager.default.fileExists(atPath: storePath) {
                let store = try CLIHarness.store(p.b)
                #expect(try store.integrityCheck())
            }
        }
        // and importing again gives the state of an uninterrupted import
        #expect(try p.cli.run(["open", p.cli.path("big.amanat")], in: p.b).status == 0)
        #expect(try stateHash(p.cli, p.b) == expected)
        // No staging folder is left behind once an import completes.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: p.b + "/.amanat").filter {
            $0.hasPrefix(".incoming")
        }
        #expect(leftovers.isEmpty)
        #expect(killed >= 1, "the import was never interrupted; raise the record count")
    }

    func stateHash(_ cli: CLIHarness, _ dir: String) throws -> String {
        let status = try cli.run(["status", "--json"], in: dir)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        return try #require(object["stateHash"] as? String)
    }
}
