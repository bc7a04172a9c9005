import AmanatRecords
import AmanatSync
import Foundation
import GRDB
import Testing

@testable import AmanatStore

/// The stored view's rows are sealed and bound to their place: a damaged or moved row names the record and is
/// refused; a rebuild derives it again from the versions.
@Suite("Stored view rows")
struct StoredViewTests {
    static func version(_ record: String, _ n: Int, consent: String = "partners") -> StoredVersion {
        let content = JSONValue.object([
            ("schema", .string("amanat-record/v1")),
            ("provenance", .object([("reference", .string("SYN-\(n)"))])),
            ("testimony", .object([("consent", .string(consent)), ("transcript", .string("synthetic \(n)"))])),
        ])
        return StoredVersion(
            id: record, recordId: record, kind: .create, prev: [], issuedAt: 1_700_000_000 + n,
            signer: "SHA256:orgA-synthetic", jwt: "synthetic-jwt.\(record)", disclosures: [], attachments: [],
            content: content.canonical())
    }

    static let summarizer = RecordSummarizer(tag: "test/1") { view, _ in
        .object([("reference", view.content?["provenance"]?["reference"] ?? .null)])
    }

    @Test func aDamagedOrMovedSummaryNamesTheRecordAndARebuildRepairsIt() throws {
        let store = try Store(key: try StoreKey.generate(), summarizer: Self.summarizer)
        let records = (0..<5).map { "record-\($0)-synthetic-id" }
        try store.insert(records.enumerated().map { Self.version($1, $0) })
        let hash = try store.stateHash()
        #expect(try store.recordState(records[1])?.summary?["reference"]?.stringValue == "SYN-1")
        // Nothing readable in the row: the reference is sealed.
        let raw = try store.writer.read { db in
            try Data.fetchOne(db, sql: "SELECT summary FROM recordState WHERE recordId = ?", arguments: [records[1]])
        }
        #expect(try #require(raw).range(of: Data("SYN-1".utf8)) == nil)

        // A flipped byte in one record's summary: that record is named, the others still read
        try store.writer.write { db in
            var data = try #require(
                try Data.fetchOne(
                    db, sql: "SELECT summary FROM recordState WHERE recordId = ?", arguments: [records[1]]))
            data[data.count / 2] ^= 0x01
            try db.execute(sql: "UPDATE recordState SET summary = ? WHERE recordId = ?", arguments: [data, records[1]])
        }
        #expect(throws: StoreError.damaged(record: records[1], what: "its summary in the stored view does not open")) {
            try store.forEachRecordState { _ in true }
        }
        #expect(try store.recordState(records[2])?.summary?["reference"]?.stringValue == "SYN-2")

        // A summary moved from one record's row to another's does not open either (associated data)
        try store.rebuildView()
        try store.writer.write { db in
            let moved = try Data.fetchOne(
                db, sql: "SELECT summary FROM recordState WHERE recordId = ?", arguments: [records[3]])
            try db.execute(
                sql: "UPDATE recordState SET summary = ? WHERE recordId = ?", arguments: [moved, records[4]])
        }
        #expect(throws: StoreError.self) { try store.recordState(records[4]) }

        // A damaged bucket of the state hash is an error, not a wrong hash
        try store.rebuildView()
        try store.writer.write { db in
            var data = try #require(try Data.fetchOne(db, sql: "SELECT entries FROM stateBucket LIMIT 1"))
            data[0] ^= 0x01
            try db.execute(
                sql: "UPDATE stateBucket SET entries = ? WHERE rowid = (SELECT MIN(rowid) FROM stateBucket)",
                arguments: [data])
        }
        #expect(throws: StoreError.self) { try store.stateHash() }

        // And a rebuild derives everything again from the versions
        try store.rebuildView()
        #expect(try store.stateHash() == hash)
        var seen: [String] = []
        try store.forEachRecordState { state in
            seen.append(state.recordId)
            return true
        }
        #expect(seen == records.sorted())
    }

    @Test func sealingStatesAreTheFullStatesErasureAndConsent() throws {
        for key in [nil, try StoreKey.generate()] {
            // Given records with each consent (and one the schema does not know)
            let store = try Store(key: key, summarizer: Self.summarizer)
            let consents = ["public", "partners", "internal", "unknown-consent"]
            let records = consents.indices.map { "sealing-\($0)-synthetic-id" }
            try store.insert(consents.enumerated().map { Self.version(records[$0], $0, consent: $1) })
            // When only what sealing checks is read
            let asked = records + ["absent-synthetic-id"]
            let full = try store.recordStates(asked)
            let sealing = try store.sealingStates(asked)
            // Then it is what the full states say, for the records the store has
            #expect(sealing.count == records.count && full.count == records.count)
            for record in records {
                let state = try #require(full[record])
                #expect(sealing[record] == Store.SealingState(isErased: state.isErased, consent: state.consent))
            }
            #expect(Set(sealing.values.map(\.consent)) == [.public, .partners, .internal])
            // And a summary that does not open names its record
            guard key != nil else { continue }
            try store.writer.write { db in
                var data = try #require(
                    try Data.fetchOne(
                        db, sql: "SELECT summary FROM recordState WHERE recordId = ?", arguments: [records[2]]))
                data[data.count / 2] ^= 0x01
                try db.execute(
                    sql: "UPDATE recordState SET summary = ? WHERE recordId = ?", arguments: [data, records[2]])
            }
            #expect(
                throws: StoreError.damaged(record: records[2], what: "its summary in the stored view does not open")
            ) {
                try store.sealingStates(records)
            }
        }
    }

    @Test func openedPagesReadToTheStatesTheStoreDecodes() throws {
        for key in [nil, try StoreKey.generate()] {
            // Given records with each consent
            let store = try Store(key: key, summarizer: Self.summarizer)
            let consents = ["public", "partners", "internal", "unknown-consent"]
            let records = (0..<9).map { "opened-\($0)-synthetic-id" }
            try store.insert(records.enumerated().map { Self.version($1, $0, consent: consents[$0 % consents.count]) })
            var decoded: [StoredRecordState] = []
            try store.forEachRecordState {
                decoded.append($0)
                return true
            }
            // When each page's summaries are opened and read with a reader that builds the summarizer's whole
            var read: [StoredRecordState] = []
            var skipped: [StoredRecordState] = []
            try store.forEachOpenedStatePage(
                pageSize: 4,
                preparePage: { page in
                    try page.map { opened in
                        let whole = try opened.read { try $0.readValue() }
                        var state = whole.state
                        state.summary = whole.summary
                        // One that reads nothing of the summarizer's gets the same state without it
                        let none = try opened.read { _ -> Never? in nil }
                        return (state, none.state)
                    }
                }
            ) { page in
                read += page.map(\.0)
                skipped += page.map(\.1)
                return true
            }
            // Then the states are those the store decodes, in the same order
            #expect(decoded.count == 9 && read == decoded)
            #expect(skipped.map(\.summary) == Array(repeating: nil, count: 9))
            #expect(
                skipped.map {
                    var s = $0
                    s.summary = nil
                    return s
                }
                    == decoded.map {
                        var s = $0
                        s.summary = nil
                        return s
                    })
            #expect(Set(decoded.map(\.consent)) == [.public, .partners, .internal])
        }
    }

    @Test func onlyVersionsAreTheRecordsOwnSingleVersion() throws {
        for key in [nil, try StoreKey.generate()] {
            let store = try Store(key: key, summarizer: Self.summarizer)
            // A single record; a record with an edit; a version whose id is another record's id, that record held
            // here only through an edit (its create is missing: one version, not the one with its id)
            var edit = Self.version("two-synthetic-id", 1)
            edit.id = "two-edit-synthetic-id"
            edit.kind = .edit
            edit.prev = ["two-synthetic-id"]
            var orphan = Self.version("orphan-synthetic-id", 2)
            orphan.id = "orphan-edit-synthetic-id"
            orphan.kind = .edit
            orphan.prev = ["orphan-synthetic-id"]
            var impostor = Self.version("other-synthetic-id", 3)
            impostor.id = "orphan-synthetic-id"
            try store.insert([
                Self.version("one-synthetic-id", 0), Self.version("two-synthetic-id", 1), edit, orphan, impostor,
            ])
            let asked = [
                "one-synthetic-id", "two-synthetic-id", "two-edit-synthetic-id", "orphan-synthetic-id",
                "orphan-edit-synthetic-id", "other-synthetic-id", "absent-synthetic-id",
            ]
            #expect(try store.recordState("orphan-synthetic-id")?.versionCount == 1)
            #expect(try store.onlyVersions(among: asked) == ["one-synthetic-id"])
        }
    }

    @Test func aSummaryThatIsNotOneDocumentIsDamaged() throws {
        // A plaintext store, so that the summary can be replaced by anything
        let store = try Store(summarizer: Self.summarizer)
        let record = "damaged-summary-synthetic-id"
        try store.insert([Self.version(record, 0, consent: "public")])
        let damaged = StoreError.damaged(record: record, what: "its summary in the stored view does not open")
        for summary in [
            #"{"consent":"public","consent":"public"}"#, #"{"consent":"public"} {}"#, #"{"summary":{"a":1,"a":2}}"#,
            #"{"heads":["a",}"#, "",
        ] {
            try store.writer.write { db in
                try db.execute(
                    sql: "UPDATE recordState SET summary = ? WHERE recordId = ?",
                    arguments: [Data(summary.utf8), record])
            }
            #expect(throws: damaged, "\(summary)") { try store.forEachRecordState { _ in true } }
            // (Sealing skips the summarizer's summary: what is wrong only inside it, a duplicate name, is not looked
            // for there.)
            if !summary.hasPrefix(#"{"summary""#) {
                #expect(throws: damaged, "\(summary)") { try store.sealingStates([record]) }
            }
            #expect(throws: damaged, "\(summary)") {
                try store.forEachOpenedStatePage(preparePage: { try $0.map { try $0.read { try $0.readValue() } } }) {
                    _ in true
                }
            }
        }
        // Members of another type than the store writes read as absent, as the full decoding has them
        let odd = #"{"heads":"h","collector":7,"lastIssuedAt":"9","consent":["public"],"other":{"x":1},"summary":null}"#
        try store.writer.write { db in
            try db.execute(
                sql: "UPDATE recordState SET summary = ? WHERE recordId = ?", arguments: [Data(odd.utf8), record])
        }
        let state = try #require(try store.recordState(record))
        #expect(state.graphHeads == [] && state.collector == nil && state.lastIssuedAt == 0)
        #expect(state.consent == .internal && state.summary == .null)
    }

    @Test func aBucketCutInsideAnEntryIsAnErrorNotAHash() throws {
        // A plaintext store (its buckets are not authenticated, so only their layout can catch damage)
        let store = try Store(summarizer: Self.summarizer)
        try store.insert((0..<40).map { Self.version("record-\($0)-synthetic-id", $0) })
        let hash = try store.stateHash()
        let original = try #require(
            try store.writer.read { try Data.fetchOne($0, sql: "SELECT entries FROM stateBucket LIMIT 1") })
        func stored(_ entries: Data) throws {
            try store.writer.write { db in
                try db.execute(
                    sql: "UPDATE stateBucket SET entries = ? WHERE rowid = (SELECT MIN(rowid) FROM stateBucket)",
                    arguments: [entries])
            }
        }
        // One byte more (a length without its entry), or the last digest cut short: both refused
        for damaged in [original + [0x00], original.dropLast()] {
            try stored(Data(damaged))
            #expect(throws: StoreError.self) { try store.stateHash() }
        }
        try stored(original)
        #expect(try store.stateHash() == hash)
    }

    @Test func aPlaintextStoreConvertedOnFirstUnlockKeepsNoPlaintextView() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("view-\(UUID().uuidString).sqlite")
            .path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        do {
            let plain = try Store(path: path, summarizer: Self.summarizer)
            try plain.insert([Self.version("record-plain-synthetic", 7)])
            #expect(try plain.recordState("record-plain-synthetic")?.summary?["reference"]?.stringValue == "SYN-7")
        }
        let key = try StoreKey.generate()
        let store = try Store(path: path, key: key, summarizer: Self.summarizer)
        #expect(try store.recordState("record-plain-synthetic")?.summary?["reference"]?.stringValue == "SYN-7")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(bytes.range(of: Data("SYN-7".utf8)) == nil)
    }
}
