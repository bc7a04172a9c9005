import AmanatCrypto
import AmanatWorkspace
import ArgumentParser
import Foundation

/// Options every workspace command shares.
struct WorkspaceOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The workspace folder (default: the current folder or a parent holding .amanat/; or $AMANAT_WORKSPACE).",
            valueName: "dir"))
    var workspace: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Read the passphrase from the first line of this file (default: $AMANAT_PASSPHRASE, else a prompt).",
            valueName: "file"))
    var passphraseFile: String?

    @Flag(name: .shortAndLong, help: "Print no status messages on standard error (errors and warnings still).")
    var quiet = false

    /// Called by argument-parser after parsing, before the command runs: `-q` takes effect for every command that
    /// shares these options, including those that do not open a workspace (`init`).
    func validate() throws {
        if quiet { Console.quiet = true }
    }

    /// The workspace, asking for the passphrase (file, environment or prompt) at most once, when a key is needed. At
    /// a terminal a wrong passphrase may be typed again, twice.
    func locate() throws -> Workspace {
        let file = passphraseFile
        let root = try Workspace.locate(explicit: workspace).root
        let probe = Workspace(root: root)
        let asked = AskOnce {
            var attempt = 1
            while true {
                let secret = try PassphraseSource.read(file: file, confirm: false)
                guard file == nil, PassphraseSource.isPrompt, attempt < 3 else { return secret }
                do {
                    _ = try probe.sealingKey(passphrase: secret)
                    return secret
                } catch let error as AmanatError where error.kind == .verificationFailed {
                    Console.err("That passphrase does not unlock the keys; try again (\(3 - attempt) left).")
                    attempt += 1
                }
            }
        }
        return Workspace(
            root: root, passphrase: { try asked.value() }, passphraseOrigin: PassphraseSource.origin(file: file))
    }

    func passphrase(confirm: Bool = false) throws -> SecretBytes {
        try PassphraseSource.read(file: passphraseFile, confirm: confirm)
    }
}

/// A value computed on first use and kept (the passphrase: one prompt per command, however many keys it unlocks).
final class AskOnce: @unchecked Sendable {
    private let compute: () throws -> SecretBytes
    private var cached: SecretBytes?
    private let lock = NSLock()

    init(_ compute: @escaping () throws -> SecretBytes) { self.compute = compute }

    func value() throws -> SecretBytes {
        lock.lock()
        defer { lock.unlock() }
        if let cached { return cached }
        let value = try compute()
        cached = value
        return value
    }
}
