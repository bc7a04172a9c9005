import Foundation
import Testing

@Suite("erase and retract confirm at a terminal and need --yes without one")
struct DestructiveCommandTests {
    static let environment = ["AMANAT_PASSPHRASE": "test passphrase 123"]

    func setUp(_ cli: CLIHarness) throws -> (dir: String, id: String, short: String) {
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        let id = try cli.run(["add", RecordCommandTests.example("en-survivor-public.json")], in: a).addedId
        let list = try cli.run(["list", "--json"], in: a)
        let items = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        return (a, id, try #require(items.first?["shortId"] as? String))
    }

    func state(_ cli: CLIHarness, _ dir: String) throws -> String? {
        let list = try cli.run(["list", "--json"], in: dir)
        let items = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]
        return items?.first?["state"] as? String
    }

    @Test func withoutATerminalTheyNeedYesAndChangeNothing() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let (a, id, _) = try setUp(cli)
        let before = CLIHarness.snapshot(a + "/.amanat")
        for verb in ["erase", "retract"] {
            let refused = try cli.run([verb, "id:" + id, "--reason", "asked"], in: a)
            #expect(refused.status == 64)
            #expect(refused.stderr.contains("--yes"), "\(refused.stderr)")
            #expect(refused.stdout.isEmpty)
        }
        #expect(CLIHarness.snapshot(a + "/.amanat") == before)
        #expect(try state(cli, a) == "clean")
        #expect(try cli.run(["retract", "id:" + id, "--reason", "duplicate", "--yes"], in: a).status == 0)
        #expect(try state(cli, a) == "retracted")
        let erased = try cli.run(["erase", "id:" + id, "--reason", "asked", "--yes"], in: a)
        #expect(erased.status == 0, "\(erased.stderr)")
        #expect(try state(cli, a) == "erased")
        let list = try cli.run(["list"], in: a)
        #expect(list.stdout.contains("erased") && !list.stdout.contains("retracted"))
        let show = try cli.run(["show", "id:" + id], in: a)
        #expect(show.stdout.contains("State     erased"), "\(show.stdout)\(show.stderr)")
        #expect(try cli.run(["show", "id:" + id, "--history"], in: a).stdout.contains(" erase (head)"))
    }

    @Test func atATerminalTypingTheShortIdConfirms() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let (a, id, short) = try setUp(cli)
        let wrong = try PTYHarness.run(
            ["erase", "id:" + id, "--reason", "asked"], in: a, environment: Self.environment, input: ["yes"])
        #expect(!wrong.timedOut)
        #expect(wrong.status == 64, "\(wrong.output)")
        #expect(wrong.output.contains("Type the record's short id (\(short)) to confirm"), "\(wrong.output)")
        #expect(wrong.output.contains("nothing was erased"))
        #expect(try state(cli, a) == "clean")

        let retracted = try PTYHarness.run(
            ["retract", "id:" + id, "--reason", "duplicate"], in: a, environment: Self.environment, input: [short])
        #expect(retracted.status == 0, "\(retracted.output)")
        #expect(retracted.output.contains("case DBD-SURV-0042"))
        #expect(try state(cli, a) == "retracted")

        let erased = try PTYHarness.run(
            ["erase", "id:" + id, "--reason", "asked"], in: a, environment: Self.environment, input: [short])
        #expect(erased.status == 0, "\(erased.output)")
        #expect(erased.output.contains("Erased the personal data"))
        #expect(try state(cli, a) == "erased")
    }

    @Test func theHarnessSeesATerminalAndNeverHangs() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        // stdin, stdout and stderr are the terminal, which is also the controlling terminal (/dev/tty opens)
        let tty = try PTYHarness.run(
            executable: "/bin/sh", ["-c", "test -t 0 && test -t 1 && test -t 2 && : </dev/tty && echo ok"],
            in: cli.folder.path, environment: ["PATH": "/usr/bin:/bin"], steps: [], timeout: 20)
        #expect(tty.status == 0 && tty.output == "ok\n", "\(tty.output)")
        let prompted = try PTYHarness.run(
            executable: "/bin/sh", ["-c", "test -t 0 && printf 'name? ' && read x && echo got:$x"],
            in: cli.folder.path, environment: ["PATH": "/usr/bin:/bin"], steps: [.init(line: "hi")], timeout: 20)
        #expect(prompted.status == 0 && prompted.output.contains("got:hi"), "\(prompted.output)")
        let started = Date()
        let hung = try PTYHarness.run(
            executable: "/bin/sh", ["-c", "sleep 30"], in: cli.folder.path, environment: ["PATH": "/usr/bin:/bin"],
            steps: [], timeout: 1)
        #expect(hung.timedOut && hung.status == PTYHarness.timedOutStatus)
        #expect(Date().timeIntervalSince(started) < 10)
    }
}
