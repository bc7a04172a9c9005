import AmanatCrypto
import AmanatRecords
import Foundation
import GRDB
import Testing

@testable import AmanatStore

/// The encrypted store (Specs/storage.md) behaves as the plaintext one, keeps no content readable, and refuses
/// what does not open.
@Suite("Store: encrypted at rest")
struct EncryptedStoreTests {
    /// Every text and blob cell of every table, as bytes.
    static func cells(_ store: Store, tables only: [String]? = nil) throws -> [Data] {
        try store.writer.read { db in
            var result: [Data] = []
            let all = try String.fetchAll(
                db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            for table in only ?? all {
                for row in try Row.fetchAll(db, sql: "SELECT * FROM \(table)") {
                    for (_, value) in row {
                        switch value.storage {
                        case .string(let s): result.append(Data(s.utf8))
                        case .blob(let d): result.append(d)
                        default: break
                        }
                    }
                }
            }
            return result
        }
    }

    @Test func theSameHistoryGivesTheSameViewAndNoReadableContent() throws {
        let (a, b) = (try TestOrganization(), try TestOrganization())
        var versions: [StoredVersion] = []
        for i in 0..<12 {
            let c = try a.create("tag-\(i)", attachments: [String(repeating: String(i % 10), count: 64)])
            versions.append(c)
            if i % 3 == 0 { versions.append(try b.edit(c, "edited-\(i)")) }
        }
        let erased = versions[0]
        let plain = try Store()
        let sealed = try Store(key: try StoreKey.generate())
        #expect(sealed.isEncrypted && !plain.isEncrypted)
        // Given the same versions (and an erasure by the collector) in both, in a different order
        try plain.insert(versions)
        try sealed.insert(versions.reversed())
        try plain.insert([try a.erasure(of: erased)])
        let erasure = try plain.versions(record: erased.recordId).first { $0.isErasure }!
        try sealed.insert([erasure])
        // Then the views and every version read back are the same
        #expect(try sealed.stateHash() == plain.stateHash())
        for id in try plain.allVersionIds() { #expect(try sealed.version(id) == plain.version(id)) }
        // And no cell of the encrypted store holds a tag, a disclosure or a JWT
        let cells = try Self.cells(sealed)
        for needle in ["tag-1", "edited-3", "female", versions[2].jwt, try #require(versions[2].disclosures.first)] {
            let holders = cells.filter { $0.range(of: Data(needle.utf8)) != nil }
            #expect(
                holders.isEmpty,
                "\(needle.prefix(20)) readable in \(holders.map { String(decoding: $0.prefix(80), as: UTF8.self) })")
        }
        // And the ledger names the partner by a tag, not its fingerprint
        try sealed.recordSent(partner: b.fingerprint, bundleId: "bundle-1", versions: [versions[1].id])
        #expect(try sealed.partnerHolds(partner: b.fingerprint, record: versions[1].recordId))
        let ledger = try Self.cells(sealed, tables: ["sentBundle", "sentVersion", "ack", "received"])
        #expect(!ledger.isEmpty)
        #expect(!ledger.contains { $0.range(of: Data(b.fingerprint.utf8)) != nil })
    }

    @Test func aMovedOrFlippedCiphertextNamesItsRecordAndSparesTheOthers() throws {
        let org = try TestOrganization()
        let (one, two) = (try org.create("one"), try org.create("two"))
        let store = try Store(key: try StoreKey.generate())
        try store.insert([one, two])
        // A ciphertext copied from one record's row into the other's does not open (associated data)
        try store.writer.write { db in
            let moved = try Data.fetchOne(db, sql: "SELECT content FROM version WHERE id = ?", arguments: [one.id])
            try db.execute(sql: "UPDATE version SET content = ? WHERE id = ?", arguments: [moved, two.id])
        }
        #expect(throws: StoreError.self) { try store.version(two.id) }
        do {
            _ = try store.deriveView()
            Issue.record("a moved ciphertext was read")
        } catch StoreError.damaged(let record, _) {
            #expect(record == two.recordId)
        }
        #expect(try store.version(one.id).content != nil)
        // A flipped byte in a JWT does not open either
        try store.writer.write { db in
            var jwt = try #require(
                try Data.fetchOne(db, sql: "SELECT jwt FROM version WHERE id = ?", arguments: [one.id]))
            jwt[20] ^= 0x80
            try db.execute(sql: "UPDATE version SET jwt = ? WHERE id = ?", arguments: [jwt, one.id])
        }
        #expect(
            throws: StoreError.damaged(
                record: one.recordId, what: "the jwt of version \(one.id) does not decrypt (altered or moved)")
        ) {
            try store.version(one.id)
        }
    }

    @Test func anotherKeyOrNoKeyIsRefused() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("amanat-enc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("store.sqlite").path
        let key = try StoreKey.generate()
        do { try Store(path: path, key: key).insert([try TestOrganization().create("x")]) }
        #expect(throws: StoreError.otherWorkspace) { try Store(path: path, key: try StoreKey.generate()) }
        #expect(throws: StoreError.self) { try Store(path: path) }
        #expect(try Store(path: path, key: key).counts().versions == 1)
    }

    @Test func erasureReplacesTheRecordsKeyAndKeepsTheHistoryVerifiable() throws {
        let org = try TestOrganization()
        let create = try org.create("to-erase")
        let edit = try org.edit(create, "edited")
        let store = try Store(key: try StoreKey.generate())
        try store.insert([create, edit])
        let keyBefore = try store.writer.read { db in
            try Data.fetchOne(db, sql: "SELECT wrapped FROM recordKey WHERE recordId = ?", arguments: [create.recordId])
        }
        let summary = try store.insert([try org.erasure(of: create, prev: [edit.id])])
        #expect(summary.erased == [create.recordId])
        let keyAfter = try store.writer.read { db in
            try Data.fetchOne(db, sql: "SELECT wrapped FROM recordKey WHERE recordId = ?", arguments: [create.recordId])
        }
        #expect(keyBefore != nil && keyAfter != nil && keyBefore != keyAfter)
        // The JWTs still read (and verify), without disclosures or content
        for v in try store.versions(record: create.recordId) where !v.isErasure {
            #expect(v.disclosures.isEmpty && v.content == nil)
            #expect(v.jwt == (v.id == create.id ? create.jwt : edit.jwt))
        }
    }

    @Test func aLateVersionOfAnErasedRecordKeepsNothingSealed() throws {
        let org = try TestOrganization()
        let create = try org.create("erased-early")
        let late = try org.edit(create, "arrived-late")
        let store = try Store(key: try StoreKey.generate())
        try store.insert([create, try org.erasure(of: create)])
        // When a version of the erased record arrives afterwards
        try store.insert([late])
        // Then its row holds no disclosure or content at all, sealed or not
        let row = try #require(
            try store.writer.read { db in
                try Row.fetchOne(db, sql: "SELECT disclosures, content FROM version WHERE id = ?", arguments: [late.id])
            })
        #expect((row["disclosures"] as String?) == "")
        #expect((row["content"] as DatabaseValue).isNull)
        #expect(try store.version(late.id).jwt == late.jwt)
    }

    /// The batch helpers (associated data in a reused buffer, nonces drawn many at a time, sealing into one `Data`)
    /// make what the one-value helpers make and open.
    @Test func theBatchHelpersMatchTheOneValueHelpers() throws {
        var aad = AssociatedDataBuffer()
        for (field, record, version) in [("jwt", "r1", "v1"), ("content", "id:Ω-record", ""), ("disclosures", "", "x")]
        {
            aad.setField(field, record: record, version: version)
            #expect(aad.array == StoreCipher.associatedData(field, record: record, version: version))
            aad.setWrap(record: record)
            #expect(aad.array == StoreCipher.wrapAAD(record))
        }
        let key = SecretBytes(try SecureRandom.bytes(32))
        let cipher = try ChaChaPoly.Cipher(key: key)
        var sealer = FieldSealer()
        var nonces = Set<[UInt8]>()
        aad.setField("content", record: "r", version: "v")
        for i in 0..<200 {
            let plaintext = Array(String(repeating: "x", count: i % 7).utf8)
            let sealed = try plaintext.withUnsafeBytes { try sealer.seal($0, cipher: cipher, aad: aad) }
            #expect(sealed.count == 12 + plaintext.count + 16)
            nonces.insert(Array(sealed.prefix(12)))
            // Opened by the one-value helper and by the batch one
            #expect(try StoreCipher.open(Array(sealed), key: key, aad: aad.array) == plaintext)
            #expect(try sealed.withUnsafeBytes { try FieldSealer.open($0, cipher: cipher, aad: aad) } == plaintext)
            // And refused under other associated data or with a flipped byte
            var other = AssociatedDataBuffer()
            other.setField("content", record: "r", version: "w")
            #expect(throws: CryptoError.authenticationFailed) {
                try sealed.withUnsafeBytes { try FieldSealer.open($0, cipher: cipher, aad: other) }
            }
            var flipped = sealed
            flipped[flipped.count - 1] ^= 1
            #expect(throws: CryptoError.authenticationFailed) {
                try flipped.withUnsafeBytes { try FieldSealer.open($0, cipher: cipher, aad: aad) }
            }
        }
        // Every nonce is fresh
        #expect(nonces.count == 200)
    }
}
