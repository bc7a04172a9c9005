import Foundation
import Testing

/// Issue #12 item 4: an interrupted `open` leaves no decrypted plaintext behind, and what a killed one left is
/// removed by the next command.
@Suite("Interrupting open")
struct InterruptTests {
    /// Two partners and a bundle of about 24 MB in its own folder `drop/`.
    struct Setup {
        let p: BundleCommandTests.Partners
        let drop: String
        let bundle: String

        init() throws {
            p = try BundleCommandTests.Partners()
            drop = try p.cli.makeFolder("drop")
            var video = Data(count: 24 << 20)
            for i in stride(from: 0, to: video.count, by: 4096) { video[i] = UInt8(truncatingIfNeeded: i >> 12) }
            try video.write(to: URL(fileURLWithPath: p.cli.path("big.mp4")))
            bundle = drop + "/case.amanat"
            let sealed = try p.cli.run(
                ["seal", "-r", "berlin", "-o", bundle, p.cli.path("big.mp4"), p.cli.path("verdict.txt")], in: p.a)
            #expect(sealed.status == 0, "\(sealed.stderr)")
        }

        /// Starts `amanat ARGS` in workspace b.
        func start(_ arguments: [String]) throws -> Process { try InterruptTests.start(arguments, in: p.b) }

        /// Everything under `folder` whose name starts with a dot (staging folders and temporary files).
        func hidden(_ folder: String) -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasPrefix(".") }
        }
    }

    /// Starts `amanat ARGS` in the workspace `folder`, its output discarded.
    static func start(_ arguments: [String], in folder: String) throws -> Process {
        let process = Process()
        process.executableURL = CLIHarness.executable
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        var environment = ProcessInfo.processInfo.environment
        environment["AMANAT_PASSPHRASE"] = "test passphrase 123"
        environment.removeValue(forKey: "AMANAT_WORKSPACE")
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    @Test func sigintAtRandomMomentsLeavesNothingButTheBundle() throws {
        let s = try Setup()
        defer { s.p.cli.cleanup() }
        var rng = SystemRandomNumberGenerator()
        var interrupted = 0
        for round in 0..<8 {
            let destination = s.drop + "/out-\(round)"
            let process = try s.start(["open", s.bundle, "-o", destination])
            if round % 2 == 0 {
                // At a random moment
                usleep(UInt32.random(in: 50_000...900_000, using: &rng))
            } else {
                // While the decrypted files are being written (a loaded machine can finish before any fixed delay)
                var waited = 0
                while process.isRunning && s.hidden(s.drop).isEmpty && waited < 8000 {
                    usleep(500)
                    waited += 1
                }
                usleep(UInt32.random(in: 0...20_000, using: &rng))
            }
            if process.isRunning { kill(process.processIdentifier, SIGINT) }
            process.waitUntilExit()
            let finished = process.terminationStatus == 0
            if !finished {
                // Then it exits with 128 + SIGINT (or died of the signal before its handler was installed, when
                // it had created nothing yet), and the destination does not exist
                #expect(
                    process.terminationStatus == 130
                        || (process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGINT),
                    "exit \(process.terminationStatus) (\(process.terminationReason == .uncaughtSignal ? "signal" : "exit"))"
                )
                #expect(!FileManager.default.fileExists(atPath: destination))
                interrupted += 1
            }
            // And beside the bundle there is no staging folder: only the bundle and finished extractions
            #expect(s.hidden(s.drop).isEmpty, "left behind: \(s.hidden(s.drop))")
            let names = try FileManager.default.contentsOfDirectory(atPath: s.drop)
            #expect(names.allSatisfy { $0 == "case.amanat" || $0.hasPrefix("out-") })
        }
        #expect(interrupted >= 1, "open always finished before the signal; make the bundle larger")
    }

    @Test func sigtermDuringImportLeavesNoStagingInTheWorkspace() throws {
        let s = try Setup()
        defer { s.p.cli.cleanup() }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<4 {
            let process = try s.start(["open", s.bundle])
            usleep(UInt32.random(in: 10_000...600_000, using: &rng))
            if process.isRunning { kill(process.processIdentifier, SIGTERM) }
            process.waitUntilExit()
            // Finished, or exited with 128 + SIGTERM, or (on a loaded machine) died of the signal before its
            // handler was installed, when it had created nothing yet
            #expect(
                [0, 143].contains(process.terminationStatus)
                    || (process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGTERM),
                "exit \(process.terminationStatus) (\(process.terminationReason == .uncaughtSignal ? "signal" : "exit"))"
            )
            #expect(s.hidden(s.p.b + "/.amanat").filter { $0.hasPrefix(".incoming") }.isEmpty)
        }
    }

    /// A second signal while the first one's handler is still removing a large staging folder (Ctrl-C pressed twice;
    /// `timeout` and `perf` send SIGINT then SIGTERM) must not end the process before the removal is done: the two
    /// handlers once ran on different threads, and the second, finding nothing left to remove, exited at once.
    @Test func aSecondSignalDuringTheRemovalWaitsForIt() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        // Given 3000 public records, whose publication writes two files per record into its staging folder
        var csv = "testimony.consent,provenance.organization,provenance.reference\n"
        for i in 0..<3000 { csv += "public,Test Archive One,REF-\(i)\n" }
        try Data(csv.utf8).write(to: URL(fileURLWithPath: cli.path("rows.csv")))
        let added = try cli.run(["add", cli.path("rows.csv"), "-q"], in: a)
        #expect(added.status == 0, "\(added.stderr)")
        let drop = try cli.makeFolder("drop")
        var caught = 0
        for round in 0..<4 {
            let process = try Self.start(
                ["publish", "--policy", AuthorityCommandTests.publicPolicy, "-o", drop + "/out-\(round)"], in: a)
            // When the staging folder holds a few hundred files, SIGINT, SIGTERM and SIGINT arrive at once
            let staging = {
                (try? FileManager.default.contentsOfDirectory(atPath: drop))?.first {
                    $0.hasPrefix(".out-\(round).partial-")
                }
            }
            var waited = 0
            while process.isRunning && waited < 20_000 {
                if let name = staging(),
                    ((try? FileManager.default.contentsOfDirectory(atPath: drop + "/" + name))?.count ?? 0) >= 400
                {
                    break
                }
                usleep(500)
                waited += 1
            }
            if process.isRunning {
                kill(process.processIdentifier, SIGINT)
                kill(process.processIdentifier, SIGTERM)
                kill(process.processIdentifier, SIGINT)
            }
            process.waitUntilExit()
            if process.terminationStatus != 0 { caught += 1 }
            // Then nothing but finished folders is left beside the output
            let names = try FileManager.default.contentsOfDirectory(atPath: drop)
            #expect(names.allSatisfy { !$0.hasPrefix(".") }, "left behind: \(names.filter { $0.hasPrefix(".") })")
        }
        #expect(caught >= 1, "publish always finished before the signals; publish more records")
    }

    @Test func whatAKilledOpenLeftIsRemovedByTheNextCommand() throws {
        let s = try Setup()
        defer { s.p.cli.cleanup() }
        // Given an `open -o` killed with SIGKILL (no handler runs) while its staging folder exists
        var leftBehind: [String] = []
        for _ in 0..<5 where leftBehind.isEmpty {
            let process = try s.start(["open", s.bundle, "-o", s.drop + "/out"])
            var waited = 0
            while process.isRunning && s.hidden(s.drop).isEmpty && waited < 4000 {
                usleep(500)
                waited += 1
            }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            leftBehind = s.hidden(s.drop)
            try? FileManager.default.removeItem(atPath: s.drop + "/out")
        }
        #expect(!leftBehind.isEmpty, "never caught the staging folder; make the bundle larger")
        // When any command runs in the workspace
        let status = try s.p.cli.run(["status"], in: s.p.b)
        #expect(status.status == 0, "\(status.stderr)")
        // Then the staging folder is gone, and only the bundle remains beside it
        #expect(s.hidden(s.drop).isEmpty, "still there: \(s.hidden(s.drop))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: s.drop) == ["case.amanat"])
    }
}
