import AmanatRecords
import AmanatStore
import AmanatTestSupport
import Foundation
import Testing

@testable import AmanatSync

/// The same properties as ``SyncPropertyTests``, through the real SQLite store: bundles imported as
/// transactions in random orders, stores syncing pairwise.
@Suite("Sync through the store")
struct StoreSyncPropertyTests {
    static func stored(_ v: VersionNode) -> StoredVersion {
        StoredVersion(
            id: v.id, recordId: v.recordId, kind: v.kind, prev: v.prev, issuedAt: v.issuedAt, signer: v.signer,
            jwt: "synthetic-jwt." + v.id, disclosures: [], attachments: [], content: v.content?.canonical())
    }

    @Test func storesImportingBundlesInAnyOrderAgree() throws {
        // Given 1,000 records by 3 organizations with forks, retractions, erasures and lost versions
        var gen = ScenarioGenerator(seed: 0xA11C_E5ED)
        gen.generate(records: 1000)
        let present = gen.present.map(Self.stored)
        #expect(Set(present.map(\.recordId)).count == 1000)

        // split into 12 overlapping bundles
        var rng = SplitMix64(seed: 7)
        var bundles = [[StoredVersion]](repeating: [], count: 12)
        for v in present {
            var chosen = Set<Int>()
            for _ in 0..<(1 + Int(rng.next() % 3)) { chosen.insert(Int(rng.next() % 12)) }
            for b in chosen { bundles[b].append(v) }
        }
        #expect(bundles.allSatisfy { !$0.isEmpty })

        // When one store imports everything once, it matches the generator's independent expectations
        let reference = try Store()
        try reference.insert(present)
        let referenceView = try reference.deriveView()
        let referenceHash = try referenceView.stateHash()
        #expect(referenceView.counts.conflicts == gen.expectedConflicts)
        #expect(referenceView.counts.versions == present.count)

        // Then stores importing the bundles in random orders (some twice) all reach the same state hash (each
        // import also updates the stored view: StoredViewPropertyTests compares it with a full derivation)
        var hashes = Set<String>()
        for _ in 0..<60 {
            let store = try Store()
            var order = Array(0..<12).shuffled(using: &rng)
            for _ in 0..<Int(rng.next() % 4) { order.append(Int(rng.next() % 12)) }
            for b in order { try store.insert(bundles[b].shuffled(using: &rng)) }
            hashes.insert(try store.deriveView().stateHash())
            #expect(try store.integrityCheck())
        }
        #expect(hashes == [referenceHash])
    }

    @Test func fiveStoresSyncingPairwiseConverge() throws {
        var gen = ScenarioGenerator(seed: 0xF1FE)
        gen.generate(records: 200)
        let present = gen.present.map(Self.stored)
        var rng = SplitMix64(seed: 11)
        // Each store starts with a random half of the versions.
        let stores = try (0..<5).map { _ in try Store() }
        var held = Set<String>()
        for store in stores {
            let subset = present.filter { _ in rng.next() % 2 == 0 }
            held.formUnion(subset.map(\.id))
            try store.insert(subset)
        }
        // Pairwise exchange (each sends what the other lacks) until a full round changes nothing.
        var rounds = 0
        var changed = true
        while changed && rounds < 10 {
            changed = false
            rounds += 1
            for i in 0..<5 {
                for j in 0..<5 where i != j {
                    let theirs = Set(try stores[j].allVersionIds())
                    let missing = try stores[i].allVersionIds().filter { !theirs.contains($0) }
                    guard !missing.isEmpty else { continue }
                    let sent = try missing.map { try stores[i].version($0) }
                    if try !stores[j].insert(sent).added.isEmpty { changed = true }
                }
            }
        }
        let hashes = Set(try stores.map { try $0.deriveView().stateHash() })
        #expect(hashes.count == 1)
        #expect(rounds <= 3)
        // Each store now holds the union of what they held at the start.
        let expected = try { () throws -> String in
            let all = try Store()
            try all.insert(present.filter { held.contains($0.id) })
            return try all.deriveView().stateHash()
        }()
        #expect(hashes == [expected])
    }
}
