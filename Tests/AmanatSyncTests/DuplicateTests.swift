import AmanatTestSupport
import Testing

@testable import AmanatSync

@Suite("Likely duplicates")
struct DuplicateTests {
    func link(_ a: String, _ b: String, _ relation: LinkAssertion.Relation, by signer: String = "orgA") -> LinkAssertion
    {
        LinkAssertion(recordA: a, recordB: b, relation: relation, signer: signer, issuedAt: 1_700_000_000)
    }

    @Test func recordsSharingAnyKeyCluster() {
        let keys: [String: Set<String>] = [
            "r1": ["k1"], "r2": ["k1", "k2"], "r3": ["k2"], "r4": ["k9"], "r5": [],
        ]
        let report = DuplicateFinder.clusters(keys: keys)
        #expect(
            report.clusters == [
                DuplicateCluster(records: ["r1", "r2", "r3"], sharedKeys: ["k1", "k2"], isConfirmed: false)
            ])
        #expect(report.contradicted.isEmpty)
    }

    @Test func differentSplitsAndSameJoins() {
        let keys: [String: Set<String>] = ["a": ["k"], "b": ["k"], "c": ["k"], "x": [], "y": []]
        let report = DuplicateFinder.clusters(
            keys: keys, assertions: [link("a", "b", .different), link("y", "x", .same, by: "orgB")])
        // a and b may never share a cluster; c joins a (the first it can join); x and y are confirmed.
        #expect(
            report.clusters == [
                DuplicateCluster(records: ["a", "c"], sharedKeys: ["k"], isConfirmed: false),
                DuplicateCluster(records: ["x", "y"], sharedKeys: [], isConfirmed: true),
            ])
    }

    @Test func differentWinsOverSameAndTransitiveContradictionsAreReported() {
        let keys: [String: Set<String>] = ["a": [], "b": [], "c": []]
        let same = link("a", "b", .same)
        let report = DuplicateFinder.clusters(keys: keys, assertions: [same, link("b", "a", .different, by: "orgB")])
        #expect(report.clusters.isEmpty)
        #expect(report.contradicted == [same])
        // a=b, b=c asserted, a≠c asserted: the second join is refused.
        let report2 = DuplicateFinder.clusters(
            keys: keys, assertions: [link("a", "b", .same), link("b", "c", .same), link("a", "c", .different)])
        #expect(report2.clusters == [DuplicateCluster(records: ["a", "b"], sharedKeys: [], isConfirmed: true)])
        #expect(report2.contradicted == [link("b", "c", .same)])
    }

    /// The store hands the finder only the keys two or more records share (and only the records holding one), so
    /// that a million records' keys need not be held: on random inputs with assertions, the report is the same.
    @Test func keysNoOtherRecordHoldsChangeNoGroup() {
        var rng = SplitMix64(seed: 17)
        var compared = 0
        for round in 0..<40 {
            var keys: [String: Set<String>] = [:]
            let records = 50 + round * 5
            for i in 0..<records {
                keys["rec\(i)"] = Set(
                    (0..<Int.random(in: 0...3, using: &rng)).map { _ in
                        "key\(Int.random(in: 0..<(records * 2), using: &rng))"
                    })
            }
            var assertions: [LinkAssertion] = []
            for _ in 0..<(round % 4) * 10 {
                let a = "rec\(Int.random(in: 0..<records, using: &rng))"
                let b = "rec\(Int.random(in: 0..<records, using: &rng))"
                assertions.append(link(a, b, Bool.random(using: &rng) ? .same : .different))
            }
            var holders: [String: Int] = [:]
            for set in keys.values { for key in set { holders[key, default: 0] += 1 } }
            var shared: [String: Set<String>] = [:]
            for (record, set) in keys {
                let kept = set.filter { holders[$0]! > 1 }
                if !kept.isEmpty { shared[record] = kept }
            }
            let full = DuplicateFinder.clusters(keys: keys, assertions: assertions)
            #expect(DuplicateFinder.clusters(keys: shared, assertions: assertions) == full, "round \(round)")
            #expect(shared.count < keys.count)
            compared += full.clusters.count
        }
        #expect(compared > 100)
    }

    @Test func resultIgnoresInputOrder() {
        var rng = SplitMix64(seed: 7)
        var keys: [String: Set<String>] = [:]
        for i in 0..<300 {
            keys["rec\(i)"] = Set(
                (0..<Int.random(in: 0...2, using: &rng)).map { _ in "key\(Int.random(in: 0..<200, using: &rng))" })
        }
        var assertions: [LinkAssertion] = []
        for _ in 0..<60 {
            let a = "rec\(Int.random(in: 0..<300, using: &rng))"
            let b = "rec\(Int.random(in: 0..<300, using: &rng))"
            assertions.append(link(a, b, Bool.random(using: &rng) ? .same : .different))
        }
        let first = DuplicateFinder.clusters(keys: keys, assertions: assertions)
        #expect(!first.clusters.isEmpty)
        for _ in 0..<10 {
            #expect(DuplicateFinder.clusters(keys: keys, assertions: assertions.shuffled(using: &rng)) == first)
        }
        // No cluster holds a pair asserted different.
        let different = assertions.filter { $0.relation == .different }
        for cluster in first.clusters {
            let members = Set(cluster.records)
            #expect(
                !different.contains {
                    members.contains($0.recordA) && members.contains($0.recordB) && $0.recordA != $0.recordB
                })
        }
    }
}
