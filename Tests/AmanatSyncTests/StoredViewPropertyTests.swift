import AmanatRecords
import AmanatStore
import AmanatTestSupport
import Foundation
import Testing

@testable import AmanatSync

/// The stored view (updated record by record as versions arrive) against the view derived again from every
/// version, on random histories with forks, retractions, erasures and lost versions, through the SQLite store.
@Suite("Stored view")
struct StoredViewPropertyTests {
    /// Every stored record state against the derivation: status, erased, auto-merge, counters, heads, collector,
    /// consent; the counts and the state hash.
    static func expectAgrees(_ store: Store, authority: Authority, _ context: String) throws {
        let derived = try store.deriveView(authority: authority)
        #expect(try store.viewCounts(authority: authority) == derived.counts, "\(context): counts")
        #expect(try store.stateHash() == (try store.deriveView().stateHash()), "\(context): state hash")
        // `amanat check` derives range by range (here 3 records at a time): the same counts and state hash.
        let ranged = try store.derivedCountsAndStateHash(authority: authority, chunk: 3)
        #expect(ranged.counts == derived.counts, "\(context): counts derived range by range")
        #expect(ranged.stateHash == (try store.stateHash()), "\(context): state hash derived range by range")
        var seen = 0
        try store.forEachRecordState(authority: authority, pageSize: 37) { state in
            seen += 1
            guard let view = derived[state.recordId] else {
                Issue.record("\(context): \(state.recordId) is not in the derived view")
                return false
            }
            #expect(state.status == view.status, "\(context): status of \(state.recordId)")
            #expect(state.isErased == view.isErased)
            #expect(state.isAutoMerged == view.isAutoMerged)
            #expect(state.fieldConflicts == view.conflicts.count + (view.retractionConflict == nil ? 0 : 1))
            #expect(state.missingParents == view.missingParents.count)
            #expect(state.pendingRequests == view.pendingRequests.count)
            #expect(state.consentProposals == view.consentProposals.count)
            #expect(state.versionCount == view.versionCount)
            #expect(state.collector == view.collector)
            #expect(state.consent == view.consent)
            let heads = try store.heads(record: state.recordId)
            #expect(state.graphHeads == heads, "\(context): heads")
            return true
        }
        #expect(seen == derived.records.count, "\(context): every record is stored once")
    }

    @Test(arguments: [false, true])
    func incrementalUpdatesEqualAFullDerivation(encrypted: Bool) throws {
        // Given 300 records by 3 organizations with forks, retractions, erasures and lost versions, in 8 bundles
        var gen = ScenarioGenerator(seed: encrypted ? 0x5EED_0001 : 0x5EED_0002)
        gen.generate(records: 300)
        let present = gen.present.map(StoreSyncPropertyTests.stored)
        var rng = SplitMix64(seed: encrypted ? 3 : 4)
        var bundles = [[StoredVersion]](repeating: [], count: 8)
        for v in present { bundles[Int(rng.next() % 8)].append(v) }
        let store = try Store(key: encrypted ? try StoreKey.generate() : nil)

        // When they arrive one bundle at a time in a random order, one bundle twice
        var order = Array(0..<8).shuffled(using: &rng)
        order.append(order[2])
        for (step, b) in order.enumerated() {
            try store.insert(bundles[b].shuffled(using: &rng))
            // Then after every import the stored view equals the one derived from every version
            try Self.expectAgrees(store, authority: .collectorOnly, "after bundle \(step)")
        }
        #expect(try store.viewCounts().versions == present.count)
        #expect(try store.viewCounts().conflicts == gen.expectedConflicts)

        // And a rebuild changes nothing
        let before = try store.stateHash()
        try store.rebuildView()
        #expect(try store.stateHash() == before)
        try Self.expectAgrees(store, authority: .collectorOnly, "after a rebuild")
    }

    @Test func storesFedInDifferentOrdersAgreeThroughTheStoredView() throws {
        var gen = ScenarioGenerator(seed: 0xC0DE)
        gen.generate(records: 150)
        let present = gen.present.map(StoreSyncPropertyTests.stored)
        var rng = SplitMix64(seed: 9)
        var hashes = Set<String>()
        for _ in 0..<6 {
            let store = try Store()
            var rest = present.shuffled(using: &rng)
            while !rest.isEmpty {
                let n = min(rest.count, 1 + Int(rng.next() % 60))
                try store.insert(Array(rest.prefix(n)))
                rest.removeFirst(n)
            }
            hashes.insert(try store.stateHash())
        }
        let reference = try Store()
        try reference.insert(present)
        #expect(hashes == [try reference.deriveView().stateHash()])
    }

    @Test func aRebuildOfAStoreOnDiskReadsThroughTheSnapshotAndAgrees() throws {
        // Given a store on disk (a pool of connections: the rebuild reads the versions through a reader while its
        // transaction writes the view) of 1000 records: three of the rebuild's ranges of 400 and a part of one
        var gen = ScenarioGenerator(seed: 0xD15C)
        gen.generate(records: 1000)
        let present = gen.present.map(StoreSyncPropertyTests.stored)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rebuild-\(UUID().uuidString).sqlite")
            .path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let store = try Store(path: path, key: try StoreKey.generate())
        var rng = SplitMix64(seed: 11)
        var rest = present.shuffled(using: &rng)
        while !rest.isEmpty {
            let n = min(rest.count, 1 + Int(rng.next() % 400))
            try store.insert(Array(rest.prefix(n)))
            rest.removeFirst(n)
        }
        let before = try store.stateHash()
        #expect(try store.viewCounts().records > 800)

        // When the view is derived again from every version, under the collector-only authority and under a delegate
        try store.rebuildView()

        // Then it equals what the imports kept up to date, record by record, and the state hash does not move
        #expect(try store.stateHash() == before)
        try Self.expectAgrees(store, authority: .collectorOnly, "after a rebuild on disk")
        let delegates = Authority(delegates: [ScenarioGenerator.organizations[1]])
        try store.rebuildView(authority: delegates)
        try Self.expectAgrees(store, authority: delegates, "after a rebuild on disk under a delegate")
        #expect(try store.stateHash() == before)
    }

    @Test func aChangeOfAuthorityRebuildsTheViewAndLeavesTheStateHash() throws {
        // Given a history where organizations other than the collector retract and erase
        var gen = ScenarioGenerator(seed: 0xA07)
        gen.generate(records: 200)
        let present = gen.present.map(StoreSyncPropertyTests.stored)
        let store = try Store(key: try StoreKey.generate())
        try store.insert(present)
        let neutralHash = try store.stateHash()
        let delegates = Authority(delegates: [ScenarioGenerator.organizations[1]])

        // When the workspace's trust list makes orgB a delegate
        try Self.expectAgrees(store, authority: delegates, "under a delegate")
        let counts = try store.viewCounts(authority: delegates)

        // Then the view follows the new authority, and the state hash (always collector-only) does not move
        #expect(try store.stateHash() == neutralHash)
        #expect(counts == (try store.deriveView(authority: delegates).counts))
        // And going back works the same
        try Self.expectAgrees(store, authority: .collectorOnly, "back to collectors only")
    }
}
