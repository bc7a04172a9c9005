import AmanatCrypto
import AmanatRecords
import AmanatStore
import AmanatSync
import AmanatTestSupport
import Foundation
import Testing

@testable import AmanatWorkspace

/// The application flows at the library level, as a second front end would call them: no subprocesses, no
/// argument parsing.
@Suite("Workspace flows")
struct WorkspaceFlowTests {
    static let passphrase = SecretBytes(Array("library test passphrase".utf8))
    /// Cheap key derivation for tests (the command line uses ScryptParameters.default).
    static let fast = ScryptParameters(logN: 10, r: 8, p: 1)

    /// Two organizations that trust each other, in a temporary folder.
    struct Pair {
        let folder: URL
        let a: Workspace
        let b: Workspace

        init() throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("amanat-ws-\(UUID().uuidString)")
            var made: [Workspace] = []
            for name in ["a", "b"] {
                let root = folder.appendingPathComponent(name)
                try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
                made.append(
                    try Workspace.create(
                        at: root, organization: "Test Org \(name.uppercased())", passphrase: passphrase,
                        parameters: fast
                    ).0)
            }
            (a, b) = (made[0], made[1])
            _ = try a.trust(try b.identity(), from: "b.json", name: "berlin")
            _ = try b.trust(try a.identity(), from: "a.json", name: "steppe")
        }

        func cleanup() { try? FileManager.default.removeItem(at: folder) }

        func path(_ name: String) -> String { folder.appendingPathComponent(name).path }
    }

    static func example(_ name: String) throws -> JSONValue {
        try RecordFiles.read(PackagePaths.url("Specs/examples/\(name)").path)[0]
    }

    @Test func locateFindsTheWorkspaceLikeGit() throws {
        let p = try Pair()
        defer { p.cleanup() }
        let nested = p.a.root.appendingPathComponent("cases/0142")
        try FileManager.default.createDirectory(at: nested, withIntermediateDirectories: true)
        // From a subfolder, from the environment, and explicitly
        func same(_ x: URL, _ y: URL) -> Bool { x.standardizedFileURL.path == y.standardizedFileURL.path }
        #expect(
            same(try Workspace.locate(explicit: nil, environment: [:], currentDirectory: nested.path).root, p.a.root))
        let fromEnvironment = try Workspace.locate(
            explicit: nil, environment: [Workspace.environmentVariable: p.b.root.path], currentDirectory: nested.path)
        #expect(same(fromEnvironment.root, p.b.root))
        #expect(same(try Workspace.locate(explicit: p.b.root.path, environment: [:]).root, p.b.root))
        // Nowhere: a typed error that says what to do
        do {
            _ = try Workspace.locate(explicit: nil, environment: [:], currentDirectory: "/")
            Issue.record("found a workspace at /")
        } catch let error as AmanatError {
            #expect(error.kind == .inputMissing)
            #expect(error.message.contains("amanat init"))
        }
        // A second workspace in the same folder is refused and nothing changes
        #expect(throws: AmanatError.self) {
            try Workspace.create(
                at: p.a.root, organization: "Other", passphrase: Self.passphrase, parameters: Self.fast)
        }
        #expect(try p.a.identity().organization == "Test Org A")
    }

    @Test func keysUnlockOnlyThroughTheProviderWhenNeeded() throws {
        let p = try Pair()
        defer { p.cleanup() }
        final class Counter: @unchecked Sendable { var calls = 0 }
        let counter = Counter()
        let workspace = Workspace(root: p.a.root) {
            counter.calls += 1
            return Self.passphrase
        }
        // Reading the identity and the trust list asks for nothing
        _ = try workspace.identity()
        _ = try workspace.trustList()
        #expect(counter.calls == 0)
        // Unlocking asks the provider
        _ = try workspace.signingKey()
        #expect(counter.calls == 1)
        // Without a provider, and with a wrong passphrase: typed refusals
        do {
            _ = try Workspace(root: p.a.root).signingKey()
            Issue.record("unlocked without a passphrase")
        } catch let error as AmanatError {
            #expect(error.kind == .invalidRequest)
        }
        do {
            _ = try Workspace(root: p.a.root, passphrase: { SecretBytes(Array("wrong".utf8)) }).sealingKey()
            Issue.record("unlocked with a wrong passphrase")
        } catch let error as AmanatError {
            #expect(error.kind == .verificationFailed)
        }
    }

    /// The signing key is unlocked once per workspace value (its copies share it), also when the unlock was started
    /// ahead on another thread; a replaced key file is unlocked again, and a failed unlock is reported each time.
    @Test func theSigningKeyIsUnlockedOnceAndAheadOnRequest() throws {
        let p = try Pair()
        defer { p.cleanup() }
        final class Counter: @unchecked Sendable {
            let lock = NSLock()
            var calls = 0
            func count() {
                lock.lock()
                calls += 1
                lock.unlock()
            }
        }
        let counter = Counter()
        let workspace = Workspace(root: p.a.root) {
            counter.count()
            return Self.passphrase
        }
        let expected = try p.a.identity().signingKey
        // Given an unlock started ahead, the key comes from it; a copy of the workspace and later calls reuse it
        workspace.unlockSigningKeyAhead()
        // (the passphrase is asked for at once, on this thread; a second call starts nothing)
        #expect(counter.calls == 1)
        workspace.unlockSigningKeyAhead()
        #expect(counter.calls == 1)
        let copy = workspace
        #expect(try copy.signingKey().publicKey.jwk == expected)
        #expect(try workspace.signingKey().publicKey.jwk == expected)
        #expect(counter.calls == 1)
        // When the key file is replaced (same key, a new file), it is unlocked again
        let pem = try Data(contentsOf: workspace.signingKeyURL)
        try FileManager.default.removeItem(at: workspace.signingKeyURL)
        try pem.write(to: workspace.signingKeyURL)
        #expect(try workspace.signingKey().publicKey.jwk == expected)
        #expect(counter.calls == 2)
        // A wrong passphrase fails ahead as it fails in place, every time it is asked
        let wrong = Workspace(root: p.a.root, passphrase: { SecretBytes(Array("wrong passphrase".utf8)) })
        wrong.unlockSigningKeyAhead()
        for _ in 0..<2 {
            do {
                _ = try wrong.signingKey()
                Issue.record("unlocked with a wrong passphrase")
            } catch let error as AmanatError {
                #expect(error.kind == .verificationFailed)
            }
        }
        // And a missing key file is no key at all
        try FileManager.default.removeItem(at: workspace.signingKeyURL)
        #expect(throws: AmanatError.self) { try workspace.signingKey() }
    }

    @Test func trustListRules() throws {
        let p = try Pair()
        defer { p.cleanup() }
        let b = try p.b.identity()
        func kind(_ body: () throws -> Void) -> AmanatError.Kind? {
            do {
                try body()
                return nil
            } catch let error as AmanatError {
                return error.kind
            } catch {
                return nil
            }
        }
        // Its own identity, the same key twice, another key under a taken name: refused, list unchanged
        #expect(kind { _ = try p.a.trust(try p.a.identity(), from: "self.json", name: "me") } == .invalidRequest)
        #expect(kind { _ = try p.a.trust(b, from: "b.json", name: "other") } == .malformedInput)
        #expect(try p.a.trustList().partners.map(\.name) == ["berlin"])
        // A partner already trusted becomes a delegate
        guard case .delegated(let entry, let erased) = try p.a.trust(b, from: "b.json", name: nil, mayRetract: true)
        else {
            Issue.record("not delegated")
            return
        }
        #expect(entry.mayRetract == true && erased == 0)
        #expect(try p.a.authority().delegates == [b.fingerprint])
        #expect(try p.a.distrust("berlin").identity.fingerprint == b.fingerprint)
        #expect(try p.a.trustList().partners.isEmpty)
    }

    @Test func sealThenImportThroughTheLibrary() throws {
        let p = try Pair()
        defer { p.cleanup() }
        // A adds a record and seals it for B
        let recordId = try RecordService(workspace: p.a).add(
            [try Self.example("en-survivor-public.json")], key: try p.a.signingKey())[0]
        let out = try OutputFile(p.path("ab.amanat"), mode: 0o600)
        var progressed: UInt64 = 0
        let report = try p.a.seal(
            SealRequest(records: .sinceLast, recipients: ["berlin"]), sink: { try out.write($0) },
            commit: { try out.commit() }, progress: { done, _ in progressed = done })
        #expect(report.versionCount == 1 && report.recordCount == 1)
        #expect(progressed > 0)
        // B imports it: one version, the same state hash as A
        let imported = try BundleImport.importBundle(p.path("ab.amanat"), into: p.b)
        #expect(imported.versionsAdded == 1)
        #expect(imported.inSyncWithSender == true)
        #expect(try RecordService(workspace: p.b).view(recordId).collector == (try p.a.identity().fingerprint))
        // Once B's next bundle acknowledges it, nothing is left to send since the last bundle
        let back = try OutputFile(p.path("ba.amanat"), mode: 0o600)
        _ = try p.b.seal(
            SealRequest(records: .sinceLast, recipients: ["steppe"]), sink: { try back.write($0) },
            commit: { try back.commit() })
        _ = try BundleImport.importBundle(p.path("ba.amanat"), into: p.a)
        let again = try OutputFile(p.path("again.amanat"), mode: 0o600)
        let empty = try p.a.seal(
            SealRequest(records: .sinceLast, recipients: ["berlin"]), sink: { try again.write($0) },
            commit: { try again.commit() })
        #expect(empty.versionCount == 0)
    }

    @Test func aBundleThatWasNeverCommittedIsNotCountedAsSent() throws {
        let p = try Pair()
        defer { p.cleanup() }
        _ = try RecordService(workspace: p.a).add(
            [try Self.example("en-survivor-public.json")], key: try p.a.signingKey())
        struct Interrupted: Error {}
        // The bundle is written, then its commit fails (a full disk, Ctrl-C before the rename)
        #expect(throws: Interrupted.self) {
            try p.a.seal(
                SealRequest(records: .sinceLast, recipients: ["berlin"]), sink: { _ in },
                commit: { throw Interrupted() })
        }
        // The next delta still carries the version
        let out = try OutputFile(p.path("retry.amanat"), mode: 0o600)
        let retry = try p.a.seal(
            SealRequest(records: .sinceLast, recipients: ["berlin"]), sink: { try out.write($0) },
            commit: { try out.commit() })
        #expect(retry.versionCount == 1)
    }

    @Test func internalRecordsAreLeftOutAndRefusedByName() throws {
        let p = try Pair()
        defer { p.cleanup() }
        let service = try RecordService(workspace: p.a)
        let ids = try service.add(
            [try Self.example("zh-relative-internal.json"), try Self.example("en-survivor-public.json")],
            key: try p.a.signingKey())
        do {
            _ = try p.a.seal(
                SealRequest(records: .records([ids[0]]), recipients: ["berlin"]), sink: { _ in }, commit: {})
            Issue.record("an internal record was sealed")
        } catch let error as AmanatError {
            #expect(error.kind == .invalidRequest)
            #expect(error.message.contains("internal"))
        }
        let all = try p.a.seal(SealRequest(records: .all, recipients: ["berlin"]), sink: { _ in }, commit: {})
        #expect(all.withheldRecords == [ids[0]])
        #expect(all.recordCount == 1)
    }

    /// Duplicates through the library (what `status` and `duplicates` print): the same testimony added twice is one
    /// unconfirmed group under the organization's own key; a partner's key is the pairwise one, an unknown partner a
    /// clear error.
    @Test func duplicatesAreFoundThroughTheSyncService() throws {
        let p = try Pair()
        defer { p.cleanup() }
        let records = try RecordService(workspace: p.a).add(
            [
                try Self.example("en-survivor-public.json"), try Self.example("en-survivor-public.json"),
                try Self.example("zh-relative-internal.json"),
            ], key: try p.a.signingKey())
        let sync = try SyncService(workspace: p.a)
        let report = try sync.duplicates(key: try sync.matchingKey())
        #expect(report.clusters.count == 1)
        #expect(Set(try #require(report.clusters.first).records) == Set(records.prefix(2)))
        #expect(try sync.unconfirmedDuplicateGroups() == 1)
        // The groups from the shared pseudonyms the store hands over equal those from every record's pseudonyms.
        var all: [String: Set<String>] = [:]
        try sync.forEachPseudonyms(key: try sync.matchingKey()) { all[$0] = Set($1) }
        #expect(Set(all.keys) == Set(records))
        let inputs = try sync.duplicateInputs(key: try sync.matchingKey())
        #expect(Set(inputs.keys.keys) == Set(records.prefix(2)))
        #expect(DuplicateFinder.clusters(keys: all, assertions: inputs.assertions) == report)
        let pairwise = try OrganizationSecrets.partnerMatchingKey(
            sealingKey: try p.b.sealingKey(), partner: try p.a.identity())
        #expect(try sync.matchingKey(partner: "berlin") == pairwise)
        #expect(try sync.matchingKey(partner: "berlin") != (try sync.matchingKey()))
        do {
            _ = try sync.matchingKey(partner: "nobody", option: "--partner")
            Issue.record("an unknown partner gave a key")
        } catch let error as AmanatError {
            #expect(error.message.contains("--partner 'nobody' is not a partner on the trust list"))
        }
    }

    @Test func organizationSecretsAreStableAndSeparated() throws {
        let p = try Pair()
        defer { p.cleanup() }
        let secrets = try OrganizationSecrets(signingKey: try p.a.signingKey())
        let again = try OrganizationSecrets(signingKey: try p.a.signingKey())
        #expect(try secrets.matchingKey() == (try again.matchingKey()))
        #expect(
            try secrets.pseudonymKey(purpose: "publication", recipient: "public", kind: .cnResidentID)
                != (try secrets.pseudonymKey(purpose: "exchange", recipient: "partner", kind: .cnResidentID)))
        #expect(try secrets.matchingKey() != (try OrganizationSecrets(signingKey: try p.b.signingKey()).matchingKey()))
        // Both partners derive the same pairwise key
        let ab = try OrganizationSecrets.partnerMatchingKey(
            sealingKey: try p.a.sealingKey(), partner: try p.b.identity())
        let ba = try OrganizationSecrets.partnerMatchingKey(
            sealingKey: try p.b.sealingKey(), partner: try p.a.identity())
        #expect(ab == ba)
    }
}
