import AmanatBundle
import AmanatCrypto
import AmanatRecords
import AmanatStore
import Foundation
import Testing

@testable import AmanatWorkspace

/// `amanat open` streams: record entries are staged encrypted, then verified and inserted a batch at a time into one
/// transaction. A bundle imports the same in many small batches as in one, and a bad version in the last batch
/// still leaves the store as it was.
@Suite("Streaming import")
struct StreamingImportTests {
    typealias Pair = WorkspaceFlowTests.Pair

    /// Records that may travel (an internal one would stay home).
    static let examples = [
        "en-survivor-public.json", "kk-cyrl-relative-public.json", "kk-latn-relative-public.json",
        "minimal-partial.json", "ru-survivor-partners.json", "ug-arab-relative-public.json",
    ]

    /// A third workspace `c` that trusts A (as steppe) and that A trusts (as carol).
    static func third(_ p: Pair) throws -> Workspace {
        let root = p.folder.appendingPathComponent("c")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let c = try Workspace.create(
            at: root, organization: "Test Org C", passphrase: WorkspaceFlowTests.passphrase,
            parameters: WorkspaceFlowTests.fast
        ).0
        _ = try p.a.trust(try c.identity(), from: "c.json", name: "carol")
        _ = try c.trust(try p.a.identity(), from: "a.json", name: "steppe")
        return c
    }

    static func seal(_ workspace: Workspace, for recipients: [String], _ file: String) throws {
        let out = try OutputFile(file, mode: 0o600)
        _ = try workspace.seal(
            SealRequest(records: .all, recipients: recipients), sink: { try out.write($0) },
            commit: { try out.commit() })
    }

    /// `object` with its member `key` set to `value`.
    static func setting(_ key: String, _ value: JSONValue, in object: JSONValue) -> JSONValue {
        guard case .object(var members) = object else { return object }
        members.removeAll { $0.0 == key }
        members.append((key, value))
        return .object(members)
    }

    static func versions(_ workspace: Workspace) throws -> [StoredVersion] {
        let store = try workspace.store()
        return try store.allVersionIds().map { try store.version($0) }
    }

    @Test func manySmallBatchesImportLikeOneAndTwiceAddsNothing() throws {
        let p = try Pair()
        defer { p.cleanup() }
        let c = try Self.third(p)
        let service = try RecordService(workspace: p.a)
        let ids = try service.add(try Self.examples.map(WorkspaceFlowTests.example), key: try p.a.signingKey())
        let edited = Self.setting(
            "tags", .array([.string("re-interviewed")]), in: try WorkspaceFlowTests.example("minimal-partial.json"))
        _ = try service.update(ids[3], content: edited, key: try p.a.signingKey())
        let total = Self.examples.count + 1
        try Self.seal(p.a, for: ["berlin", "carol"], p.path("all.amanat"))

        // B imports in batches of 2 versions, C in one batch.
        let small = try BundleImport.importBundle(p.path("all.amanat"), into: p.b, batchSize: 2)
        let whole = try BundleImport.importBundle(p.path("all.amanat"), into: c)
        #expect(small.versionsAdded == total && whole.versionsAdded == total)
        #expect(small.incompleteHistory.isEmpty && whole.incompleteHistory.isEmpty)
        #expect(small.inSyncWithSender == true && whole.inSyncWithSender == true)
        // Every version's log proof was matched, in whichever batch it came.
        #expect(small.log.versionProofs == total && whole.log.versionProofs == total)
        #expect(try Self.versions(p.b) == Self.versions(c))
        #expect(try Self.versions(p.b) == Self.versions(p.a))
        let hash = try p.b.store().stateHash()
        #expect(try c.store().stateHash() == hash)

        // Opening it again, in other batches, adds nothing.
        let again = try BundleImport.importBundle(p.path("all.amanat"), into: p.b, batchSize: 3)
        #expect(again.versionsAdded == 0 && again.versionsAlreadyPresent == total)
        #expect(try p.b.store().stateHash() == hash)
        #expect(try p.b.store().counts().versions == total)
    }

    @Test func aBadVersionInTheLastBatchLeavesTheStoreUnchanged() throws {
        let p = try Pair()
        defer { p.cleanup() }
        let service = try RecordService(workspace: p.a)
        let key = try p.a.signingKey()
        let ids = try service.add(try Self.examples.map(WorkspaceFlowTests.example), key: key)
        // A version that verifies but breaks the record schema, in a record whose id sorts after every other one, so
        // it is the last line of the bundle. It goes into A's store directly, past the checks of `add`.
        let content = Self.setting(
            "unknownMember", .string("synthetic"), in: try WorkspaceFlowTests.example("minimal-partial.json"))
        let fingerprint = try p.a.identity().fingerprint
        var bad: StoredVersion? = nil
        // Record ids are random: a new one sorts after the examples' largest with probability about 1 / (n + 1), but
        // far less when that largest happens to start with "zz" (500 tries then failed in CI). 20,000 tries leave only
        // a largest id starting with "zzz" (about 10 in 262,144 runs) to chance; a typical run needs a dozen.
        for _ in 0..<20_000 {
            let signed = try RecordSigner.sign(
                content: content, kind: .create, recordId: nil, prev: [], key: key, policy: .amanatRecord)
            let verified = try RecordVerifier.verify(
                signed.sdjwt, trustedKey: { $0 == fingerprint ? key.publicKey : nil })
            if verified.recordId > ids.max()! {
                bad = StoredVersion(verified: verified, sdjwt: signed.sdjwt)
                break
            }
        }
        try service.store.insert([try #require(bad)])
        let total = Self.examples.count + 1
        try Self.seal(p.a, for: ["berlin"], p.path("bad.amanat"))

        _ = try p.b.store()
        let before = try Self.versions(p.b)
        let hash = try p.b.store().stateHash()
        do {
            _ = try BundleImport.importBundle(p.path("bad.amanat"), into: p.b, batchSize: 2)
            Issue.record("a bundle with a version that breaks the schema was imported")
        } catch let error as AmanatError {
            #expect(error.kind == .malformedInput)
            #expect(error.message.contains("records/batch-000001.sd-jwt-lines, line \(total) was refused"))
            #expect(error.message.contains("Nothing was imported"))
        }
        #expect(try Self.versions(p.b) == before)
        #expect(try p.b.store().stateHash() == hash)
        #expect(try p.b.store().counts().versions == 0)
        #expect(try p.b.store().seenCheckpoint(origin: try p.a.logOrigin()) == nil)
        #expect(try p.b.store().receivedBundles(partner: fingerprint).isEmpty)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: p.b.dotFolder.path).filter {
            $0.hasPrefix(".incoming")
        }
        #expect(leftovers.isEmpty)
    }

    /// The staged entries read back in tiny chunks split into the same versions as ``BundleImport/lines(of:)``, in
    /// batches of any size; the staged file holds no plaintext.
    @Test(arguments: [1, 2, 3, 7, 64])
    func stagedEntriesReadBackAsTheirLines(chunkSize: Int) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("amanat-stage-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let entries: [(String, String)] = [
            ("records/batch-000001.sd-jwt-lines", "alpha~\nbeta~\r\n\r\n\ngamma~\r"),
            ("records/" + String(repeating: "Q", count: 43) + ".sd-jwt", "single~one\n"),
            ("records/batch-000002.sd-jwt-lines", ""),
            ("records/batch-000003.sd-jwt-lines", "\n\nЛәйлә~\ndelta~"),
        ]
        let output = try ImportOutput(stagingParent: folder)
        for (path, text) in entries {
            let bytes = Array(text.utf8)
            try output.begin(path: path, size: UInt64(bytes.count))
            try bytes.withUnsafeBytes { try output.write($0) }
            try output.end()
        }
        try output.finishRecords()
        let staged = try Data(contentsOf: URL(fileURLWithPath: output.recordsPath))
        #expect(staged.range(of: Data("alpha".utf8)) == nil && staged.range(of: Data("gamma".utf8)) == nil)

        let expected: [(String, String)] = entries.flatMap { path, text in
            path.hasSuffix(".sd-jwt-lines")
                ? BundleImport.lines(of: text).enumerated().map { ("\(path), line \($0.offset + 1)", $0.element) }
                : [(path, text)]
        }
        for batch in [1, 2, 100] {
            let records = try output.stagedRecords(chunkSize: chunkSize)
            var got: [(String, String)] = []
            while true {
                let items = try records.next(count: batch, bytes: .max)
                if items.isEmpty { break }
                #expect(items.count <= batch)
                got += items.map { ($0.location, $0.text) }
            }
            #expect(got.map(\.0) == expected.map(\.0))
            #expect(got.map(\.1) == expected.map(\.1))
        }
    }
}
