import AmanatTestSupport
import AmanatWorkspace
import ArgumentParser
import Foundation
import Testing

@testable import AmanatCLI

/// Issue #14, "Pipes, like age", and the options every command shares: the bundle through a real shell pipe into the
/// stock `age -d`, `open -`/`inspect -`/`scan -` from standard input, status on standard error (`-q` silences it),
/// `-a`, `-R FILE`, `-C DIR`, missing parent folders, the passphrase's source in errors, names suggested, and help
/// examples that are never broken across lines.
@Suite struct PipesAndOptionsTests {
    typealias Partners = BundleCommandTests.Partners

    /// Runs a shell pipeline with the built `amanat` first on PATH and the test passphrase.
    static func shell(_ script: String, in directory: String) throws -> CLIHarness.Result {
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = CLIHarness.executable.deletingLastPathComponent().path + ":" + (environment["PATH"] ?? "")
        environment["AMANAT_PASSPHRASE"] = "test passphrase 123"
        environment.removeValue(forKey: "AMANAT_WORKSPACE")
        return CLIHarness.Result(
            try Subprocess.run(
                "/bin/sh", ["-c", "set -e\n" + script], in: URL(fileURLWithPath: directory), environment: environment))
    }

    @Test func sealWithoutOutputWritesToAPipeThatStockAgeDecrypts() throws {
        let age = try ExternalTool.age.require().path
        let p = try Partners()
        defer { p.cli.cleanup() }
        // berlin's sealing key for the stock tool
        #expect(try p.cli.run(["identity", "export", "--age", "-o", p.cli.path("berlin.agekey")], in: p.b).status == 0)
        let piped = try Self.shell(
            "amanat seal -r berlin \(p.cli.path("verdict.txt")) | '\(age)' -d -i \(p.cli.path("berlin.agekey")) "
                + "> \(p.cli.path("bundle.tar"))", in: p.a)
        #expect(piped.status == 0, "\(piped.stderr)")
        // status went to standard error, and no file named '-' or similar appeared
        #expect(piped.stderr.contains("Sealed 1 entry into standard output"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: p.a) == [".amanat"])
        let tar = try CLIHarness.runTool("/usr/bin/tar", ["-tf", p.cli.path("bundle.tar")])
        #expect(
            tar.stdout.split(separator: "\n") == ["HEADER.jws", "files/verdict.txt", "MANIFEST.jws", "MANIFEST.tlog"])
    }

    @Test func openInspectAndScanReadStandardInput() throws {
        let p = try Partners()
        defer { p.cli.cleanup() }
        #expect(try p.seal().status == 0)
        let bundle = try Data(contentsOf: URL(fileURLWithPath: p.cli.path("case.amanat")))
        let inspected = try p.cli.run(["inspect", "-"], in: p.b, stdin: bundle)
        #expect(inspected.status == 0, "\(inspected.stderr)")
        #expect(inspected.stdout.contains("Bundle      standard input"))
        #expect(inspected.stdout.contains("files/verdict.txt"))
        let opened = try p.cli.run(["open", "-", "-o", p.cli.path("from-pipe")], in: p.b, stdin: bundle)
        #expect(opened.status == 0, "\(opened.stderr)")
        #expect(opened.stdout.isEmpty)
        #expect(opened.stderr.contains("Verified: signed by steppe"))
        #expect(
            FileManager.default.contents(atPath: p.cli.path("from-pipe/files/verdict.txt"))
                == FileManager.default.contents(atPath: p.cli.path("verdict.txt")))
        // a tampered stream is refused, naming standard input, and leaves nothing
        var damaged = bundle
        damaged[damaged.count - 100] ^= 1
        let refused = try p.cli.run(["open", "-", "-o", p.cli.path("damaged")], in: p.b, stdin: damaged)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("standard input"))
        #expect(!FileManager.default.fileExists(atPath: p.cli.path("damaged")))
        // scan -: text from a pipe (a synthetic Chinese mobile number)
        let scanned = try p.cli.run(["scan", "-"], stdin: Data("call +86 138 0013 8000 tonight\n".utf8))
        #expect(scanned.status == 1)
        #expect(scanned.stdout.contains("standard input: 1 identifier"))
        let clean = try p.cli.run(["scan", "-", "--json"], stdin: Data("nothing here\n".utf8))
        #expect(clean.status == 0)
        #expect(clean.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
        #expect(try p.cli.run(["scan", "-", "-"], stdin: Data()).status == 64)
    }

    @Test func importFromStandardInputAndQuietSilencesStatus() throws {
        let p = try Partners()
        defer { p.cli.cleanup() }
        #expect(try p.cli.run(["add", RecordCommandTests.example("en-survivor-public.json")], in: p.a).status == 0)
        let sealed = try p.cli.run(["seal", "-r", "berlin", "--all", "-a", "-q"], in: p.a)
        #expect(sealed.status == 0, "\(sealed.stderr)")
        #expect(sealed.stdout.hasPrefix("-----BEGIN AGE ENCRYPTED FILE-----"))
        #expect(sealed.stderr.isEmpty)
        let imported = try p.cli.run(["open", "-"], in: p.b, stdin: Data(sealed.stdout.utf8))
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stderr.contains("Imported 1 new version(s)"))
        #expect(imported.stdout.isEmpty)
        let again = try p.cli.run(["open", "-", "--quiet"], in: p.b, stdin: Data(sealed.stdout.utf8))
        #expect(again.status == 0)
        #expect(again.stdout.isEmpty && again.stderr.isEmpty)
        let json = try p.cli.run(["open", "-", "--json", "-q"], in: p.b, stdin: Data(sealed.stdout.utf8))
        #expect(json.status == 0)
        #expect(json.stdout.contains("\"versionsAlreadyPresent\" : 1"))
    }

    @Test func recipientsFileAndChangeDirectory() throws {
        let p = try Partners()
        defer { p.cli.cleanup() }
        try "# partners for case 0142\n\nberlin\n".write(
            toFile: p.cli.path("partners.txt"), atomically: true, encoding: .utf8)
        // -C a: as if started in a (relative paths and the workspace search start there)
        let sealed = try p.cli.run(
            ["-C", "a", "seal", "-R", "../partners.txt", "-o", "../r.amanat", "../verdict.txt"], in: p.cli.folder.path)
        #expect(sealed.status == 0, "\(sealed.stderr)")
        #expect(sealed.stderr.contains("for Test Database Two"))
        #expect(try p.cli.run(["-Cb", "inspect", "../r.amanat"], in: p.cli.folder.path).status == 0)
        // an empty recipients file, and a missing -C folder, are clear errors
        try "# nobody\n".write(toFile: p.cli.path("nobody.txt"), atomically: true, encoding: .utf8)
        let empty = try p.cli.run(
            ["seal", "-R", p.cli.path("nobody.txt"), "-o", p.cli.path("x"), "verdict.txt"], in: p.a)
        #expect(empty.status == 65)
        #expect(empty.stderr.contains("lists no recipient"))
        let missing = try p.cli.run(["-C", "no-such-folder", "status"], in: p.cli.folder.path)
        #expect(missing.status == 66)
        #expect(missing.stderr.contains("no-such-folder"))
    }

    @Test func openCreatesMissingParentFoldersAndRemovesThemOnFailure() throws {
        // #14 bug 2: `open case.amanat -o cases/0142` failed when cases/ did not exist
        let p = try Partners()
        defer { p.cli.cleanup() }
        #expect(try p.seal().status == 0)
        let opened = try p.cli.run(["open", p.cli.path("case.amanat"), "-o", p.cli.path("cases/2026/0142")], in: p.b)
        #expect(opened.status == 0, "\(opened.stderr)")
        #expect(FileManager.default.fileExists(atPath: p.cli.path("cases/2026/0142/files/verdict.txt")))
        // a bundle that does not verify leaves no folder behind, not even the parents it created
        try Data("not a bundle".utf8).write(to: URL(fileURLWithPath: p.cli.path("junk.amanat")))
        let refused = try p.cli.run(["open", p.cli.path("junk.amanat"), "-o", p.cli.path("new/deep/dir")], in: p.b)
        #expect(refused.status == 65)
        #expect(!FileManager.default.fileExists(atPath: p.cli.path("new")))
    }

    @Test func wrongPassphraseNamesItsSource() throws {
        let p = try Partners()
        defer { p.cli.cleanup() }
        let fromEnvironment = try p.cli.run(["status"], in: p.a, passphrase: "not the passphrase")
        #expect(fromEnvironment.status == 1)
        #expect(fromEnvironment.stderr.contains("the passphrase from AMANAT_PASSPHRASE does not unlock"))
        try "also wrong\n".write(toFile: p.cli.path("pass.txt"), atomically: true, encoding: .utf8)
        let fromFile = try p.cli.run(["status", "--passphrase-file", p.cli.path("pass.txt")], in: p.a, passphrase: nil)
        #expect(fromFile.status == 1)
        #expect(fromFile.stderr.contains("the passphrase from the passphrase file \(p.cli.path("pass.txt"))"))
    }

    @Test func aMistypedPartnerNameGetsASuggestionAndTheAcceptedNames() throws {
        let p = try Partners()
        defer { p.cli.cleanup() }
        let sealed = try p.cli.run(
            ["seal", "-r", "Berlin", "-o", p.cli.path("x.amanat"), p.cli.path("verdict.txt")], in: p.a)
        #expect(sealed.status == 64)
        #expect(sealed.stderr.contains("Did you mean 'berlin'?"))
        #expect(sealed.stderr.contains("Accepted: 'berlin'"))
        #expect(!FileManager.default.fileExists(atPath: p.cli.path("x.amanat")))
        let removed = try p.cli.run(["trust", "remove", "berln"], in: p.a)
        #expect(removed.status == 64)
        #expect(removed.stderr.contains("Did you mean 'berlin'?"))
        #expect(Workspace.closest(to: "geneva", among: ["berlin", "geneva-office"]) == nil)
        #expect(Workspace.closest(to: "GENEVA", among: ["berlin", "geneva"]) == "geneva")
    }

    /// Every command's help, at the default 80 columns and on a 40-column terminal: each example of its discussion
    /// appears as one whole line.
    @Test func helpExamplesAreNeverBrokenAcrossLines() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        func commands(_ type: any ParsableCommand.Type, path: [String]) -> [([String], String)] {
            let configuration = type.configuration
            var result = [(path, configuration.discussion)]
            for sub in configuration.subcommands {
                result += commands(sub, path: path + [sub.configuration.commandName ?? ""])
            }
            return result
        }
        var checked = 0
        for (path, discussion) in commands(AmanatCommand.self, path: []) {
            let examples = discussion.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { $0.hasPrefix("amanat ") || $0.contains("| amanat ") }
            for columns in ["80", "40"] {
                let help = try cli.run(path + ["--help"], environment: ["COLUMNS": columns])
                #expect(help.status == 0)
                let lines = Set(help.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
                for example in examples {
                    let whole = lines.contains(example)
                    #expect(
                        whole, "`amanat \(path.joined(separator: " ")) --help` (COLUMNS=\(columns)) breaks: \(example)")
                    checked += 1
                }
            }
        }
        #expect(checked >= 60)
    }
}
