import AmanatBundle
import AmanatCrypto
import AmanatRecords
import ArgumentParser
import Foundation

/// `amanat demo [--keep DIR]`
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the whole Amanat story on synthetic data in a temporary folder.",
        discussion: """
            Creates two demo organizations, exchanges and checks their public identities, seals synthetic \
            attachments from one to the other, opens and verifies them, and shows tampering being refused. Everything is synthetic; the demo passphrase is public, so never use demo keys for real \
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

        say("A seals synthetic attachments for B: an ID-card photo, a court verdict, a video (age + signed tar)")
        let attachments = base.appendingPathComponent("attachments")
        try fm.createDirectory(at: attachments, withIntermediateDirectories: true)
        let samples: [(String, Data)] = [
            ("id-card-photo.jpg", Self.syntheticBytes(48_000, seed: 1)),
            ("court-verdict.txt", Data("SYNTHETIC court verdict for the demo. No real person.\n".utf8)),
            ("testimony-video.mp4", Self.syntheticBytes(1_500_000, seed: 2)),
        ]
        for (name, data) in samples { try data.write(to: attachments.appendingPathComponent(name)) }
        let bundleURL = base.appendingPathComponent("steppe-to-berlin.amanat")
        let keyA = try a.signingKey(passphrase: passphrase)
        let out = try OutputFile(bundleURL.path, mode: 0o600)
        let inputs = try samples.map { try InputFile(attachments.appendingPathComponent($0.0).path) }
        let manifest = try BundleSealer.seal(
            inputs: inputs.map { file in
                BundleInput(name: URL(fileURLWithPath: file.path).lastPathComponent, size: file.size) { try file.read($0) }
            },
            sender: BundleSender(signingKey: keyA, identity: identityA),
            recipients: try a.resolveRecipients(["berlin"]), sink: { try out.write($0) })
        try out.commit()
        let size = (try? fm.attributesOfItem(atPath: bundleURL.path)[.size] as? Int) ?? 0
        Console.out("    steppe-to-berlin.amanat: \(manifest.entries.count) files, \(size) bytes, bundle id \(manifest.bundleId)")

        say("B opens it: decrypts, checks every SHA-256 and A's signature against its trust list, then extracts")
        let keyB = try b.sealingKey(passphrase: passphrase)
        let bundleFile = try InputFile(bundleURL.path)
        let staging = try StagingFolder(destination: rootB.appendingPathComponent("received").path)
        let opened = try BundleOpener.open(
            source: { try bundleFile.read($0) }, sizeLimit: bundleFile.size, identity: keyB,
            trustedSigner: try b.trustedSigners(), output: staging)
        try staging.publish(manifestJWS: opened.manifestJWS)
        Console.out("    verified: signed by '\(b.partnerName(fingerprint: opened.signerFingerprint) ?? "?")' (\(opened.signerFingerprint))")
        for entry in opened.manifest.entries {
            Console.out("    \(entry.path)  \(entry.size) bytes  sha256 \(entry.sha256.prefix(16))…")
        }

        say("A copy with one byte changed is refused, and nothing is extracted")
        var damaged = try Data(contentsOf: bundleURL)
        damaged[damaged.count / 2] ^= 0x01
        let damagedURL = base.appendingPathComponent("damaged.amanat")
        try damaged.write(to: damagedURL)
        let damagedFile = try InputFile(damagedURL.path)
        do {
            _ = try BundleOpener.open(
                source: { try damagedFile.read($0) }, sizeLimit: damagedFile.size, identity: keyB,
                trustedSigner: try b.trustedSigners(), output: nil)
            throw CLIError(.verificationFailed, "demo failed: a damaged bundle was accepted")
        } catch let error as BundleError {
            Console.out("    refused: \(error)")
        }

        say("A adds three synthetic testimony records; each is signed as an SD-JWT, every identifying field a disclosure")
        guard let demoURL = Bundle.module.url(forResource: "demo-records", withExtension: "json"),
            let demoData = FileManager.default.contents(atPath: demoURL.path)
        else { throw CLIError(.ioError, "the demo records are missing from this build") }
        let demoRecords = try RecordValidation.parse(Array(demoData), file: "demo-records.json").map { $0.sortedKeys() }
        let serviceA = try RecordService(workspace: a)
        let recordIds = try serviceA.add(demoRecords, key: keyA)
        for (id, record) in zip(recordIds, demoRecords) {
            let head = try serviceA.singleHead(id)
            let language = record["language"]?.stringValue ?? "?"
            Console.out("    \(id)  (\(language), consent \(record["testimony"]?["consent"]?.stringValue ?? "?"), \(head.disclosures.count) disclosures)")
        }

        say("A seals the records for B; B verifies each against A's key and imports them (twice: nothing changes)")
        let recordsBundle = base.appendingPathComponent("steppe-records.amanat")
        let recordsOut = try OutputFile(recordsBundle.path, mode: 0o600)
        var recordInputs: [BundleInput] = []
        for id in recordIds {
            for version in try serviceA.store.versions(record: id) {
                recordInputs.append(.record(versionId: version.id, sdjwt: version.sdjwt.compact))
            }
        }
        _ = try BundleSealer.seal(
            inputs: recordInputs, sender: BundleSender(signingKey: keyA, identity: identityA),
            recipients: try a.resolveRecipients(["berlin"]), sink: { try recordsOut.write($0) })
        try recordsOut.commit()
        let quietOptions = try WorkspaceOptions.parse(["--workspace", rootB.path])
        for round in 1...2 {
            let summary = try BundleImport.importBundle(recordsBundle.path, workspace: b, options: quietOptions, passphrase: passphrase)
            Console.out("    import \(round): \(summary.versionsAdded) new version(s), \(summary.versionsAlreadyPresent) already present")
        }
        let serviceB = try RecordService(workspace: b)
        let verifiedAtB = try serviceB.verifiedContent(try serviceB.singleHead(recordIds[0]))
        Console.out("    B shows \(recordIds[0].prefix(12))…: signed by '\(b.signerName(verifiedAtB.signerFingerprint))', verified")

        Console.out("\nDemo complete." + (keep != nil ? " Workspaces kept in \(base.path)." : ""))
    }

    /// Deterministic filler bytes standing in for a photo or a video.
    static func syntheticBytes(_ count: Int, seed: UInt64) -> Data {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        var bytes = [UInt8](repeating: 0, count: count)
        for i in 0..<count {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            bytes[i] = UInt8(truncatingIfNeeded: state)
        }
        return Data(bytes)
    }

    private func trust(_ file: URL, name: String, in workspace: Workspace) throws {
        let identity = try TrustAddCommand.readIdentity(file.path)
        var list = try workspace.trustList()
        list.partners.append(TrustList.Entry(name: name, identity: identity, addedAt: TrustAddCommand.now()))
        try workspace.save(list)
    }
}
