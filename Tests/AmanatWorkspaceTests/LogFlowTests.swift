import AmanatBundle
import AmanatCrypto
import AmanatLog
import AmanatRecords
import AmanatStore
import AmanatTestSupport
import Foundation
import Testing

@testable import AmanatWorkspace

/// The organization's transparency log through the library: what is logged, proofs in bundles, cosignatures going
/// back, forks refused and kept as evidence, the auditor's export.
@Suite("Transparency log flows")
struct LogFlowTests {
    typealias Pair = WorkspaceFlowTests.Pair

    static func add(_ workspace: Workspace, _ example: String) throws -> String {
        try RecordService(workspace: workspace).add(
            [try WorkspaceFlowTests.example(example)], key: try workspace.signingKey())[0]
    }

    /// Seals for `recipient` into `file` and returns the report.
    @discardableResult
    static func seal(
        _ workspace: Workspace, for recipient: String, _ file: String, records: RecordSelection = .sinceLast,
        files: [String] = []
    ) throws -> SealReport {
        let out = try OutputFile(file, mode: 0o600)
        return try workspace.seal(
            SealRequest(files: files, records: records, recipients: [recipient]), sink: { try out.write($0) },
            commit: { try out.commit() })
    }

    @Test func everyVersionSignedHereIsLoggedAndProvable() throws {
        let p = try Pair()
        defer { p.cleanup() }
        let record = try Self.add(p.a, "en-survivor-public.json")
        let store = try p.a.store()
        #expect(try store.logSize() == 1)
        let versions = try store.versions(record: record)
        let proof = try p.a.proveInclusion(versions[0].id)
        let verifier = try Workspace.logVerifier(try p.a.identity())
        let entry = try #require(Store.logEntry(for: versions[0]))
        let checkpoint = try proof.verify(leafHash: try MerkleHash.leaf(entry.encoded), verifier: verifier)
        let origin = try p.a.logOrigin()
        #expect(checkpoint.size == 1 && checkpoint.origin == origin)
        // A version from a partner is not in our log.
        let theirs = try Self.add(p.b, "minimal-partial.json")
        try Self.seal(p.b, for: "steppe", p.path("ba.amanat"))
        _ = try BundleImport.importBundle(p.path("ba.amanat"), into: p.a)
        #expect(throws: AmanatError.self) { try p.a.proveInclusion(theirs) }
        #expect(try p.a.store().logSize() == 1)
    }

    @Test func bundlesCarryProofsAndPartnersCosign() throws {
        let p = try Pair()
        defer { p.cleanup() }
        _ = try Self.add(p.a, "en-survivor-public.json")
        try Self.seal(p.a, for: "berlin", p.path("ab1.amanat"))
        let first = try BundleImport.importBundle(p.path("ab1.amanat"), into: p.b)
        #expect(first.log.status == .first && first.log.cosigned && first.log.versionProofs == 1)
        // The version and the manifest: two entries; berlin keeps the version's proof.
        #expect(first.log.size == 2)
        let seen = try #require(try p.b.store().seenCheckpoint(origin: try p.a.logOrigin()))
        #expect(seen.size == 2 && seen.cosigned != nil)
        // A second bundle extends the first: a consistency proof from the size berlin saw.
        _ = try Self.add(p.a, "minimal-partial.json")
        try Self.seal(p.a, for: "berlin", p.path("ab2.amanat"))
        let second = try BundleImport.importBundle(p.path("ab2.amanat"), into: p.b)
        #expect(second.log.status == .consistent && second.log.cosigned && second.log.size == 4)
        // Berlin's next bundle returns its cosignature; steppe keeps it.
        try Self.seal(p.b, for: "steppe", p.path("ba.amanat"), records: .none)
        let back = try BundleImport.importBundle(p.path("ba.amanat"), into: p.a)
        #expect(back.log.cosignaturesReceived == 1)
        let status = try p.a.logStatus()
        #expect(status.cosigners.map(\.fingerprint) == [try p.b.identity().fingerprint])
        #expect(status.cosigners.first?.size == 4)
        #expect(status.alarms == 0)
        // An out-of-order (older) bundle still imports its records; the log state does not go back.
        let older = try BundleImport.importBundle(p.path("ab1.amanat"), into: p.b)
        #expect(older.log.status == .older && !older.log.cosigned)
        #expect(try p.b.store().seenCheckpoint(origin: try p.a.logOrigin())?.size == 4)
    }

    /// The issue's fork: a workspace restored from a backup signs a different checkpoint of the same size; the
    /// partner refuses the bundle, raises the alarm and keeps both checkpoints.
    @Test func aRestoredBackupThatForksTheLogIsRefusedAndKeptAsEvidence() throws {
        let p = try Pair()
        defer { p.cleanup() }
        _ = try Self.add(p.a, "en-survivor-public.json")
        let backup = p.folder.appendingPathComponent("backup-of-a")
        try FileManager.default.copyItem(at: p.a.dotFolder, to: backup)
        try Self.seal(p.a, for: "berlin", p.path("ab1.amanat"))
        _ = try BundleImport.importBundle(p.path("ab1.amanat"), into: p.b)
        // Restore A: its log forgets the manifest berlin saw; a file-only bundle logs another manifest at index 1.
        try FileManager.default.removeItem(at: p.a.dotFolder)
        try FileManager.default.copyItem(at: backup, to: p.a.dotFolder)
        let plain = p.path("note.txt")
        try Data("synthetic note".utf8).write(to: URL(fileURLWithPath: plain))
        try Self.seal(p.a, for: "berlin", p.path("ab2.amanat"), records: .none, files: [plain])
        let before = try p.b.store().counts()
        do {
            _ = try BundleImport.importBundle(p.path("ab2.amanat"), into: p.b)
            Issue.record("a forked checkpoint was accepted")
        } catch let error as AmanatError {
            #expect(error.kind == .verificationFailed)
            #expect(error.message.contains("FORK"))
        }
        #expect(try p.b.store().counts() == before)
        let alarms = try p.b.logAlarms()
        #expect(alarms.count == 1)
        let first = try Checkpoint(parsing: try SignedNote(parsing: alarms[0].first).text)
        let second = try Checkpoint(parsing: try SignedNote(parsing: alarms[0].second).text)
        #expect(first.size == 2 && second.size == 2 && first.rootHash != second.rootHash)
        #expect(try p.b.logStatus().alarms == 1)
        // A fork that grows instead (a new record after the restore) is caught by the consistency proof.
        _ = try Self.add(p.a, "minimal-partial.json")
        try Self.seal(p.a, for: "berlin", p.path("ab3.amanat"))
        #expect(throws: AmanatError.self) { try BundleImport.importBundle(p.path("ab3.amanat"), into: p.b) }
        #expect(try p.b.logAlarms().count == 2)
    }

    @Test func anExportedLogAuditsAndATamperedOneDoesNot() throws {
        let p = try Pair()
        defer { p.cleanup() }
        _ = try Self.add(p.a, "en-survivor-public.json")
        _ = try Self.add(p.a, "minimal-partial.json")
        try Self.seal(p.a, for: "berlin", p.path("ab.amanat"))
        _ = try BundleImport.importBundle(p.path("ab.amanat"), into: p.b)
        try Self.seal(p.b, for: "steppe", p.path("ba.amanat"), records: .none)
        _ = try BundleImport.importBundle(p.path("ba.amanat"), into: p.a)
        let folder = p.path("export")
        #expect(try p.a.exportLog(to: folder) == 3)
        let audit = try Workspace.auditLog(folder: folder, cosigners: [try p.b.identity()])
        #expect(audit.size == 3 && audit.cosignedBy.count == 1)
        // One entry swapped for another digest: the root no longer matches.
        let entries = URL(fileURLWithPath: folder).appendingPathComponent("entries")
        var text = try String(contentsOf: entries, encoding: .utf8)
        let line = text.split(separator: "\n")[0]
        let forged = "0 record-version " + Base64URL.encode([UInt8](repeating: 7, count: 32))
        text = text.replacingOccurrences(of: String(line), with: forged)
        try Data(text.utf8).write(to: entries)
        #expect(throws: AmanatError.self) { try Workspace.auditLog(folder: folder) }
        // An export never overwrites.
        #expect(throws: AmanatError.self) { try p.a.exportLog(to: folder) }
    }
}
