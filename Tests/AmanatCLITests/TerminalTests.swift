import AmanatTestSupport
import Foundation
import Testing

/// Issue #14 at a real terminal (``PTYHarness``): the passphrase prompt with its three tries, a binary bundle
/// refused on the terminal, and progress drawn with a rate and a time estimate, which never reaches a pipe.
@Suite struct TerminalTests {
    static let passphrase = "test passphrase 123"

    @Test func theWrongPassphraseMayBeRetriedTwiceAtTheTerminal() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        // wrong, wrong, right: unlocked on the third try (each line typed once its prompt shows: echo is off by then)
        let third = try PTYHarness.run(
            ["status"], in: a,
            steps: [
                .init(waitFor: "Passphrase:", line: "wrong one"),
                .init(waitFor: "Passphrase:", line: "wrong two"),
                .init(waitFor: "Passphrase:", line: Self.passphrase),
            ])
        #expect(third.status == 0, "\(third.output)")
        #expect(third.output.contains("That passphrase does not unlock the keys; try again (2 left)."))
        #expect(third.output.contains("State hash:"))
        #expect(!third.output.contains("wrong one"), "the passphrase was echoed")
        // three wrong: exit 1, and the message names the prompt as the source
        let refused = try PTYHarness.run(
            ["status"], in: a,
            steps: [
                .init(waitFor: "Passphrase:", line: "wrong one"),
                .init(waitFor: "Passphrase:", line: "wrong two"),
                .init(waitFor: "Passphrase:", line: "wrong three"),
            ])
        #expect(refused.status == 1, "\(refused.output)")
        #expect(refused.output.contains("the passphrase from the prompt does not unlock"))
    }

    @Test func aBinaryBundleIsNotWrittenToTheTerminal() throws {
        let p = try BundleCommandTests.Partners()
        defer { p.cli.cleanup() }
        let environment = ["AMANAT_PASSPHRASE": Self.passphrase]
        let binary = try PTYHarness.run(
            ["seal", "-r", "berlin", p.cli.path("verdict.txt")], in: p.a, environment: environment, input: [])
        #expect(binary.status == 64)
        #expect(binary.output.contains("name the bundle file with -o FILE"))
        let armored = try PTYHarness.run(
            ["seal", "-r", "berlin", "-a", p.cli.path("verdict.txt")], in: p.a, environment: environment, input: [])
        #expect(armored.status == 0, "\(armored.output)")
        #expect(armored.output.contains("-----BEGIN AGE ENCRYPTED FILE-----"))
    }

    @Test func longWorkShowsProgressAtATerminalAndNothingInAPipe() throws {
        let p = try BundleCommandTests.Partners()
        defer { p.cli.cleanup() }
        let environment = ["AMANAT_PASSPHRASE": Self.passphrase]
        // 24 MiB to seal: a bar with a rate and the time left
        var big = Data(count: 24 << 20)
        big.withUnsafeMutableBytes { raw in
            for i in stride(from: 0, to: raw.count, by: 4096) { raw[i] = UInt8(truncatingIfNeeded: i >> 12) }
        }
        try big.write(to: URL(fileURLWithPath: p.cli.path("big.mp4")))
        let sealed = try PTYHarness.run(
            ["seal", "-r", "berlin", "-o", p.cli.path("big.amanat"), p.cli.path("big.mp4")], in: p.a,
            environment: environment, input: [])
        #expect(sealed.status == 0, "\(sealed.output)")
        #expect(sealed.output.contains("sealing ["))
        #expect(sealed.output.contains("MiB/s"))
        #expect(sealed.output.contains(" left"))
        // 300 records to sign (about 1 MiB of JSON): counted in bytes of input, batch by batch
        let example = try String(
            contentsOf: PackagePaths.url("Specs/examples/en-survivor-public.json"), encoding: .utf8)
        try ("[" + Array(repeating: example, count: 300).joined(separator: ",") + "]").write(
            toFile: p.cli.path("many.json"), atomically: true, encoding: .utf8)
        let added = try PTYHarness.run(
            ["add", p.cli.path("many.json")], in: p.a, environment: environment, input: [])
        #expect(added.status == 0, "\(added.output.suffix(2000))")
        #expect(added.output.contains("adding ["))
        #expect(added.output.contains("MiB/s"))
        // the same work into a pipe: no bar, no carriage returns
        let piped = try p.cli.run(["open", p.cli.path("big.amanat"), "-o", p.cli.path("big-out")], in: p.b)
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(!piped.stderr.contains("opening [") && !piped.stderr.contains("\r"))
        let opened = try PTYHarness.run(
            ["open", p.cli.path("big.amanat"), "-o", p.cli.path("big-tty")], in: p.b, environment: environment,
            input: [])
        #expect(opened.status == 0, "\(opened.output)")
        #expect(opened.output.contains("opening ["))
    }
}
