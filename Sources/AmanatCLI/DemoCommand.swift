import AmanatCrypto
import ArgumentParser
import Foundation

/// `amanat demo [--keep DIR]`
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the whole Amanat story on synthetic data in a temporary folder.",
        discussion: """
            Creates two demo organizations, exchanges and checks their public identities, and prints their \
            fingerprints. Everything is synthetic; the demo passphrase is public, so never use demo keys for real \
            testimonies.

            Example:
              amanat demo --keep /tmp/amanat-demo
            """
    )

    @Option(name: .long, help: ArgumentHelp("Keep the demo workspaces in this (new or empty) folder.", valueName: "dir"))
    var keep: String?

    /// The public demo passphrase (also in the README). Never for real testimonies.
    static let demoPassphrase = "amanat-demo-only-never-for-real-testimonies"

    func run() throws {
        let fm = FileManager.default
        let base: URL
        if let keep {
            base = URL(fileURLWithPath: keep).standardizedFileURL
            try? fm.createDirectory(at: base, withIntermediateDirectories: true)
            let contents = (try? fm.contentsOfDirectory(atPath: base.path)) ?? []
            guard contents.isEmpty else {
                throw CLIError(.cannotCreateOutput, "\(base.path) is not empty; give --keep a new or empty folder.")
            }
        } else {
            base = fm.temporaryDirectory.appendingPathComponent("amanat-demo-\(UUID().uuidString.prefix(8))")
            try fm.createDirectory(at: base, withIntermediateDirectories: true)
        }
        defer {
            if keep == nil { try? fm.removeItem(at: base) }
        }
        let passphrase = SecretBytes(Array(Self.demoPassphrase.utf8))
        var step = 0
        func say(_ title: String) {
            step += 1
            Console.out("\n[\(step)] \(title)")
        }

        say("Two organizations create their workspaces (Ed25519 signing key + X25519 sealing key, scrypt-encrypted)")
        let rootA = base.appendingPathComponent("steppe-archive")
        let rootB = base.appendingPathComponent("berlin-database")
        try fm.createDirectory(at: rootA, withIntermediateDirectories: true)
        try fm.createDirectory(at: rootB, withIntermediateDirectories: true)
        let (a, identityA) = try Workspace.create(
            at: rootA, organization: "Demo Steppe Archive (synthetic)", passphrase: passphrase, parameters: .default)
        let (b, identityB) = try Workspace.create(
            at: rootB, organization: "Demo Berlin Database (synthetic)", passphrase: passphrase, parameters: .default)
        Console.out("    A: \(identityA.organization)  \(identityA.fingerprint)")
        Console.out("    B: \(identityB.organization)  \(identityB.fingerprint)")

        say("They exchange public identity files and check the fingerprints over the phone")
        let fileA = base.appendingPathComponent("steppe-archive.identity.json")
        let fileB = base.appendingPathComponent("berlin-database.identity.json")
        try AtomicFile.write(identityA.jsonData(), to: fileA)
        try AtomicFile.write(identityB.jsonData(), to: fileB)
        try trust(fileB, name: "berlin", in: a)
        try trust(fileA, name: "steppe", in: b)
        Console.out("    A trusts 'berlin'  \(try TrustAddCommand.readIdentity(fileB.path).fingerprint)")
        Console.out("    B trusts 'steppe'  \(try TrustAddCommand.readIdentity(fileA.path).fingerprint)")

        say("A tampered identity file is refused (its key did not sign the swapped age recipient)")
        var forged = identityA
        forged.ageRecipient = identityB.ageRecipient
        let forgedFile = base.appendingPathComponent("forged.identity.json")
        try AtomicFile.write(forged.jsonData(), to: forgedFile)
        do {
            _ = try TrustAddCommand.readIdentity(forgedFile.path)
            throw CLIError(.verificationFailed, "demo failed: the forged identity was accepted")
        } catch let error as CLIError where error.status == .verificationFailed {
            Console.out("    refused: \(error.message.replacingOccurrences(of: base.path + "/", with: ""))")
        }

        Console.out("\nDemo complete." + (keep != nil ? " Workspaces kept in \(base.path)." : ""))
    }

    private func trust(_ file: URL, name: String, in workspace: Workspace) throws {
        let identity = try TrustAddCommand.readIdentity(file.path)
        var list = try workspace.trustList()
        list.partners.append(TrustList.Entry(name: name, identity: identity, addedAt: TrustAddCommand.now()))
        try workspace.save(list)
    }
}
