import ArgumentParser
import Foundation

/// The root `amanat` command.
public struct AmanatCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "amanat",
        abstract: "Seal, verify, redact and sync testimony records between human-rights documentation groups.",
        discussion: """
            Start with `amanat demo` to see the whole story on synthetic data, or `amanat init --org NAME` to \
            create your organization's workspace. The passphrase protecting your keys comes from a prompt, \
            $AMANAT_PASSPHRASE, or --passphrase-file.

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
            VerifyCommand.self,
            SealCommand.self,
            OpenCommand.self,
            InspectCommand.self,
            DemoCommand.self,
            ScanCommand.self,
        ]
    )

    public init() {}

    /// Parses the arguments, runs the command, and turns ``CLIError``s into a message and the documented exit code.
    public static func runMain(arguments: [String]? = nil) async -> Never {
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            Foundation.exit(0)
        } catch let error as CLIError {
            Console.err("error: \(error.message)")
            Foundation.exit(error.status.rawValue)
        } catch {
            exit(withError: error)
        }
    }
}
