import AmanatCrypto
import AmanatRecords
import Foundation
import Testing

@testable import AmanatStore

/// `Store.insert(batches:)`: an import written batch by batch into one transaction ends exactly as one
/// `insert(_:)` of all its versions, and a failure in any batch leaves the store as it was.
@Suite("Streamed store insert")
struct StreamedInsertTests {
    /// Records with edits, a concurrent pair, a version whose parent is missing, and an erased record: ordered so
    /// that children come in earlier batches than their parents and the erasure request after the versions it
    /// erases.
    static func history(_ org: TestOrganization) throws -> (versions: [StoredVersion], missingParent: StoredVersion) {
        var versions: [StoredVersion] = []
        for i in 0..<6 {
            let create = try org.create("record \(i)")
            let edit = try org.edit(create, "edited \(i)")
            versions += [try org.edit(edit, "again \(i)"), edit, create]
        }
        let root = try org.create("concurrent")
        versions += [try org.edit(root, "left"), try org.edit(root, "right"), root]
        let erased = try org.create("to be erased")
        let erasedEdit = try org.edit(erased, "erased edit")
        versions += [erasedEdit, erased, try org.erasure(of: erased, prev: [erasedEdit.id])]
        let absent = try org.create("never sent")
        let orphan = try org.edit(absent, "its parent never arrives")
        versions.append(orphan)
        return (versions, orphan)
    }

    /// The versions in batches of `size`.
    static func batches(_ versions: [StoredVersion], size: Int) -> () throws -> [StoredVersion]? {
        var start = 0
        return {
            guard start < versions.count else { return nil }
            defer { start += size }
            return Array(versions[start..<min(start + size, versions.count)])
        }
    }

    static func snapshot(_ store: Store) throws -> [StoredVersion] {
        try store.allVersionIds().map { try store.version($0) }
    }

    @Test(arguments: [false, true])
    func batchesEndLikeOneInsert(encrypted: Bool) throws {
        let org = try TestOrganization()
        let (versions, orphan) = try Self.history(org)
        let one = try Store(key: encrypted ? try StoreKey.generate() : nil)
        let streamed = try Store(key: encrypted ? try StoreKey.generate() : nil)

        let expected = try one.insert(versions)
        let summary = try streamed.insert(batches: Self.batches(versions, size: 4))

        #expect(summary.added == versions.count && expected.added.count == versions.count)
        #expect(summary.alreadyPresent == 0)
        #expect(summary.incomplete == [orphan.id] && expected.incomplete == [orphan.id])
        #expect(summary.recordsWithConcurrentHeads == expected.recordsWithConcurrentHeads)
        #expect(summary.recordsWithConcurrentHeads.count == 1)
        #expect(summary.erased == expected.erased && summary.erased.count == 1)
        #expect(try Self.snapshot(streamed) == Self.snapshot(one))
        #expect(try streamed.stateHash() == one.stateHash())
        #expect(try streamed.integrityCheck())

        // Again, in other batches: nothing is added.
        let again = try streamed.insert(batches: Self.batches(versions.reversed(), size: 7))
        #expect(again.added == 0 && again.alreadyPresent == versions.count)
        #expect(again.incomplete.isEmpty && again.erased.isEmpty)
        #expect(try streamed.stateHash() == one.stateHash())
    }

    struct Refused: Error {}

    @Test(arguments: [false, true])
    func aFailureInTheLastBatchLeavesTheStoreUnchanged(encrypted: Bool) throws {
        let org = try TestOrganization()
        let store = try Store(key: encrypted ? try StoreKey.generate() : nil, logOwner: org.fingerprint)
        let earlier = try org.create("already here")
        try store.insert([earlier])
        let before = try Self.snapshot(store)
        let hash = try store.stateHash()
        let logSize = try store.logSize()
        let (versions, _) = try Self.history(org)
        var calls = 0
        let next = Self.batches(versions, size: 5)
        #expect(throws: Refused.self) {
            try store.insert(
                batches: {
                    guard let batch = try next() else { throw Refused() }
                    calls += 1
                    return batch
                }, from: IncomingBundle(partner: org.fingerprint, bundleId: "bundle-1", acknowledges: []))
        }
        #expect(calls == (versions.count + 4) / 5)
        #expect(try Self.snapshot(store) == before)
        #expect(try store.stateHash() == hash)
        #expect(try store.logSize() == logSize)
        #expect(try store.receivedBundles(partner: org.fingerprint).isEmpty)
        #expect(try store.unacknowledgedVersions(partner: org.fingerprint) == [earlier.id])
        #expect(try store.integrityCheck())
        // The keys cached for records of the rolled-back batches are gone with them: an import afterwards works.
        let summary = try store.insert(batches: Self.batches(versions, size: 5))
        #expect(summary.added == versions.count)
        #expect(try store.counts().versions == versions.count + 1)
    }

    @Test func theLedgerAndAttachmentsOfTheBundleAreWrittenInTheTransaction() throws {
        let org = try TestOrganization()
        let store = try Store(key: try StoreKey.generate())
        let digest = String(repeating: "ab", count: 32)
        let versions = [try org.create("with a file", attachments: [digest]), try org.create("plain")]
        let key = SecretBytes(try SecureRandom.bytes(32))
        let summary = try store.insert(
            batches: Self.batches(versions, size: 1),
            from: IncomingBundle(
                partner: org.fingerprint, bundleId: "bundle-7", acknowledges: [],
                blobs: [IncomingBlob(sha256: digest, size: 42, key: key)]))
        #expect(summary.added == 2)
        #expect(try store.receivedBundles(partner: org.fingerprint) == ["bundle-7"])
        #expect(try store.unacknowledgedVersions(partner: org.fingerprint).isEmpty)
        #expect(try store.blobKey(sha256: digest) == key)
    }
}
