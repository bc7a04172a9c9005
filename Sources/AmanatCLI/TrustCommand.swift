import AmanatCrypto
import AmanatRecords
import AmanatWorkspace
import ArgumentParser
import Foundation

/// `amanat trust add|list|remove`
struct TrustCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust",
        abstract: "Manage the partners whose signatures this workspace accepts.",
        subcommands: [TrustAddCommand.self, TrustListCommand.self, TrustRemoveCommand.self]
    )
}

/// `amanat trust add FILE [--name NAME]`
struct TrustAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Trust a partner's public identity file.",
        discussion: """
            Checks the file (its signing key signed its name and age recipient) and prints the fingerprint. \
            Compare it with the partner over the phone before you rely on it.

            Example:
              amanat trust add partner.identity.json --name berlin-archive
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Argument(
        help: ArgumentHelp("The partner's public identity (JSON from `amanat identity export`).", valueName: "file"))
    var file: String
    @Option(name: .long, help: "The name to use for this partner in -r/--to (default: its organization name).")
    var name: String?
    @Flag(
        name: .long,
        help:
            "Let this partner retract and erase records it did not collect (give it again for a partner already trusted)."
    )
    var mayRetract = false
    @Flag(name: .long, help: "Print the added entry as JSON.") var json = false

    func run() throws {
        let workspace = try options.locate()
        let identity = try Workspace.readIdentity(file)
        switch try workspace.trust(identity, from: file, name: name, mayRetract: mayRetract) {
        case .delegated(let entry, let erased):
            Console.status(
                "'\(UntrustedText.printable(entry.name))' may now retract and erase records it did not collect."
                    + (erased > 0 ? " Its pending erasure requests took effect on \(erased) record(s)." : ""))
        case .added(let entry):
            if json {
                try Console.json(TrustListCommandEntry(entry))
            } else {
                Console.status(
                    "Trusted \(UntrustedText.printable(identity.organization)) as '\(UntrustedText.printable(entry.name))'."
                )
                Console.status("Fingerprint: \(identity.fingerprint)")
                Console.status("Compare this fingerprint with the partner over the phone or in person.")
                if mayRetract { Console.status("It may retract and erase records it did not collect.") }
            }
        }
    }
}

struct TrustListCommandEntry: Encodable {
    var name: String
    var organization: String
    var fingerprint: String
    var ageRecipient: String
    var addedAt: String
    var mayRetract: Bool

    init(_ entry: TrustList.Entry) {
        mayRetract = entry.mayRetract == true
        name = entry.name
        organization = entry.identity.organization
        fingerprint = entry.identity.fingerprint
        ageRecipient = entry.identity.ageRecipient
        addedAt = entry.addedAt
    }
}

/// `amanat trust list [--json]`
struct TrustListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List trusted partners with their fingerprints.")

    @OptionGroup var options: WorkspaceOptions
    @Flag(name: .long, help: "Print a JSON array.") var json = false

    func run() throws {
        let list = try options.locate().trustList()
        let entries = list.partners.map(TrustListCommandEntry.init).sorted { $0.name < $1.name }
        if json {
            try Console.json(entries)
        } else if entries.isEmpty {
            Console.out("No trusted partners yet. Add one with `amanat trust add FILE`.")
        } else {
            for entry in entries {
                Console.out(
                    "\(UntrustedText.printable(entry.name))\t\(entry.fingerprint)\t\(UntrustedText.printable(entry.organization))\(entry.mayRetract ? "\t(may retract)" : "")"
                )
            }
        }
    }
}

/// `amanat trust remove NAME`
struct TrustRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Stop trusting a partner.",
        discussion:
            "Bundles and records signed by it will no longer verify here. Example:\n  amanat trust remove berlin-archive"
    )

    @OptionGroup var options: WorkspaceOptions
    @Argument(help: "The partner's name on the trust list.") var name: String

    func run() throws {
        let removed = try options.locate().distrust(name)
        Console.status(
            "Removed '\(UntrustedText.printable(name))' (fingerprint \(removed.identity.fingerprint)) from the trust list."
        )
    }
}
