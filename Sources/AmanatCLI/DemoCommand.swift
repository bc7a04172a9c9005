import AmanatBundle
import AmanatCrypto
import AmanatPublish
import AmanatRecords
import AmanatRedaction
import AmanatSync
import AmanatWorkspace
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
                throw AmanatError(.cannotCreateOutput, "\(base.path) is not empty; give --keep a new or empty folder.")
            }
        } else {
            base = fm.temporaryDirectory.appendingPathComponent("amanat-demo-\(UUID().uuidString.prefix(8))")
            try fm.createDirectory(at: base, withIntermediateDirectories: true)
        }
        defer {
            if keep == nil { try? fm.removeItem(at: base) }
        }
        try DemoStory(base: base).run()
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
}

/// The demo's story: two organizations, A (steppe) and B (berlin), one short step per method. It is a client of
/// AmanatWorkspace like any other front end: every step calls the same library functions the commands call.
final class DemoStory {
    let base: URL
    let a: Workspace
    let b: Workspace
    var step = 0
    var recordIds: [String] = []
    var demoRecords: [JSONValue] = []

    init(base: URL) throws {
        self.base = base
        let passphrase = SecretBytes(Array(DemoCommand.demoPassphrase.utf8))
        Console.out(
            "\n[1] Two organizations create their workspaces (Ed25519 signing key + X25519 sealing key, scrypt-encrypted)"
        )
        var made: [Workspace] = []
        for (folder, name) in [
            ("steppe-archive", "Demo Steppe Archive (synthetic)"),
            ("berlin-database", "Demo Berlin Database (synthetic)"),
        ] {
            let root = base.appendingPathComponent(folder)
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            let (workspace, identity) = try Workspace.create(
                at: root, organization: name, passphrase: passphrase, parameters: .default)
            Console.out("    \(made.isEmpty ? "A" : "B"): \(identity.organization)  \(identity.fingerprint)")
            made.append(workspace)
        }
        a = made[0]
        b = made[1]
        step = 1
    }

    func say(_ title: String) {
        step += 1
        Console.out("\n[\(step)] \(title)")
    }

    func file(_ name: String) -> URL { base.appendingPathComponent(name) }

    func run() throws {
        try exchangeIdentities()
        try refuseForgedIdentity()
        try sealAndOpenAttachments()
        try refuseTamperedBundle()
        try addRecords()
        try shareRecords()
        try editConcurrently()
        try exchangeDeltas()
        try showAndResolveConflict()
        try converge()
        try transparencyLog()
        try publish()
        try partnerRaiseIsAProposal()
        try partnerErasureIsARequest()
        try internalRecordsStay()
        try seizedLaptopYieldsNothing()
    }

    /// Seals for one partner through the same call as `amanat seal`.
    @discardableResult
    func seal(_ request: SealRequest, from workspace: Workspace, to name: String) throws -> (URL, SealReport) {
        let url = file(name)
        let out = try OutputFile(url.path, mode: 0o600)
        let report = try workspace.seal(request, sink: { try out.write($0) }, commit: { try out.commit() })
        return (url, report)
    }

    /// Sends what the partner is not known to hold (`seal --since-last`) and imports it there (`open`).
    @discardableResult
    func delta(
        from: Workspace, to partner: String, at destination: Workspace, name: String
    ) throws
        -> BundleImport.Report
    {
        let (url, report) = try seal(SealRequest(records: .sinceLast, recipients: [partner]), from: from, to: name)
        Console.out("    \(name): \(report.versionCount ?? 0) version(s)")
        return try BundleImport.importBundle(url.path, into: destination)
    }

    func exchangeIdentities() throws {
        say("They exchange public identity files and check the fingerprints over the phone")
        for (workspace, other, name, fileName) in [
            (a, b, "berlin", "berlin-database.identity.json"), (b, a, "steppe", "steppe-archive.identity.json"),
        ] {
            try AtomicFile.write(try other.identity().jsonData(), to: file(fileName))
            let identity = try Workspace.readIdentity(file(fileName).path)
            _ = try workspace.trust(identity, from: fileName, name: name)
            Console.out("    \(workspace.root == a.root ? "A" : "B") trusts '\(name)'  \(identity.fingerprint)")
        }
    }

    func refuseForgedIdentity() throws {
        say("A tampered identity file is refused (its key did not sign the swapped age recipient)")
        var forged = try a.identity()
        forged.ageRecipient = try b.identity().ageRecipient
        try AtomicFile.write(forged.jsonData(), to: file("forged.identity.json"))
        do {
            _ = try Workspace.readIdentity(file("forged.identity.json").path)
            throw AmanatError(.verificationFailed, "demo failed: the forged identity was accepted")
        } catch let error as AmanatError where error.kind == .verificationFailed {
            Console.out("    refused: \(error.message.replacingOccurrences(of: base.path + "/", with: ""))")
        }
    }

    func sealAndOpenAttachments() throws {
        say("A seals synthetic attachments for B: an ID-card photo, a court verdict, a video (age + signed tar)")
        let folder = file("attachments")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let samples: [(String, Data)] = [
            ("id-card-photo.jpg", DemoCommand.syntheticBytes(48_000, seed: 1)),
            ("court-verdict.txt", Data("SYNTHETIC court verdict for the demo. No real person.\n".utf8)),
            ("testimony-video.mp4", DemoCommand.syntheticBytes(1_500_000, seed: 2)),
        ]
        for (name, data) in samples { try data.write(to: folder.appendingPathComponent(name)) }
        let (url, report) = try seal(
            SealRequest(files: samples.map { folder.appendingPathComponent($0.0).path }, recipients: ["berlin"]),
            from: a, to: "steppe-to-berlin.amanat")
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        Console.out(
            "    steppe-to-berlin.amanat: \(report.manifest.contentEntries.count) files, \(size) bytes, bundle id \(report.manifest.bundleId)"
        )

        say("B opens it: decrypts, checks every SHA-256 and A's signature against its trust list, then extracts")
        let extraction = try BundleExtraction(destination: b.root.appendingPathComponent("received").path)
        let opened = try b.openBundle(url.path, output: extraction)
        try extraction.publish(opened)
        Console.out(
            "    verified: signed by '\(b.partnerName(fingerprint: opened.signerFingerprint) ?? "?")' (\(opened.signerFingerprint))"
        )
        for entry in opened.manifest.contentEntries {
            Console.out("    \(entry.path)  \(entry.size) bytes  sha256 \(entry.sha256.prefix(16))…")
        }
    }

    func refuseTamperedBundle() throws {
        say("A copy with one byte changed is refused, and nothing is extracted")
        var damaged = try Data(contentsOf: file("steppe-to-berlin.amanat"))
        damaged[damaged.count / 2] ^= 0x01
        try damaged.write(to: file("damaged.amanat"))
        var refusal: AmanatError?
        do { _ = try b.openBundle(file("damaged.amanat").path, output: nil) } catch let error as AmanatError {
            refusal = error
        }
        guard let refusal else { throw AmanatError(.verificationFailed, "demo failed: a damaged bundle was accepted") }
        Console.out("    refused: \(refusal.message.replacingOccurrences(of: base.path + "/", with: ""))")
    }

    func addRecords() throws {
        say(
            "A adds three synthetic testimony records; each is signed as an SD-JWT, every identifying field a disclosure"
        )
        guard let demoURL = Bundle.module.url(forResource: "demo-records", withExtension: "json"),
            let demoData = FileManager.default.contents(atPath: demoURL.path)
        else { throw AmanatError(.ioError, "the demo records are missing from this build") }
        demoRecords = try RecordValidation.parse(Array(demoData), file: "demo-records.json").map { $0.sortedKeys() }
        let service = try RecordService(workspace: a)
        recordIds = try service.add(demoRecords, key: try a.signingKey())
        for (id, record) in zip(recordIds, demoRecords) {
            let head = try service.singleHead(id)
            Console.out(
                "    \(id)  (\(record["language"]?.stringValue ?? "?"), consent "
                    + "\(record["testimony"]?["consent"]?.stringValue ?? "?"), \(head.disclosures.count) disclosures)")
        }
    }

    func shareRecords() throws {
        say("A seals the records for B; B verifies each against A's key and imports them (twice: nothing changes)")
        let (url, _) = try seal(
            SealRequest(records: .records(recordIds), recipients: ["berlin"]), from: a, to: "steppe-records.amanat")
        for round in 1...2 {
            let report = try BundleImport.importBundle(url.path, into: b)
            Console.out(
                "    import \(round): \(report.versionsAdded) new version(s), \(report.versionsAlreadyPresent) already present"
            )
        }
        let serviceB = try RecordService(workspace: b)
        let verified = try serviceB.verifiedContent(try serviceB.singleHead(recordIds[0]))
        Console.out(
            "    B shows \(recordIds[0].prefix(12))…: signed by '\(b.signerName(verified.signerFingerprint))', verified"
        )
    }

    func editConcurrently() throws {
        say(
            "A and B edit the same record at the same time: A corrects the interview date, B too, differently, and adds a tag"
        )
        let shared = recordIds[2]
        for (workspace, date, tag) in [(a, "2019-04-02", "date-checked"), (b, "2019-04-12", "reviewed-berlin")] {
            let service = try RecordService(workspace: workspace)
            let content = try service.editableContent(shared).content
            let edited = content.setting(
                "testimony", (content["testimony"] ?? .object([])).setting("date", .string(date))
            ).setting("tags", .array((content["tags"]?.arrayValue ?? []) + [.string(tag)]))
            _ = try service.update(shared, content: edited.sortedKeys(), key: try workspace.signingKey())
        }
        Console.out(
            "    A: /testimony/date = 2019-04-02, tag date-checked;  B: /testimony/date = 2019-04-12, tag reviewed-berlin"
        )
    }

    func exchangeDeltas() throws {
        say("They exchange delta bundles (seal --since-last): each sends only what the other lacks")
        try delta(from: a, to: "berlin", at: b, name: "a-to-b.amanat")
        try delta(from: b, to: "steppe", at: a, name: "b-to-a.amanat")
    }

    func showAndResolveConflict() throws {
        say("Both see the conflict: the tags merge as a set, the date is a conflict listing the base and both sides")
        let shared = recordIds[2]
        let view = try SyncService(workspace: b).view()
        for conflict in view[shared]?.conflicts ?? [] {
            Console.out("    \(conflict.path): base \(conflict.base?.serialized() ?? "(absent)")")
            for candidate in conflict.candidates {
                Console.out("      \(b.signerName(candidate.signer)): \(candidate.value?.serialized() ?? "(absent)")")
            }
        }
        Console.out("    merged tags: \(view[shared]?.content?["tags"]?.serialized() ?? "[]")")

        say("B resolves it, taking A's date (a signed merge version naming both heads); B sends it to A")
        guard let record = view[shared] else { throw AmanatError(.ioError, "demo: the shared record is missing") }
        let resolution = try record.resolve(fallback: .signer(try a.identity().fingerprint))
        _ = try RecordService(workspace: b).signResolution(resolution, key: try b.signingKey())
        try delta(from: b, to: "steppe", at: a, name: "b-to-a-merge.amanat")
    }

    func converge() throws {
        say("They converge: equal state hashes")
        let hashA = try a.store().stateHash()
        let hashB = try b.store().stateHash()
        Console.out("    A: \(hashA)")
        Console.out("    B: \(hashB)")
        Console.out(
            hashA == hashB ? "    equal — no edit was lost, and both stores agree." : "    DIFFERENT (demo failed)")
        guard hashA == hashB else { throw AmanatError(.verificationFailed, "demo failed: the stores did not converge") }
        // The hashes came from each store's stored view (updated as bundles arrived); `amanat check` derives every
        // record again and compares.
        let check = try SyncService(workspace: b).check(rebuild: false)
        Console.out(
            check.isConsistent
                ? "    B's stored view equals every record derived again from its versions (amanat check)."
                : "    B's stored view DIFFERS from its versions (demo failed)")
        guard check.isConsistent else {
            throw AmanatError(.verificationFailed, "demo failed: the stored view differs from the versions")
        }
    }

    /// Every version, manifest and publication an organization signs goes into its log; partners cosign its
    /// checkpoints, and a second history (here: a workspace restored from a backup) is refused and kept as evidence.
    func transparencyLog() throws {
        say("Provenance: each organization logs what it signs; partners check and cosign; a forked history is refused")
        let statusA = try a.logStatus()
        Console.out("    A's log: \(statusA.size) entries, root \(statusA.rootHash.prefix(16))…")
        for c in statusA.cosigners { Console.out("    cosigned by \(c.name) up to size \(c.size)") }
        let audit = try Workspace.auditLog(
            folder: try {
                let f = file("a-log-export").path
                _ = try a.exportLog(to: f)
                return f
            }(),
            cosigners: [try b.identity()])
        Console.out(
            "    an auditor recomputes A's root from \(audit.size) exported entries: it matches the signed checkpoint")
        // A backup of A, then A sends B a bundle (B sees the log grow), then A is "restored" and signs another history.
        let backup = file("a-backup")
        try FileManager.default.copyItem(at: a.dotFolder, to: backup)
        try Data("A synthetic note.\n".utf8).write(to: file("note.txt"))
        let (note, _) = try seal(
            SealRequest(files: [file("note.txt").path], recipients: ["berlin"]), from: a, to: "a-to-b-note.amanat")
        _ = try BundleImport.importBundle(note.path, into: b)
        let current = file("a-current")
        try FileManager.default.moveItem(at: a.dotFolder, to: current)
        try FileManager.default.copyItem(at: backup, to: a.dotFolder)
        let (forked, _) = try seal(
            SealRequest(files: [file("note.txt").path], recipients: ["berlin"]), from: a, to: "a-forked.amanat")
        do {
            _ = try BundleImport.importBundle(forked.path, into: b)
            throw AmanatError(.verificationFailed, "demo failed: a forked log was accepted")
        } catch let error as AmanatError where error.message.contains("FORK") {
            Console.out("    restored from a backup, A signs another checkpoint of the same size; B refuses:")
            Console.out("    " + error.message.replacingOccurrences(of: base.path + "/", with: "").prefix(150) + "…")
        }
        Console.out("    B keeps both checkpoints as evidence: \(try b.logAlarms().count) alarm (amanat log alarms)")
        try FileManager.default.removeItem(at: a.dotFolder)
        try FileManager.default.moveItem(at: current, to: a.dotFolder)
    }

    func publish() throws {
        say(
            "A publishes redacted public versions (policy public.yaml); the folder scans clean; B and any reader verify"
        )
        guard let policyURL = Bundle.module.url(forResource: "public-policy", withExtension: "yaml") else {
            throw AmanatError(.ioError, "the demo policy is missing from this build")
        }
        let policy = try Workspace.loadPolicy(policyURL.path)
        let folder = file("published")
        let result = try a.publish([], policy: policy, to: folder.path)
        for skipped in result.skipped { Console.out("    skipped \(skipped.record.prefix(12))…: \(skipped.reason)") }
        for record in result.records {
            Console.out(record.report.summary.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        let findings = try files.reduce(0) {
            $0 + (try FileScan.scan(file: folder.appendingPathComponent($1).path, scanner: DocumentScanner())).count
        }
        Console.out("    published/: \(files.count) files; amanat scan finds \(findings) identifier(s)")
        let keysB = try b.trustedKeys()
        for record in result.records {
            let path = folder.appendingPathComponent(record.recordId + ".sd-jwt").path
            let (presented, annotation) = try PublishedFile.verify(path, trustedKey: { keysB[$0] })
            let collector = b.signerName(annotation?.collector ?? "?")
            let signer = b.signerName(presented.signerFingerprint)
            Console.out(
                "    B verifies \(record.recordId.prefix(12))…: collected by '\(collector)'; \(presented.disclosedCount) "
                    + "disclosures signed by " + (signer == collector ? "the collector" : "'\(signer)', an editor")
                    + " (\(presented.withheldCount) withheld); \(annotation?.values.count ?? 0) values made by publisher "
                    + "'\(b.signerName(annotation?.publisherFingerprint ?? "?"))'")
        }
        guard findings == 0 else {
            throw AmanatError(.verificationFailed, "demo failed: the published folder holds identifiers")
        }
        // A reader with no workspace at all: only the identity files that travel with the publication.
        let identityFiles = files.filter { $0.hasSuffix(".identity.json") }.map {
            folder.appendingPathComponent($0).path
        }
        let reader = try VerificationKeys(workspace: nil, identityFiles: identityFiles)
        for record in result.records {
            let path = folder.appendingPathComponent(record.recordId + ".sd-jwt").path
            let (presented, _) = try PublishedFile.verify(path, trustedKey: { reader.key($0) })
            Console.out(
                "    a reader without any workspace verifies \(record.recordId.prefix(12))… with the "
                    + "\(identityFiles.count) identity file(s) in the folder: signed by \(presented.signerFingerprint)")
        }
        Console.out("    (readers compare that fingerprint with the one the organization publishes elsewhere)")
    }

    func partnerRaiseIsAProposal() throws {
        say("Consent is a ceiling only the collector raises: B edits A's 'partners' record to 'public' and sends it")
        let record = recordIds[1]
        let serviceB = try RecordService(workspace: b)
        let content = try serviceB.editableContent(record).content
        let raised = content.setting(
            "testimony", (content["testimony"] ?? .object([])).setting("consent", .string("public")))
        let (_, edit) = try serviceB.update(record, content: raised.sortedKeys(), key: try b.signingKey())
        try delta(from: b, to: "steppe", at: a, name: "b-to-a-raise.amanat")
        let atA = try RecordService(workspace: a).view(record)
        Console.out(
            "    at B: \(edit == .proposed ? "a proposal" : "applied (demo failed)");  at A: consent in force "
                + "'\(atA.consent.rawValue)', \(atA.consentProposals.count) proposal from "
                + "'\(a.signerName(atA.consentProposals.first?.signer ?? "?"))' waiting for A's `consent --accept`")
        guard atA.consent == .partners,
            Authority.publicationRefusal(atA, allowed: [.public], audience: .everyone) != nil
        else { throw AmanatError(.verificationFailed, "demo failed: a partner raised consent") }
    }

    func partnerErasureIsARequest() throws {
        say("Only the collector erases: B's erasure of A's record is a request at A, and nothing is deleted")
        let (_, inForce) = try RecordService(workspace: b).tombstone(
            recordIds[0], .erasure, reason: "synthetic request", key: try b.signingKey())
        let report = try delta(from: b, to: "steppe", at: a, name: "b-to-a-erase.amanat")
        Console.out(
            "    at B: \(inForce ? "in force (demo failed)" : "a request");  at A: \(report.pendingRequests.count) "
                + "pending request, \(report.erasedRecords.count) record(s) erased; A answers with `amanat erase`")
        guard !inForce, report.erasedRecords.isEmpty, try RecordService(workspace: a).view(recordIds[0]).content != nil
        else { throw AmanatError(.verificationFailed, "demo failed: a partner erased a record it did not collect") }
    }

    func internalRecordsStay() throws {
        say("Internal records never leave: A adds one with consent 'internal'; sealing it for B is refused")
        let internalRecord = demoRecords[0].setting(
            "testimony", (demoRecords[0]["testimony"] ?? .object([])).setting("consent", .string("internal"))
        ).sortedKeys()
        let internalId = try RecordService(workspace: a).add([internalRecord], key: try a.signingKey())[0]
        do {
            try seal(
                SealRequest(records: .records([internalId]), recipients: ["berlin"]), from: a, to: "refused.amanat")
            throw AmanatError(.verificationFailed, "demo failed: an internal record was sealed")
        } catch let error as AmanatError where error.kind == .invalidRequest {
            Console.out("    refused: \(error.message)")
        }
        let (_, all) = try seal(SealRequest(records: .all, recipients: ["berlin"]), from: a, to: "all.amanat")
        Console.out(
            "    seal --all: \(all.recordCount ?? 0) record(s) included, \(all.withheldRecords.count) internal left out"
        )
    }

    func seizedLaptopYieldsNothing() throws {
        say("A seized laptop yields nothing: A's .amanat/ is encrypted at rest, and `lock --shred` destroys its keys")
        var identifiers = Set<String>()
        for record in demoRecords {
            let json = record.canonicalUTF8()
            let findings = try json.withUnsafeBytes { try DocumentScanner().scan($0, format: .json) }
            identifiers.formUnion(findings.map(\.value).filter { $0.count >= 6 })
        }
        let audit = AtRestAudit.search(a.dotFolder, for: identifiers)
        Console.out(
            "    searched \(audit.files) files (\(audit.bytes) bytes) for the records' \(identifiers.count) "
                + "identifiers, as bytes and base64url: \(audit.hits.isEmpty ? "none found" : "FOUND \(audit.hits)")")
        guard audit.hits.isEmpty, !identifiers.isEmpty else {
            throw AmanatError(.verificationFailed, "demo failed: an identifier is readable in the workspace's files")
        }
        // A copy of A's workspace stands in for the seized laptop.
        let copy = file("seized")
        try FileManager.default.copyItem(at: a.root, to: copy)
        let seized = Workspace(root: copy, passphrase: { SecretBytes(Array(DemoCommand.demoPassphrase.utf8)) })
        let destroyed = try seized.shredKeys()
        let readable = (try? RecordService(workspace: seized)) != nil
        Console.out(
            "    on a copy: `amanat lock --shred` destroyed \(destroyed.count) key files; with the passphrase the store "
                + (readable ? "STILL OPENS (demo failed)" : "no longer opens: only partners' copies remain"))
        guard !readable else { throw AmanatError(.verificationFailed, "demo failed: a shredded workspace opened") }
    }
}
