import AmanatCrypto
import AmanatRecords
import AmanatSync
import Foundation
import Testing

@testable import AmanatStore

/// Erasure requests take effect in the store only when Authority allows them (Specs/authority.md).
@Suite("Store: erasure authority")
struct ErasureAuthorityTests {
    static let blob = String(repeating: "ab", count: 32)
    static let record = JSONValue.object([
        ("attachments", .array([.object([("sha256", .string(blob))])])),
        ("schema", .string("amanat-record/v1")),
        ("testifier", .object([("cnResidentId", .string("11010519491231002X"))])),
    ])

    func erasure(by org: TestOrganization, of create: StoredVersion, prev: [String]? = nil) throws -> StoredVersion {
        try org.sign(
            RecordContent.tombstone(.erasure, reason: "withdrawn"), kind: .retract, record: create.recordId,
            prev: prev ?? [create.id], erase: true)
    }

    @Test func onlyTheCollectorOrADelegateErases() throws {
        // Given A's record in a store, with its attachment registered
        let (a, b) = (try TestOrganization(), try TestOrganization())
        let store = try Store()
        let create = try a.sign(Self.record, kind: .create)
        try store.insert([create])
        try store.registerBlob(sha256: Self.blob, size: 10)
        // When B, a partner without authority, sends an erasure request
        let request = try erasure(by: b, of: create)
        let summary = try store.insert([request])
        // Then nothing is erased: the data and the attachment stay, and the view shows a pending request
        #expect(summary.erased.isEmpty)
        #expect(try store.version(create.id).content != nil)
        #expect(try store.version(create.id).disclosures.isEmpty == false)
        #expect(try store.blobsOnlyInErasedRecords().isEmpty)
        let view = try #require(try store.recordView(create.recordId))
        #expect(view.pendingRequests.map(\.id) == [request.id])
        #expect(!view.isErased)
        // When the trust list later makes B a delegate, its request takes effect
        #expect(try store.applyErasures(authority: Authority(delegates: [b.fingerprint])) == [create.recordId])
        #expect(try store.version(create.id).content == nil)
        #expect(try store.version(create.id).disclosures.isEmpty)
        #expect(try store.blobsOnlyInErasedRecords() == [Self.blob])
    }

    @Test func theCollectorAnswersAPendingRequest() throws {
        let (a, b) = (try TestOrganization(), try TestOrganization())
        let store = try Store()
        let create = try a.sign(Self.record, kind: .create)
        let request = try erasure(by: b, of: create)
        try store.insert([create, request])
        #expect(try store.version(create.id).content != nil)
        // The collector's erasure names every head, the request included, and is in force
        let answer = try erasure(by: a, of: create, prev: try store.heads(record: create.recordId))
        #expect(answer.prev == [request.id])
        #expect(try store.insert([answer]).erased == [create.recordId])
        #expect(try store.versions(record: create.recordId).allSatisfy { $0.content == nil && $0.disclosures.isEmpty })
        #expect(try store.recordView(create.recordId)?.isErased == true)
    }

    @Test func anErasureNamingAbsentVersionsWaitsForThem() throws {
        let a = try TestOrganization()
        let create = try a.sign(Self.record, kind: .create)
        let edit = try a.sign(
            Self.record.setting("tags", .array([.string("x")])), kind: .edit, record: create.recordId, prev: [create.id]
        )
        let erase = try erasure(by: a, of: create, prev: [edit.id])
        // Given a store holding the create version and an erasure over an edit it has not seen
        let store = try Store()
        try store.insert([create])
        #expect(try store.insert([erase]).erased.isEmpty)
        #expect(try store.version(create.id).content != nil)
        // When the edit arrives, the erasure takes effect on every version, the new one included
        #expect(try store.insert([edit]).erased == [create.recordId])
        #expect(try store.versions(record: create.recordId).allSatisfy { $0.content == nil })
        // And made-up parents never anchor an erasure: one naming a version of another record waits forever
        let other = try a.sign(Self.record.setting("tags", .array([.string("o")])), kind: .create)
        let create2 = try a.sign(Self.record.setting("tags", .array([.string("2")])), kind: .create)
        let stray = try erasure(by: a, of: create2, prev: [other.id])
        let store2 = try Store()
        try store2.insert([other, create2, stray])
        #expect(try store2.version(create2.id).content != nil)
    }

    @Test func erasureAppliesInAnyArrivalOrder() throws {
        let (a, b) = (try TestOrganization(), try TestOrganization())
        let create = try a.sign(Self.record, kind: .create)
        let edit = try b.sign(
            Self.record.setting("tags", .array([.string("b")])), kind: .edit, record: create.recordId, prev: [create.id]
        )
        let request = try erasure(by: b, of: create, prev: [edit.id])
        let erase = try erasure(by: a, of: create, prev: [request.id])
        let all = [create, edit, request, erase]
        var hashes = Set<String>()
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<8 {
            let store = try Store()
            for v in all.shuffled(using: &rng) { try store.insert([v]) }
            #expect(try store.versions(record: create.recordId).allSatisfy { $0.content == nil })
            hashes.insert(try store.stateHash())
        }
        #expect(hashes.count == 1)
    }
}
