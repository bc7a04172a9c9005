import AmanatBundle
import AmanatCrypto
import AmanatRecords
import AmanatStore
import Foundation
import Testing

@testable import AmanatWorkspace

/// `amanat seal` streams: versions are chosen a chunk at a time from their stored sizes, each record batch is read
/// from the store only when the sealer reaches it, and the version proofs are staged encrypted. A bundle sealed in
/// many small batches opens at a partner with exactly the versions of one sealed in a single batch; the staged file
/// holds no plaintext and is gone afterwards, also when sealing fails midway.
@Suite("Streaming seal")
struct StreamingSealTests {
    typealias Pair = WorkspaceFlowTests.Pair

    /// Six records that may travel and one with consent `internal` (withheld).
    static let examples = StreamingImportTests.examples + ["zh-relative-internal.json"]

    /// A's records: the examples, three of them edited twice (13 versions, 11 of them shareable).
    static func fill(_ p: Pair) throws -> (ids: [String], shareable: Int, internalRecord: String) {
        let service = try RecordService(workspace: p.a)
        let key = try p.a.signingKey()
        let ids = try service.add(try examples.map(WorkspaceFlowTests.example), key: key)
        for (n, index) in [0, 3, 4].enumerated() {
            for round in 0..<2 {
                let content = StreamingImportTests.setting(
                    "tags", .array([.string("synthetic-\(n)-\(round)")]),
                    in: try WorkspaceFlowTests.example(examples[index]))
                _ = try service.update(ids[index], content: content, key: key)
            }
        }
        return (ids, examples.count - 1 + 6, ids[examples.count - 1])
    }

    /// The staged folders in a workspace's `.amanat/`.
    static func stagedFolders(_ workspace: Workspace) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(atPath: workspace.dotFolder.path).filter {
            $0.hasPrefix(".seal.partial-")
        }.map { workspace.dotFolder.appendingPathComponent($0) }
    }

    /// Every file under the staged folders, read.
    static func stagedBytes(_ workspace: Workspace) throws -> [[UInt8]] {
        try stagedFolders(workspace).flatMap { folder in
            try FileManager.default.contentsOfDirectory(atPath: folder.path).map {
                Array(try Data(contentsOf: folder.appendingPathComponent($0)))
            }
        }
    }

    static func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
        let needle = Array(needle.utf8)
        guard needle.count <= haystack.count else { return false }
        return (0...(haystack.count - needle.count)).contains { haystack[$0..<$0 + needle.count].elementsEqual(needle) }
    }

    /// Seals A's records for B in batches of `batchSize`; `inspect` is called with the staged files once the bundle
    /// is written, before it is committed (the version proofs are staged while the records are sealed).
    static func seal(
        _ p: Pair, batchSize: Int, to file: String, inspect: (([[UInt8]]) throws -> Void)? = nil
    ) throws -> SealReport {
        let out = try OutputFile(file, mode: 0o600)
        var inspected = false
        var request = SealRequest(records: .all, recipients: ["berlin"])
        request.recordBatchSize = batchSize
        let report = try p.a.seal(
            request,
            sink: { bytes in try out.write(bytes) },
            commit: {
                if let inspect {
                    inspected = true
                    try inspect(try stagedBytes(p.a))
                }
                try out.commit()
            })
        #expect(inspect == nil || inspected)
        return report
    }

    @Test func smallBatchesOpenWithTheSameVersionsAndStageNoPlaintext() throws {
        let p = try Pair()
        defer { p.cleanup() }
        let (_, shareable, internalRecord) = try Self.fill(p)
        let store = try p.a.store()
        let shared = try store.allVersionIds().filter { try store.version($0).recordId != internalRecord }
        #expect(shared.count == shareable)
        let compacts = try shared.map { try store.version($0).sdjwt.compact }

        var stagedFiles = 0
        let report = try Self.seal(p, batchSize: 3, to: p.path("small.amanat")) { staged in
            stagedFiles = staged.count
            for bytes in staged {
                #expect(!Self.contains(bytes, "amanat-log-items"))
                for id in shared { #expect(!Self.contains(bytes, id)) }
                for compact in compacts { #expect(!Self.contains(bytes, String(compact.prefix(40)))) }
            }
        }
        // The version proofs were staged (one file), and the folder is gone once the bundle is committed.
        #expect(stagedFiles == 1)
        #expect(try Self.stagedFolders(p.a).isEmpty)
        #expect(report.versionCount == shareable)
        #expect(report.withheldRecords == [internalRecord])
        let batches = report.manifest.entries.map(\.path).filter { $0.hasPrefix("records/batch-") }
        #expect(batches == (1...4).map { String(format: "records/batch-%06d.sd-jwt-lines", $0) })

        let opened = try BundleImport.importBundle(p.path("small.amanat"), into: p.b)
        #expect(opened.versionsAdded == shareable)
        #expect(opened.log.versionProofs == shareable)
        let atB = try p.b.store()
        #expect(try atB.allVersionIds() == shared.sorted())
        #expect(
            try atB.allVersionIds().map { try atB.version($0).sdjwt.compact }
                == shared.sorted().map {
                    try store.version($0).sdjwt.compact
                })
        // What was sent is in the ledger once the bundle is committed: B holds every shared record, not the internal.
        let records = Set(try store.records().map(\.id))
        #expect(
            try store.recordsHeld(by: try p.b.identity().fingerprint, among: records)
                == records.subtracting([internalRecord]))
        #expect(try store.lastSentCheckpoint(partner: try p.b.identity().fingerprint) != nil)

        // One batch holding everything gives a bundle with the same versions.
        let one = try Self.seal(p, batchSize: 4096, to: p.path("one.amanat"))
        #expect(one.manifest.entries.filter { $0.path.hasPrefix("records/") }.count == 1)
        let again = try BundleImport.importBundle(p.path("one.amanat"), into: p.b)
        #expect(again.versionsAdded == 0 && again.versionsAlreadyPresent == shareable)
    }

    /// The versions are chosen, their proofs made and their batches read a chunk at a time on every core; tiny
    /// chunks (many of them, taken in parallel and put back in order) give what one chunk gives.
    @Test func chunksOnEveryCoreGiveWhatOneChunkGives() throws {
        let p = try Pair()
        defer { p.cleanup() }
        let (_, shareable, internalRecord) = try Self.fill(p)
        let service = try RecordService(workspace: p.a)
        let store = service.store
        let partner = try p.b.identity().fingerprint
        let ids = try store.versionIdsByRecord()
        // The versions come record by record, each record's in the order they were signed (ties by id)
        let order = try ids.map { id in
            let v = try store.version(id)
            return (v.recordId, v.issuedAt, v.id)
        }
        #expect(
            zip(order, order.dropFirst()).allSatisfy { a, b in
                a.0 != b.0
                    ? a.0.utf8.lexicographicallyPrecedes(b.0.utf8)
                    : a.1 != b.1 ? a.1 < b.1 : a.2.utf8.lexicographicallyPrecedes(b.2.utf8)
            })
        #expect(Set(ids) == Set(try store.allVersionIds()) && ids.count == 13)
        // Choosing the versions: 2 at a time or all at once
        let whole = try service.bundleContents(
            versionIds: ids, partners: [partner], anonymousRecipients: false, batchSize: 4, chunk: 1000)
        let small = try service.bundleContents(
            versionIds: ids, partners: [partner], anonymousRecipients: false, batchSize: 4, chunk: 2)
        defer {
            whole.finishReading()
            small.finishReading()
        }
        #expect(whole.versionIds.count == shareable)
        #expect(small.versionIds == whole.versionIds)
        #expect(small.withheldRecords == [internalRecord] && whole.withheldRecords == [internalRecord])
        #expect(small.recordCount == whole.recordCount)
        #expect(small.inputs.map(\.name) == whole.inputs.map(\.name))
        #expect(small.inputs.map(\.size) == whole.inputs.map(\.size))

        // Reading a batch: in pieces of 3 versions, read on every core, or in one piece
        let batch = (ids: whole.versionIds[...], size: UInt64(try store.compactLines(whole.versionIds).count))
        let expected = try store.compactLines(whole.versionIds)
        for piece in [1, 3, 512] {
            let pieces = try RecordBatchReader(store: store, batches: [batch], piece: piece).lines(0)
            #expect(pieces.count == (shareable + piece - 1) / piece)
            #expect(Array(pieces.joined()) == expected, "piece \(piece)")
        }

        // The version proofs: 2 per chunk or all in one
        func proofs(_ chunk: Int) throws -> [UInt8] {
            let staging = try SealStaging(parent: p.a.dotFolder)
            defer { staging.remove() }
            let material = try BundleLog.sealMaterial(
                workspace: p.a, store: store, versionIds: whole.versionIds, partners: [partner], staging: staging,
                chunk: chunk)
            let input = try #require(material.inputs.first { $0.name == BundleLog.versionProofsName })
            var bytes = [UInt8](repeating: 0, count: Int(input.size))
            var filled = 0
            while filled < bytes.count {
                let n = try bytes[filled...].withUnsafeMutableBytes { try input.read($0) }
                guard n > 0 else { break }
                filled += n
            }
            #expect(filled == bytes.count)
            return bytes
        }
        let oneChunk = try proofs(1000)
        #expect(try BundleLog.Items(parsing: oneChunk).items.count == shareable)
        #expect(try proofs(2) == oneChunk)
        #expect(try proofs(1) == oneChunk)
    }

    /// A version that is its record's only one is known as such from the stored view and the version table's
    /// indexes, and withheld without its row being read when its record may not leave; the rule and its outcome are
    /// those of the full path (a record every recipient was sent leaves).
    @Test func theOnlyVersionOfARecordThatMayNotLeaveIsWithheldAsTheFullRuleWithholdsIt() throws {
        let p = try Pair()
        defer { p.cleanup() }
        let (ids, shareable, internalRecord) = try Self.fill(p)
        let service = try RecordService(workspace: p.a)
        let store = service.store
        let partner = try p.b.identity().fingerprint
        let all = try store.versionIdsByRecord()
        // Only versions: the records never edited (three were edited twice: their create ids have company, their
        // edits' ids are no record's), whatever else is asked
        let single = try store.onlyVersions(among: all + ["not-a-version", internalRecord])
        #expect(single == Set([1, 2, 5, 6].map { ids[$0] }))
        #expect(single.contains(internalRecord) && !single.contains(ids[0]))
        #expect(try store.onlyVersions(among: []).isEmpty)
        // Withheld, as before: the internal record's only version
        let first = try service.bundleContents(
            versionIds: all, partners: [partner], anonymousRecipients: false, batchSize: 4, chunk: 3)
        first.finishReading()
        #expect(first.withheldRecords == [internalRecord] && first.versionIds.count == shareable)
        #expect(!first.versionIds.contains(internalRecord))
        // Once the partner was sent it (a bundle before its consent became internal), it may go to that partner
        #expect(try store.versionsHeld(by: partner, among: [internalRecord]).isEmpty)
        try store.recordSent(partner: partner, bundleId: "synthetic-bundle", versions: [internalRecord])
        #expect(try store.versionsHeld(by: partner, among: [internalRecord, ids[1]]) == [internalRecord])
        let held = try service.bundleContents(
            versionIds: all, partners: [partner], anonymousRecipients: false, batchSize: 4, chunk: 3)
        held.finishReading()
        #expect(held.withheldRecords.isEmpty && held.versionIds.count == shareable + 1)
        #expect(held.versionIds.contains(internalRecord))
        // ...but not to a recipient nobody can tell about, nor with a second partner who never had it
        let anonymous = try service.bundleContents(
            versionIds: all, partners: [partner], anonymousRecipients: true, batchSize: 4, chunk: 3)
        anonymous.finishReading()
        #expect(anonymous.withheldRecords == [internalRecord])
        let other = "SHA256:" + String(repeating: "A", count: 43)
        let two = try service.bundleContents(
            versionIds: all, partners: [partner, other], anonymousRecipients: false, batchSize: 4, chunk: 3)
        two.finishReading()
        #expect(two.withheldRecords == [internalRecord] && !two.versionIds.contains(internalRecord))
    }

    @Test func aFailureMidwayLeavesNoStagedFileAndRecordsNothingSent() throws {
        let p = try Pair()
        defer { p.cleanup() }
        _ = try Self.fill(p)
        let partner = try p.b.identity().fingerprint
        let service = try RecordService(workspace: p.a)
        let before = try service.store.unacknowledgedVersions(partner: partner)
        var calls = 0
        var request = SealRequest(records: .all, recipients: ["berlin"])
        request.recordBatchSize = 2
        #expect(throws: (any Error).self) {
            _ = try p.a.seal(
                request,
                sink: { _ in
                    calls += 1
                    #expect(try Self.stagedFolders(p.a).count == 1)
                    if calls == 2 { throw AmanatError(.ioError, "synthetic: the disk is full") }
                }, commit: { Issue.record("a failed bundle was committed") })
        }
        #expect(calls == 2)
        #expect(try Self.stagedFolders(p.a).isEmpty)
        #expect(try service.store.lastSentCheckpoint(partner: partner) == nil)
        #expect(try service.store.unacknowledgedVersions(partner: partner) == before)
        #expect(try service.store.recordsHeld(by: partner, among: try service.store.records().map(\.id)).isEmpty)
    }

    /// The store's streaming reads agree with opening each version: sizes from the stored lengths, the compact
    /// lines, the log indexes and inclusion proofs.
    @Test func storeReadsForSealingMatchTheVersions() throws {
        let p = try Pair()
        defer { p.cleanup() }
        _ = try Self.fill(p)
        let store = try p.a.store()
        let ids = try store.versionIdsByRecord()
        #expect(ids.count == 13)
        #expect(ids == (try store.records().map(\.id).flatMap { try store.versionIds(record: $0) }))
        let reversed = Array(ids.reversed())
        let sizes = try store.sealableVersions(reversed + ["not-a-version"])
        #expect(sizes.map(\.id) == reversed)
        for version in sizes {
            let compact = try store.version(version.id).sdjwt.compact
            #expect(version.compactSize == compact.utf8.count)
            #expect(version.recordId == (try store.version(version.id)).recordId)
        }
        let lines = try store.compactLines(reversed)
        #expect(lines == Array(try reversed.map { try store.version($0).sdjwt.compact + "\n" }.joined().utf8))
        #expect(throws: StoreError.unknownVersion("not-a-version")) { try store.compactLines(["not-a-version"]) }

        let digests = ids.map { Base64URL.decode($0)! }
        let indexes = try store.versionLogIndexes(digests: digests)
        #expect(indexes.count == ids.count)
        let size = try store.logSize()
        let ordered = digests.map { indexes[Data($0)]! }
        let proofs = try store.inclusionProofs(indexes: ordered, size: size)
        for (index, proof) in zip(ordered, proofs) {
            #expect(proof == (try store.inclusionProof(index: index, size: size)))
        }
    }
}
