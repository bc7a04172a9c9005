import AmanatRecords
import AmanatStore
import AmanatWorkspace
import ArgumentParser
import Foundation

/// The root `amanat` command.
public struct AmanatCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "amanat",
        abstract: "Seal, verify, redact and sync testimony records between human-rights documentation groups.",
        discussion: """
            Usage: amanat [-C DIR] COMMAND … (-C DIR runs the command as if started in DIR, like git).

            Start with `amanat demo` to see the whole story on synthetic data, or `amanat init --org NAME` to \
            create your organization's workspace. The passphrase protecting your keys comes from a prompt, \
            $AMANAT_PASSPHRASE, or --passphrase-file.

            Everything in .amanat/ that holds testimony content is encrypted at rest (Specs/storage.md). Commands \
            that read or write it (add, list, show, status, seal, open, publish, …) unlock once with the \
            passphrase and exit 1 without it. No passphrase is needed for init, identity show/export, trust \
            list/add/remove, scan, verify FILE…, demo and lock --shred.

            Exit codes: 0 ok · 1 verification failed · 2 unresolved conflicts · 64 usage · 65 malformed input · \
            66 input missing · 73 cannot create output · 74 I/O error.
            """,
        version: "0.1.0",
        subcommands: [
            InitCommand.self,
            IdentityCommand.self,
            TrustCommand.self,
            AddCommand.self,
            UpdateCommand.self,
            AttachCommand.self,
            ListCommand.self,
            ShowCommand.self,
            ConsentCommand.self,
            LockCommand.self,
            VerifyCommand.self,
            StatusCommand.self,
            CheckCommand.self,
            ConflictsCommand.self,
            ResolveCommand.self,
            DuplicatesCommand.self,
            RetractCommand.self,
            EraseCommand.self,
            LinkCommand.self,
            SealCommand.self,
            OpenCommand.self,
            InspectCommand.self,
            DemoCommand.self,
            ScanCommand.self,
            RedactMediaCommand.self,
            PublishCommand.self,
            ExportCommand.self,
            LogCommand.self,
            TimestampCommand.self,
        ]
    )

    public init() {}

    /// Record and version ids are base64url and may start with '-'; a whole 43-character id would otherwise be read
    /// as a bundle of short flags. Such tokens are passed on as `id:<id>` (which users may also type themselves).
    /// The token that made argument-parser show help although nobody asked for it (no `-h`, `--help`, `help` or
    /// `--version` among the arguments, before a `--`), or nil.
    static func unaskedHelp(in arguments: [String]) -> String? {
        let options = arguments.prefix { $0 != "--" }
        guard
            !options.contains(where: { ["-h", "--help", "help", "--version", "--experimental-dump-help"].contains($0) })
        else { return nil }
        return options.first { $0.hasPrefix("-") && !$0.hasPrefix("--") && $0.count > 2 && $0.contains("h") }
    }

    static func protectingIdentifiers(_ arguments: [String]) -> [String] {
        arguments.map { token in
            let isID =
                token.utf8.count == 43 && token.hasPrefix("-")
                && token.utf8.allSatisfy {
                    ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D
                        || $0 == 0x5F
                }
            return isID ? "id:" + token : token
        }
    }

    /// `amanat -C DIR … COMMAND …` runs as if started in DIR (like `git -C`): every relative path, and the search
    /// for the workspace, starts there. Several `-C` combine (`-C a -C b` is `a/b`). Returns the arguments after them.
    static func changingDirectory(_ arguments: [String]) throws -> [String] {
        var rest = arguments[...]
        while let first = rest.first,
            first == "-C" || (first.hasPrefix("-C") && first.count > 2 && !first.hasPrefix("--"))
        {
            let directory: String
            if first == "-C" {
                guard rest.count >= 2 else {
                    throw AmanatError(.invalidRequest, "-C needs a folder: amanat -C DIR COMMAND …")
                }
                directory = rest[rest.startIndex + 1]
                rest = rest.dropFirst(2)
            } else {
                directory = String(first.dropFirst(2))
                rest = rest.dropFirst()
            }
            guard !directory.isEmpty else { continue }
            guard FileManager.default.changeCurrentDirectoryPath(directory) else {
                throw AmanatError(
                    .inputMissing, "cannot change to the folder \(UntrustedText.printable(directory)) given with -C.")
            }
        }
        return Array(rest)
    }

    /// Help is laid out at least 80 columns wide (every example in it fits in 80), so that on a narrower terminal an
    /// example is soft-wrapped by the terminal, and copies as one line, instead of being broken into two commands.
    static func widenNarrowHelp() {
        var size = winsize()
        let reported = ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : nil
        let specified = ProcessInfo.processInfo.environment["COLUMNS"].flatMap { Int($0) }
        if let width = specified ?? reported, width < 80 { setenv("COLUMNS", "80", 1) }
    }

    /// Parses the arguments, runs the command, and turns ``AmanatError``s into a message and the documented exit code.
    public static func runMain(arguments: [String]? = nil) async -> Never {
        Interruption.install()
        widenNarrowHelp()
        var given = arguments ?? Array(CommandLine.arguments.dropFirst())
        do {
            given = try changingDirectory(given)
            var command = try parseAsRoot(protectingIdentifiers(given))
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            exitAfterBackgroundWork(0)
        } catch let error as AmanatError {
            Console.err("error: \(error.message)")
            exitAfterBackgroundWork(ExitStatus(error.kind).rawValue)
        } catch let storeError as StoreError {
            let error = AmanatError(storeError)
            Console.err("error: \(error.message)")
            exitAfterBackgroundWork(ExitStatus(error.kind).rawValue)
        } catch {
            // argument-parser's own messages (usage, help, --version), and any other error, through the same
            // escaping as every other message.
            var message = fullMessage(for: error)
            var code = exitCode(for: error)
            // Help only when it was asked for: a cluster like `-r17m9pkvp8hq` (a mistyped record id) holds an `h`
            // that argument-parser reads as -h; that is a misparse (exit 64), never help with success.
            if code.isSuccess, let token = unaskedHelp(in: given) {
                message =
                    "error: '\(UntrustedText.printable(token))' is not an option. A record id that starts with '-' "
                    + "is written id:-… (for example `amanat show id:\(UntrustedText.printable(token))`); see --help."
                code = .validationFailure
            }
            if !message.isEmpty {
                if code.isSuccess { Console.out(message) } else { Console.err(message) }
            }
            exitAfterBackgroundWork(code.rawValue)
        }
    }

    /// Exits once the work started ahead on other threads has ended (a signing key being unlocked: exiting under it
    /// would tear OpenSSL down while it runs).
    static func exitAfterBackgroundWork(_ code: Int32) -> Never {
        Workspace.finishBackgroundUnlocks()
        Foundation.exit(code)
    }
}
