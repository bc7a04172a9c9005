import ArgumentParser

/// The root `amanat` command.
public struct AmanatCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "amanat",
        abstract: "Seal, verify, redact and sync testimony records between human-rights documentation groups.",
        version: "0.1.0",
        subcommands: []
    )

    public init() {}
}
