import AmanatCrypto
import AmanatRecords
import AmanatWorkspace
import ArgumentParser
import Foundation

/// `amanat identity show|export`
struct IdentityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identity",
        abstract: "Show or export this organization's identity.",
        subcommands: [IdentityShowCommand.self, IdentityExportCommand.self]
    )
}

/// `amanat identity show [--json]`
struct IdentityShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print the organization name, fingerprint and age1… recipient.",
        discussion: """
            Needs no passphrase. Example:
              amanat identity show --json
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Flag(name: .long, help: "Print the identity as JSON.") var json = false

    func run() throws {
        let workspace = try options.locate()
        let identity = try workspace.identity()
        if json {
            try Console.json(IdentitySummary(identity, workspace: workspace))
        } else {
            Console.out("Organization:   \(UntrustedText.printable(identity.organization))")
            Console.out("Fingerprint:    \(identity.fingerprint)")
            Console.out("Age recipient:  \(identity.ageRecipient)")
            Console.out("Workspace:      \(workspace.root.path)")
        }
    }
}

/// `amanat identity export -o FILE` / `amanat identity export --age -o FILE`
struct IdentityExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the public identity for partners, or the sealing key for the stock age tool.",
        discussion: """
            Without --age, writes the public identity (JSON: name, Ed25519 JWK, age1… recipient, fingerprint, and \
            a self-signature binding them). Give it to partners; they run `amanat trust add FILE`.

            With --age, writes the X25519 sealing key as an AGE-SECRET-KEY-1… identity file (mode 0600) so that \
            `age -d -i FILE bundle.amanat | tar -x` opens bundles sealed for you without Amanat. That file is \
            your private key in the clear: keep it on an encrypted disk and delete it after use.

            Examples:
              amanat identity export -o steppe-rights.identity.json
              amanat identity export --age -o /media/usb/steppe-rights.agekey
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Option(
        name: [.short, .customLong("output")],
        help: ArgumentHelp("The file to write (- for standard output; not allowed with --age).", valueName: "file"))
    var output: String
    @Flag(name: .long, help: "Export the private sealing key as an AGE-SECRET-KEY-1… file for `age -d -i`.")
    var age = false
    @Flag(name: .long, help: "Replace the output file if it exists.") var force = false

    func validate() throws {
        if age && output == "-" {
            throw ValidationError("--age writes a private key; give a file name with -o, not standard output.")
        }
    }

    func run() throws {
        let workspace = try options.locate()
        let identity = try workspace.identity()
        if age {
            let passphrase = try options.passphrase()
            let key = try workspace.sealingKey(passphrase: passphrase)
            let secret = try AgeKeyEncoding.secretKey(key)
            let header =
                "# Amanat sealing key of \(UntrustedText.printable(identity.organization)), for `age -d -i`. PRIVATE: keep it safe, delete it after use.\n"
                + "# public key: \(identity.ageRecipient)\n"
            var bytes = Array(header.utf8) + secret.unprotectedArray + [0x0A]
            defer { wipe(&bytes) }
            try AtomicFile.write(Data(bytes), to: URL(fileURLWithPath: output), mode: 0o600, overwrite: force)
            Console.status("Wrote the private sealing key to \(output) (mode 0600). Delete it when you are done.")
        } else {
            let data = identity.jsonData()
            if output == "-" {
                FileHandle.standardOutput.write(data)
            } else {
                try AtomicFile.write(data, to: URL(fileURLWithPath: output), mode: 0o644, overwrite: force)
                Console.status(
                    "Wrote the public identity of \(UntrustedText.printable(identity.organization)) to \(output).")
                Console.status("Fingerprint: \(identity.fingerprint)")
            }
        }
    }
}
