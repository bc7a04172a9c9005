import AmanatTestSupport
import Foundation
import Testing

/// `amanat timestamp` end to end, against a local TSA served over HTTP on 127.0.0.1.
@Suite("amanat timestamp", .requires(.openssl, .python3))
struct TimestampCommandTests {
    /// One local TSA with its HTTP server for the whole suite.
    static let tsa = Result { () throws -> LocalTSA in
        let tsa = try LocalTSA()
        try tsa.startServer()
        return tsa
    }

    /// A workspace with the local TSA on its list as `local` (served at `path`).
    func setUp(path: String = "/tsa", otherCA: Bool = false) throws -> (CLIHarness, String, LocalTSA) {
        let tsa = try Self.tsa.get()
        let cli = try CLIHarness()
        let dir = try cli.initWorkspace("ws", org: "Timestamp CLI Org")
        let ca = try tsa.writeCA(into: cli.folder, other: otherCA)
        let added = try cli.run(["timestamp", "tsa", "add", "local", "--url", tsa.baseURL + path, "--ca", ca], in: dir)
        #expect(added.status == 0, "\(added.stderr)")
        return (cli, dir, tsa)
    }

    func tokenFiles(_ dir: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/.amanat/timestamps")) ?? []
        return names.filter { $0.hasSuffix(".tst") }.map { dir + "/.amanat/timestamps/" + $0 }
    }

    @Test("amanat timestamp asks the TSA, prints the time, lists it, and openssl accepts the stored token")
    func requestOverHTTP() throws {
        let (cli, dir, tsa) = try setUp()
        defer { cli.cleanup() }
        let listed = try cli.run(["timestamp", "tsa", "list"], in: dir)
        #expect(listed.status == 0)
        #expect(listed.stdout.contains("local\t\(tsa.baseURL)/tsa\tCN=Local Test TSA Root,O=Amanat Test"))

        let result = try cli.run(["timestamp"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("existed no later than 20"), "\(result.stdout)")
        #expect(result.stdout.contains("(TSA local: CN=Local Test TSA,O=Amanat Test)"), "\(result.stdout)")

        let list = try cli.run(["timestamp", "--list", "--json"], in: dir, passphrase: nil)
        #expect(list.status == 0, "\(list.stderr)")
        let entries = try #require(
            try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(entries.count == 1)
        #expect(entries.first?["status"] as? String == "verified")
        #expect(entries.first?["tsa"] as? String == "local")

        // The subject is the log's latest signed checkpoint (Workspace.timestampSubject), as `log show` prints it.
        let log = try cli.run(["log", "show", "--json"], in: dir)
        let shown = try #require(try JSONSerialization.jsonObject(with: Data(log.stdout.utf8)) as? [String: Any])
        let subject = Array(try #require(shown["checkpoint"] as? String).utf8)
        let token = Array(try Data(contentsOf: URL(fileURLWithPath: try #require(tokenFiles(dir).first))))
        #expect(try tsa.opensslVerifies(token: token, data: subject))
    }

    @Test("the carried-file flow: --request-out, openssl ts -reply, --import")
    func carriedFlow() throws {
        let (cli, dir, tsa) = try setUp()
        defer { cli.cleanup() }
        let out = try cli.run(["timestamp", "--request-out", "now.tsq"], in: dir)
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stderr.contains("--import"))
        #expect(tokenFiles(dir).isEmpty)
        let query = Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/now.tsq")))
        try Data(try tsa.reply(to: query)).write(to: URL(fileURLWithPath: dir + "/now.tsr"))
        let imported = try cli.run(["timestamp", "--import", "now.tsr"], in: dir, passphrase: nil)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("existed no later than"), "\(imported.stdout)")
        #expect(tokenFiles(dir).count == 1)
    }

    @Test(
        "failures exit with the documented codes and store nothing",
        arguments: [("/status500", Int32(74), "HTTP 500"), ("/html", 65, "text/html"), ("/garbage", 65, "RFC 3161")])
    func httpFailures(path: String, status: Int32, text: String) throws {
        let (cli, dir, _) = try setUp(path: path)
        defer { cli.cleanup() }
        let result = try cli.run(["timestamp"], in: dir)
        #expect(result.status == status, "\(path): \(result.stderr)")
        #expect(result.stderr.contains(text) && result.stderr.contains("'local'"), "\(path): \(result.stderr)")
        #expect(tokenFiles(dir).isEmpty)
    }

    @Test("an untrusted TSA exits 1; a garbage reply file exits 65; bad options exit 64")
    func refusals() throws {
        let (cli, dir, _) = try setUp(otherCA: true)
        defer { cli.cleanup() }
        let untrusted = try cli.run(["timestamp"], in: dir)
        #expect(untrusted.status == 1, "\(untrusted.stderr)")
        #expect(untrusted.stderr.contains("not trusted"), "\(untrusted.stderr)")
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: dir + "/junk.tsr"))
        let junk = try cli.run(["timestamp", "--import", "junk.tsr"], in: dir, passphrase: nil)
        #expect(junk.status == 65, "\(junk.stderr)")
        #expect(junk.stderr.contains("junk.tsr"))
        let usage = try cli.run(["timestamp", "--json"], in: dir, passphrase: nil)
        #expect(usage.status == 64, "\(usage.stderr)")
        let unknown = try cli.run(["timestamp", "--tsa", "loca"], in: dir)
        #expect(unknown.status == 64, "\(unknown.stderr)")
        #expect(unknown.stderr.contains("Did you mean 'local'?"), "\(unknown.stderr)")
        #expect(tokenFiles(dir).isEmpty)
    }

    @Test("tsa remove, then an empty list says how to add one")
    func removeTSA() throws {
        let (cli, dir, _) = try setUp()
        defer { cli.cleanup() }
        let removed = try cli.run(["timestamp", "tsa", "remove", "local"], in: dir)
        #expect(removed.status == 0, "\(removed.stderr)")
        let empty = try cli.run(["timestamp"], in: dir)
        #expect(empty.status == 64)
        #expect(empty.stderr.contains("amanat timestamp tsa add"), "\(empty.stderr)")
    }

    @Test("help shows the examples")
    func help() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let help = try cli.run(["timestamp", "--help"], passphrase: nil)
        #expect(help.status == 0)
        let lines = help.stdout.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("  amanat ") }.count == 6)
        for example in [
            "amanat timestamp tsa add freetsa --url https://freetsa.org/tsr --ca ca.pem",
            "amanat timestamp --request-out now.tsq", "amanat timestamp --import now.tsr",
        ] {
            #expect(help.stdout.contains(example), "\(example)")
        }
    }
}
