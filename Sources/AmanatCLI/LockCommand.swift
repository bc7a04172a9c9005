import AmanatWorkspace
import ArgumentParser
import Foundation

/// `amanat lock --shred [--yes]`
struct LockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lock",
        abstract: "Destroy this workspace's keys so that nothing in it can be read again (for the moment of a raid).",
        discussion: """
            Everything in .amanat/ that holds testimony content is encrypted at rest (Specs/storage.md) under keys \
            that only the passphrase unlocks. `amanat lock --shred` overwrites and deletes those keys (the store key \
            and both private keys) in well under a second: afterwards neither the passphrase nor the disk recovers \
            the records, the attachments, or the organization's identity.

            This cannot be undone. The copies your partners hold (the bundles you sealed for them) are then the \
            only copies left; make sure they have what matters before you need this.

            At a terminal you confirm by typing the organization's name; scripts pass --yes.

            Examples:
              amanat lock --shred
              amanat lock --shred --yes
            """
    )

    @OptionGroup var options: WorkspaceOptions
    @Flag(name: .long, help: "Overwrite and delete the workspace's keys (required: there is no other lock yet).")
    var shred = false
    @Flag(name: .long, help: "Do not ask for confirmation (for scripts).") var yes = false

    func validate() throws {
        guard shred else { throw ValidationError("`amanat lock` needs --shred (see --help: it cannot be undone).") }
    }

    func run() throws {
        let workspace = try options.locate()
        let organization = (try? workspace.identity().organization) ?? ""
        if !yes {
            guard isatty(STDIN_FILENO) == 1 else {
                throw AmanatError(
                    .invalidRequest, "without a terminal to confirm on, pass --yes. Nothing was destroyed.")
            }
            Console.err(
                "This destroys the keys of '\(organization)' for good: no passphrase will open this workspace again, "
                    + "and your partners' copies become the only ones.\nType the organization's name to confirm: ")
            let typed = readLine(strippingNewline: true) ?? ""
            guard typed == organization else {
                throw AmanatError(.invalidRequest, "the name does not match; nothing was destroyed.")
            }
        }
        let started = Date()
        let destroyed = try workspace.shredKeys()
        let elapsed = Date().timeIntervalSince(started)
        Console.status(
            "Destroyed \(destroyed.count) key file\(destroyed.count == 1 ? "" : "s") in "
                + String(format: "%.0f ms", elapsed * 1000)
                + ". The records in this workspace can no longer be read by anyone.")
    }
}
