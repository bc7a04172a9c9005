import AmanatBundle
import AmanatCrypto
import AmanatRecords
import AmanatRedaction
import AmanatSync
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

    @Option(
        name: .long, help: ArgumentHelp("Keep the demo workspaces in this (new or empty) folder.", valueName: "dir"))
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
                BundleInput(name: URL(fileURLWithPath: file.path).lastPathComponent, size: file.size) {
                    try file.read($0)
                }
            },
            sender: BundleSender(signingKey: keyA, identity: identityA),
            recipients: try a.resolveRecipients(["berlin"]), sink: { try out.write($0) })
        try out.commit()
        let size = (try? fm.attributesOfItem(atPath: bundleURL.path)[.size] as? Int) ?? 0
        Console.out(
            "    steppe-to-berlin.amanat: \(manifest.entries.count) files, \(size) bytes, bundle id \(manifest.bundleId)"
        )

        say("B opens it: decrypts, checks every SHA-256 and A's signature against its trust list, then extracts")
        let keyB = try b.sealingKey(passphrase: passphrase)
        let bundleFile = try InputFile(bundleURL.path)
        let staging = try StagingFolder(destination: rootB.appendingPathComponent("received").path)
        let opened = try BundleOpener.open(
            source: { try bundleFile.read($0) }, sizeLimit: bundleFile.size, identity: keyB,
            trustedSigner: try b.trustedSigners(), ownFingerprint: try b.identity().fingerprint, output: staging)
        try staging.publish(manifestJWS: opened.manifestJWS)
        Console.out(
            "    verified: signed by '\(b.partnerName(fingerprint: opened.signerFingerprint) ?? "?")' (\(opened.signerFingerprint))"
        )
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
                trustedSigner: try b.trustedSigners(), ownFingerprint: try b.identity().fingerprint, output: nil)
            throw CLIError(.verificationFailed, "demo failed: a damaged bundle was accepted")
        } catch let error as BundleError {
            Console.out("    refused: \(error)")
        }

        say(
            "A adds three synthetic testimony records; each is signed as an SD-JWT, every identifying field a disclosure"
        )
        guard let demoURL = Bundle.module.url(forResource: "demo-records", withExtension: "json"),
            let demoData = FileManager.default.contents(atPath: demoURL.path)
        else { throw CLIError(.ioError, "the demo records are missing from this build") }
        let demoRecords = try RecordValidation.parse(Array(demoData), file: "demo-records.json").map { $0.sortedKeys() }
        let serviceA = try RecordService(workspace: a)
        let recordIds = try serviceA.add(demoRecords, key: keyA)
        for (id, record) in zip(recordIds, demoRecords) {
            let head = try serviceA.singleHead(id)
            let language = record["language"]?.stringValue ?? "?"
            Console.out(
                "    \(id)  (\(language), consent \(record["testimony"]?["consent"]?.stringValue ?? "?"), \(head.disclosures.count) disclosures)"
            )
        }

        say("A seals the records for B; B verifies each against A's key and imports them (twice: nothing changes)")
        let recordsBundle = base.appendingPathComponent("steppe-records.amanat")
        let recordsOut = try OutputFile(recordsBundle.path, mode: 0o600)
        let recordInputs = try serviceA.bundleContents(
            versionIds: try serviceA.versionIds(ofRecords: recordIds), partners: []
        ).inputs
        _ = try BundleSealer.seal(
            inputs: recordInputs, sender: BundleSender(signingKey: keyA, identity: identityA),
            recipients: try a.resolveRecipients(["berlin"]), sink: { try recordsOut.write($0) })
        try recordsOut.commit()
        let quietOptions = try WorkspaceOptions.parse(["--workspace", rootB.path])
        for round in 1...2 {
            let summary = try BundleImport.importBundle(
                recordsBundle.path, workspace: b, options: quietOptions, passphrase: passphrase)
            Console.out(
                "    import \(round): \(summary.versionsAdded) new version(s), \(summary.versionsAlreadyPresent) already present"
            )
        }
        let serviceB = try RecordService(workspace: b)
        let verifiedAtB = try serviceB.verifiedContent(try serviceB.singleHead(recordIds[0]))
        Console.out(
            "    B shows \(recordIds[0].prefix(12))…: signed by '\(b.signerName(verifiedAtB.signerFingerprint))', verified"
        )

        say(
            "A and B edit the same record at the same time: A corrects the interview date, B too, differently, and adds a tag"
        )
        let signB = try b.signingKey(passphrase: passphrase)
        let shared = recordIds[2]
        let base0 = try serviceA.verifiedContent(try serviceA.singleHead(shared)).content
        var atA = base0.setting("testimony", (base0["testimony"] ?? .object([])).setting("date", .string("2019-04-02")))
        atA = atA.setting("tags", .array((base0["tags"]?.arrayValue ?? []) + [.string("date-checked")]))
        let atB = base0.setting("testimony", (base0["testimony"] ?? .object([])).setting("date", .string("2019-04-12")))
            .setting("tags", .array((base0["tags"]?.arrayValue ?? []) + [.string("reviewed-berlin")]))
        _ = try serviceA.update(shared, content: atA.sortedKeys(), key: keyA)
        _ = try serviceB.update(shared, content: atB.sortedKeys(), key: signB)
        Console.out(
            "    A: /testimony/date = 2019-04-02, tag date-checked;  B: /testimony/date = 2019-04-12, tag reviewed-berlin"
        )

        say("They exchange delta bundles (seal --since-last): each sends only what the other lacks")
        let optionsA = try WorkspaceOptions.parse(["--workspace", rootA.path])
        let fpA = identityA.fingerprint
        let fpB = identityB.fingerprint
        func delta(
            from service: RecordService, sender: BundleSender, to partner: String, fingerprint: String, name: String
        ) throws -> URL {
            let url = base.appendingPathComponent(name)
            let out = try OutputFile(url.path, mode: 0o600)
            let wanted = try service.unacknowledgedVersions(partners: [fingerprint])
            let contents = try service.bundleContents(versionIds: wanted, partners: [fingerprint])
            let manifest = try BundleSealer.seal(
                inputs: contents.inputs, sender: sender, recipients: try service.workspace.resolveRecipients([partner]),
                summary: contents.summary, acknowledges: contents.acknowledges, sink: { try out.write($0) })
            try out.commit()
            try service.recordSent(contents, bundleId: manifest.bundleId, partners: [fingerprint])
            Console.out("    \(name): \(wanted.count) version(s)")
            return url
        }
        let toB = try delta(
            from: serviceA, sender: BundleSender(signingKey: keyA, identity: identityA), to: "berlin", fingerprint: fpB,
            name: "a-to-b.amanat")
        let toA = try delta(
            from: serviceB, sender: BundleSender(signingKey: signB, identity: identityB), to: "steppe",
            fingerprint: fpA, name: "b-to-a.amanat")
        _ = try BundleImport.importBundle(toB.path, workspace: b, options: quietOptions, passphrase: passphrase)
        _ = try BundleImport.importBundle(toA.path, workspace: a, options: optionsA, passphrase: passphrase)

        say("Both see the conflict: the tags merge as a set, the date is a conflict listing the base and both sides")
        let viewB = try SyncService(workspace: b).view()
        for conflict in viewB[shared]?.conflicts ?? [] {
            Console.out("    \(conflict.path): base \(conflict.base?.serialized() ?? "(absent)")")
            for candidate in conflict.candidates {
                Console.out("      \(b.signerName(candidate.signer)): \(candidate.value?.serialized() ?? "(absent)")")
            }
        }
        Console.out("    merged tags: \(viewB[shared]?.content?["tags"]?.serialized() ?? "[]")")

        say("B resolves it, taking A's date (a signed merge version naming both heads); B sends it to A")
        guard let recordView = viewB[shared] else { throw CLIError(.ioError, "demo: the shared record is missing") }
        let resolution = try recordView.resolve(fallback: .signer(fpA))
        _ = try serviceB.signResolution(resolution, key: signB)
        let mergeBundle = try delta(
            from: serviceB, sender: BundleSender(signingKey: signB, identity: identityB), to: "steppe",
            fingerprint: fpA, name: "b-to-a-merge.amanat")
        _ = try BundleImport.importBundle(mergeBundle.path, workspace: a, options: optionsA, passphrase: passphrase)

        say("They converge: equal state hashes")
        let hashA = try a.store().stateHash()
        let hashB = try b.store().stateHash()
        Console.out("    A: \(hashA)")
        Console.out("    B: \(hashB)")
        Console.out(
            hashA == hashB ? "    equal — no edit was lost, and both stores agree." : "    DIFFERENT (demo failed)")
        guard hashA == hashB else { throw CLIError(.verificationFailed, "demo failed: the stores did not converge") }

        say("A publishes redacted public versions (policy public.yaml); the folder scans clean and B verifies them")
        guard let policyURL = Bundle.module.url(forResource: "public-policy", withExtension: "yaml"),
            let policyData = FileManager.default.contents(atPath: policyURL.path)
        else { throw CLIError(.ioError, "the demo policy is missing from this build") }
        let policy = try PolicyFile.parse(Array(policyData), path: "public-policy.yaml")
        let publishable = try Publisher.select([], policy: policy, service: serviceA)  // partners/internal: skipped
        let redacted = try Publisher.redact(
            publishable, policy: policy, service: serviceA, key: keyA, explicit: false)
        let publishedDir = base.appendingPathComponent("published")
        _ = try Publisher.write(redacted, to: publishedDir.path, policy: policy, key: keyA, publisher: try a.identity())
        for record in redacted {
            Console.out(
                Publisher.describe(record.report).split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
        }
        let publishedFiles = try FileManager.default.contentsOfDirectory(atPath: publishedDir.path).sorted()
        let findings = try publishedFiles.reduce(0) {
            $0
                + (try ScanCommand.scan(file: publishedDir.appendingPathComponent($1).path, scanner: DocumentScanner()))
                .count
        }
        Console.out("    published/: \(publishedFiles.count) files; amanat scan finds \(findings) identifier(s)")
        let keysB = try b.trustedKeys()
        for record in redacted {
            let path = publishedDir.appendingPathComponent(record.recordId + ".sd-jwt").path
            let (presented, annotation) = try PublishedFile.verify(path, keys: keysB)
            let collector = b.signerName(annotation?.collector ?? "?")
            let signer = b.signerName(presented.signerFingerprint)
            Console.out(
                "    B verifies \(record.recordId.prefix(12))…: collected by '\(collector)'; \(presented.disclosedCount) "
                    + "disclosures signed by " + (signer == collector ? "the collector" : "'\(signer)', an editor")
                    + " (\(presented.withheldCount) withheld); \(annotation?.values.count ?? 0) values made by publisher "
                    + "'\(b.signerName(annotation?.publisherFingerprint ?? "?"))'")
        }
        guard findings == 0 else {
            throw CLIError(.verificationFailed, "demo failed: the published folder holds identifiers")
        }

        say("Consent is a ceiling only the collector raises: B edits A's 'partners' record to 'public' and sends it")
        let partnersRecord = recordIds[1]
        let atBNow = try serviceB.editableContent(partnersRecord).content
        let raised = atBNow.setting(
            "testimony", (atBNow["testimony"] ?? .object([])).setting("consent", .string("public")))
        let (_, edit) = try serviceB.update(partnersRecord, content: raised.sortedKeys(), key: signB)
        let raiseBundle = try delta(
            from: serviceB, sender: BundleSender(signingKey: signB, identity: identityB), to: "steppe",
            fingerprint: fpA, name: "b-to-a-raise.amanat")
        _ = try BundleImport.importBundle(raiseBundle.path, workspace: a, options: optionsA, passphrase: passphrase)
        let raisedAtA = try serviceA.view(partnersRecord)
        Console.out(
            "    at B: \(edit == .proposed ? "a proposal" : "applied (demo failed)");  at A: consent in force "
                + "'\(raisedAtA.consent.rawValue)', \(raisedAtA.consentProposals.count) proposal from "
                + "'\(a.signerName(raisedAtA.consentProposals.first?.signer ?? "?"))' waiting for A's `consent --accept`"
        )
        guard raisedAtA.consent == .partners,
            Authority.publicationRefusal(raisedAtA, allowed: [.public], audience: .everyone) != nil
        else { throw CLIError(.verificationFailed, "demo failed: a partner raised consent") }

        say("Only the collector erases: B's erasure of A's record is a request at A, and nothing is deleted")
        let (_, inForce) = try serviceB.tombstone(recordIds[0], .erasure, reason: "synthetic request", key: signB)
        let eraseBundle = try delta(
            from: serviceB, sender: BundleSender(signingKey: signB, identity: identityB), to: "steppe",
            fingerprint: fpA, name: "b-to-a-erase.amanat")
        let erasedReport = try BundleImport.importBundle(
            eraseBundle.path, workspace: a, options: optionsA, passphrase: passphrase)
        Console.out(
            "    at B: \(inForce ? "in force (demo failed)" : "a request");  at A: \(erasedReport.pendingRequests.count) "
                + "pending request, \(erasedReport.erasedRecords.count) record(s) erased; A answers with `amanat erase`"
        )
        guard !inForce, erasedReport.erasedRecords.isEmpty, try serviceA.view(recordIds[0]).content != nil else {
            throw CLIError(.verificationFailed, "demo failed: a partner erased a record it did not collect")
        }

        say("Internal records never leave: A adds one with consent 'internal'; sealing it for B is refused")
        let internalRecord = demoRecords[0].setting(
            "testimony", (demoRecords[0]["testimony"] ?? .object([])).setting("consent", .string("internal"))
        ).sortedKeys()
        let internalId = try serviceA.add([internalRecord], key: keyA)[0]
        do {
            try serviceA.checkSealable([internalId], partners: [fpB], anonymousRecipients: false)
            throw CLIError(.verificationFailed, "demo failed: an internal record was sealable")
        } catch let error as CLIError where error.status == .usage {
            Console.out("    refused: \(error.message)")
        }
        let all = try serviceA.bundleContents(
            versionIds: try serviceA.versionIds(ofRecords: try serviceA.store.records().map(\.id)), partners: [fpB])
        Console.out(
            "    seal --all: \(all.recordCount) record(s) included, \(all.withheldRecords.count) internal left out")

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
