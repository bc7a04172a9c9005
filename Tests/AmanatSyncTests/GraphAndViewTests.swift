import AmanatRecords
import Testing

@testable import AmanatSync

@Suite("Record graph and derived view")
struct GraphAndViewTests {
    @Test func headsAncestorsAndLinearHistory() throws {
        var h = History()
        h.add("c", .create, content: try J(#"{"a":0}"#))
        h.add("e1", prev: ["c"], content: try J(#"{"a":1}"#))
        h.add("e2", prev: ["e1"], signer: "orgB", content: try J(#"{"a":2}"#))
        let g = h.graph
        #expect(g.recordId == "c")
        #expect(g.heads.map(\.id) == ["e2"])
        #expect(g.ancestors(of: "e2") == ["c", "e1"])
        #expect(g.isAncestor("c", of: "e2"))
        #expect(!g.isAncestor("e2", of: "c"))
        #expect(g.missingParents.isEmpty)
        let v = try #require(h.view["c"])
        #expect(v.status == .clean)
        #expect(v.content == (try J(#"{"a":2}"#)))
        #expect(v.headIds == ["e2"])
        #expect(!v.isAutoMerged)
    }

    @Test func forkWithDisjointEditsIsCleanAndAutoMerged() throws {
        var h = History()
        h.add("c", .create, content: try J(#"{"a":0,"b":0}"#))
        h.add("x", prev: ["c"], content: try J(#"{"a":1,"b":0}"#))
        h.add("y", prev: ["c"], signer: "orgB", content: try J(#"{"a":0,"b":1}"#))
        let v = try #require(h.view["c"])
        #expect(v.status == .clean)
        #expect(v.isAutoMerged)
        #expect(v.headIds == ["x", "y"])
        #expect(v.content == (try J(#"{"a":1,"b":1}"#)))
        #expect(h.view.counts.autoMerged == 1)
        // --accept: the clean merge gives the content directly.
        let res = try v.resolve()
        #expect(res.kind == .merge)
        #expect(res.parents == ["x", "y"])
        #expect(res.content == v.content)
        #expect(res.decisions.isEmpty)
    }

    @Test func conflictResolutionAndClearingThroughAMergeNamingEveryHead() throws {
        var h = History()
        h.add("c", .create, content: try J(#"{"a":0,"b":0}"#))
        h.add("x", prev: ["c"], content: try J(#"{"a":1,"b":1}"#))
        h.add("y", prev: ["c"], signer: "orgB", content: try J(#"{"a":2,"b":0}"#))
        h.add("z", prev: ["c"], signer: "orgC", content: try J(#"{"a":3,"b":0,"n":true}"#))
        let v = try #require(h.view["c"])
        #expect(v.status == .conflict)
        #expect(v.conflicts.map(\.path) == ["/a"])
        #expect(v.conflicts[0].base == .number("0"))
        #expect(v.content == (try J(#"{"a":0,"b":1,"n":true}"#)))
        #expect(throws: SyncError.unresolvedConflict(path: "/a")) { try v.resolve() }
        #expect(throws: SyncError.notInConflict(path: "/b")) { try v.resolve(choices: ["/b": .base], fallback: .base) }
        #expect(throws: SyncError.noSuchSigner(path: "/a", signer: "orgQ")) { try v.resolve(fallback: .signer("orgQ")) }
        #expect(throws: SyncError.noSuchVersion(path: "/a", versionId: "nope")) {
            try v.resolve(fallback: .version("nope"))
        }
        let bySigner = try v.resolve(fallback: .signer("orgB"))
        #expect(bySigner.content == (try J(#"{"a":2,"b":1,"n":true}"#)))
        #expect(bySigner.decisions == [MergeDecision(path: "/a", choice: .signer("orgB"), value: .number("2"))])
        let explicit = try v.resolve(choices: ["/a": .value(.number("7"))])
        #expect(explicit.content?["a"] == .number("7"))
        let removed = try v.resolve(choices: ["/a": .value(nil)])
        #expect(removed.content == (try J(#"{"b":1,"n":true}"#)))

        #expect(v.conflicts[0].candidates.map(\.versionId) == ["x", "y", "z"])
        // A merge naming only two of the three heads does not clear the conflict.
        var partial = h
        partial.add("m1", .merge, prev: ["x", "y"], content: try J(#"{"a":1,"b":1}"#))
        #expect(partial.view["c"]?.status == .conflict)
        // A merge naming every head does.
        h.add("m", .merge, prev: bySigner.parents, signer: "orgB", content: bySigner.content)
        let after = try #require(h.view["c"])
        #expect(after.status == .clean)
        #expect(after.headIds == ["m"])
        #expect(h.view.counts.conflicts == 0)
    }

    @Test func ambiguousSignerWithTwoHeads() throws {
        var h = History()
        h.add("c", .create, content: try J(#"{"a":0}"#))
        h.add("x", prev: ["c"], content: try J(#"{"a":1}"#))
        h.add("y", prev: ["c"], content: try J(#"{"a":2}"#))
        let v = try #require(h.view["c"])
        #expect(throws: SyncError.ambiguousSigner(path: "/a", signer: "orgA")) {
            try v.resolve(fallback: .signer("orgA"))
        }
        #expect(try v.resolve(fallback: .version("y")).content == (try J(#"{"a":2}"#)))
    }

    @Test func equalContentHeadsAreNotAConflict() throws {
        var h = History()
        h.add("c", .create, content: try J(#"{"a":0}"#))
        h.add("x", prev: ["c"], content: try J(#"{"a":1}"#))
        h.add("y", prev: ["c"], signer: "orgB", content: try J(#"{"a":2}"#))
        // Both organizations resolve the conflict on their own, to identical content.
        h.add("mA", .merge, prev: ["x", "y"], signer: "orgA", content: try J(#"{"a":3}"#))
        h.add("mB", .merge, prev: ["x", "y"], signer: "orgB", content: try J(#"{"a":3}"#))
        let v = try #require(h.view["c"])
        #expect(v.headIds == ["mA", "mB"])
        #expect(v.status == .clean)
        #expect(v.conflicts.isEmpty)
        #expect(!v.isAutoMerged)
        #expect(v.content == (try J(#"{"a":3}"#)))
    }

    @Test func retractionConcurrentWithEditIsAConflict() throws {
        var h = History()
        let base = try J(#"{"a":0}"#)
        // The collector (orgA) retracts while orgB edits.
        h.add("c", .create, content: base)
        h.add("r", .retract, prev: ["c"], content: base)
        h.add("e", prev: ["c"], signer: "orgB", content: try J(#"{"a":1}"#))
        let v = try #require(h.view["c"])
        #expect(v.status == .conflict)
        #expect(v.conflicts.isEmpty)
        #expect(v.retractionConflict == RetractionConflict(retractions: ["r"], edits: ["e"]))
        #expect(h.view.counts.conflicts == 1)
        #expect(throws: SyncError.retractionUndecided(recordId: "c")) { try v.resolve() }
        let retract = try v.resolve(fallback: .version("r"))
        #expect(retract.kind == .retract)
        #expect(retract.content == base)
        #expect(retract.parents == ["e", "r"])
        let keep = try v.resolve(fallback: .signer("orgB"))
        #expect(keep.kind == .merge)
        #expect(keep.content == (try J(#"{"a":1}"#)))
        // Even with equal content, a retraction beside an edit is a conflict.
        var h2 = History()
        h2.add("c", .create, content: base)
        h2.add("r", .retract, prev: ["c"], content: base)
        h2.add("e", prev: ["c"], signer: "orgB", content: base)
        #expect(h2.view["c"]?.status == .conflict)
        // After a signed retraction naming both heads: retracted.
        h.add("r2", .retract, prev: retract.parents, content: retract.content)
        #expect(h.view["c"]?.status == .retracted)
    }

    @Test func singleOrSeveralRetractHeadsAreRetracted() throws {
        var h = History()
        h.add("c", .create, content: try J(#"{"a":0}"#))
        h.add("r1", .retract, prev: ["c"], content: try J(#"{"a":0}"#))
        #expect(h.view["c"]?.status == .retracted)
        h.add("r2", .retract, prev: ["c"], signer: "orgB", content: try J(#"{"a":0}"#))
        let v = try #require(h.view["c"])
        #expect(v.status == .retracted)
        #expect(v.retractionConflict == nil)
        #expect(h.view.counts.retracted == 1)
        // An edit made after seeing the retraction un-retracts (the single head is an edit).
        h.add("e", prev: ["r1", "r2"], content: try J(#"{"a":5}"#))
        #expect(h.view["c"]?.status == .clean)
    }

    @Test func crissCrossHistoryUsesAVirtualBase() throws {
        var h = History()
        h.add("x", .create, content: try J(#"{"a":0,"b":0,"c":0}"#))
        h.add("a1", prev: ["x"], content: try J(#"{"a":1,"b":0,"c":1}"#))
        h.add("b1", prev: ["x"], signer: "orgB", content: try J(#"{"a":0,"b":1,"c":2}"#))
        // Both merge a1 and b1 (criss-cross). orgA keeps b=1 and edits nothing else; orgB deliberately reverts b.
        h.add("a2", .merge, prev: ["a1", "b1"], content: try J(#"{"a":1,"b":1,"c":5}"#))
        h.add("b2", .merge, prev: ["a1", "b1"], signer: "orgB", content: try J(#"{"a":1,"b":0,"c":5,"d":"new"}"#))
        let g = h.graph
        #expect(g.heads.map(\.id) == ["a2", "b2"])
        #expect(g.bestCommonAncestors(of: ["a2", "b2"]) == ["a1", "b1"])
        // The virtual base merges a1 and b1 over x: a and b merge cleanly; c conflicted there, so x's value stays.
        #expect(g.mergeBase(of: ["a2", "b2"]) == (try J(#"{"a":1,"b":1,"c":0}"#)))
        let v = try #require(h.view["x"])
        #expect(v.status == .clean)
        // Against the virtual base, b2 reverted b (a2 kept it): b becomes 0. Against x (or a1) it would be 1.
        #expect(v.content == (try J(#"{"a":1,"b":0,"c":5,"d":"new"}"#)))
    }

    @Test func bestCommonAncestorsSkipsDominatedAncestors() throws {
        var h = History()
        h.add("r", .create, content: try J(#"{}"#))
        h.add("p", prev: ["r"], content: try J(#"{"p":1}"#))
        h.add("q", prev: ["p"], content: try J(#"{"q":1}"#))
        h.add("s1", prev: ["q"], content: try J(#"{"s":1}"#))
        h.add("s2", prev: ["q"], content: try J(#"{"s":2}"#))
        h.add("s3", prev: ["p"], content: try J(#"{"s":3}"#))
        let g = h.graph
        #expect(g.bestCommonAncestors(of: ["s1", "s2"]) == ["q"])
        #expect(g.bestCommonAncestors(of: ["s1", "s2", "s3"]) == ["p"])
        #expect(g.bestCommonAncestors(of: ["s1", "q"]) == ["q"])
        #expect(g.reachableFromHeads().count == 6)
    }

    @Test func missingParentsMakeARecordIncomplete() throws {
        var h = History()
        // The create version "c" and "e1" never arrived; "e2" names e1.
        h.add("e2", prev: ["e1"], content: try J(#"{"a":2}"#), record: "c")
        h.add("e3", prev: ["e2"], content: try J(#"{"a":3}"#), record: "c")
        let g = h.graph
        #expect(g.missingParents == ["e1"])
        #expect(g.versionsWithMissingParents == ["e2"])
        let v = try #require(h.view["c"])
        #expect(v.status == .incomplete)
        #expect(v.content == (try J(#"{"a":3}"#)))
        #expect(v.missingParents == ["e1"])
        #expect(h.view.counts.incomplete == 1)
        // A single version whose parent is absent is kept too.
        var h1 = History()
        h1.add("lone", prev: ["gone", "gone2"], content: try J(#"{"a":1}"#), record: "rec")
        #expect(h1.view["rec"]?.status == .incomplete)
        #expect(h1.view["rec"]?.missingParents == ["gone", "gone2"])
        // Two roots with no common ancestor (history cut): merged with no base.
        var h2 = History()
        h2.add("x", prev: ["gone"], content: try J(#"{"a":1,"b":1}"#), record: "rec")
        h2.add("y", prev: ["gone"], signer: "orgB", content: try J(#"{"a":1,"b":2}"#), record: "rec")
        let v2 = try #require(h2.view["rec"])
        #expect(v2.status == .conflict)  // a conflict is never hidden behind "incomplete"
        #expect(v2.conflicts.map(\.path) == ["/b"])
        #expect(v2.missingParents == ["gone"])
    }

    @Test func aCompleteHeadBesideAnIncompleteOneIsSetAside() throws {
        // c arrived, its child e1 did not, e2 (child of e1) did: c looks like a head but is e2's ancestor.
        var h = History()
        h.add("c", .create, content: try J(#"{"a":0,"b":0}"#))
        h.add("e2", prev: ["e1"], content: try J(#"{"a":2,"b":1}"#), record: "c")
        let g = h.graph
        #expect(g.heads.map(\.id) == ["c", "e2"])
        #expect(g.effectiveHeads.map(\.id) == ["e2"])
        #expect(g.setAsideHeads == ["c"])
        let v = try #require(h.view["c"])
        #expect(v.status == .incomplete)
        #expect(v.content == (try J(#"{"a":2,"b":1}"#)))
        #expect(v.setAsideHeads == ["c"])
        // A fork above the gap is still a conflict, merged over the last common version.
        h.add("s1", prev: ["e2"], content: try J(#"{"a":3,"b":1}"#), record: "c")
        h.add("s2", prev: ["e2"], signer: "orgB", content: try J(#"{"a":4,"b":1}"#), record: "c")
        let v2 = try #require(h.view["c"])
        #expect(v2.status == .conflict)
        #expect(v2.headIds == ["s1", "s2"])
        #expect(v2.conflicts.map(\.path) == ["/a"])
        #expect(v2.conflicts[0].base == .number("2"))
        // When e1 arrives, the history is complete and c is no longer a head.
        h.add("e1", prev: ["c"], content: try J(#"{"a":1,"b":0}"#), record: "c")
        #expect(h.graph.heads.map(\.id) == ["s1", "s2"])
        #expect(h.view["c"]?.missingParents == [])
    }

    @Test func erasedRecords() throws {
        var h = History()
        h.add("c", .create, content: nil)
        h.add("x", prev: ["c"], content: nil)
        h.add("y", prev: ["c"], signer: "orgB", content: nil)
        let v = try #require(h.view["c"])
        #expect(v.status == .clean)
        #expect(v.isErased)
        #expect(h.view.counts.erased == 1)
    }

    @Test func stateHashIsOrderAndDuplicateIndependent() throws {
        var h = History()
        h.add("c", .create, content: try J(#"{"a":0,"t":"line\none \"q\" \u0001 é"}"#))
        h.add("x", prev: ["c"], content: try J(#"{"a":1,"t":"line\none \"q\" \u0001 é"}"#))
        h.add("y", prev: ["c"], signer: "orgB", content: try J(#"{"a":2,"t":"line\none \"q\" \u0001 é"}"#))
        h.add("d", .create, signer: "orgB", content: try J(#"{"z":{"b":1,"a":[1,{"y":2,"x":1}]}}"#))
        let hash = try h.view.stateHash()
        #expect(hash.count == 64)
        #expect(hash.allSatisfy { "0123456789abcdef".contains($0) })
        let shuffled = h.nodes.reversed() + h.nodes
        #expect(try SyncView.derive(versions: Array(shuffled)).stateHash() == hash)
        // Any change to the set changes the hash.
        var more = h
        more.add("m", .merge, prev: ["x", "y"], content: try J(#"{"a":3}"#))
        #expect(try more.view.stateHash() != hash)
        // The canonical writer writes what JSONValue.canonical() writes.
        let value = try JSONValue.parse(#"{"z":{"b":1,"a":[1,{"y":2,"x":1}]},"s":"tab\tnl\nctl\u001f é/"}"#)
        var w = CanonicalWriter(out: [])
        w.value(value)
        #expect(String(decoding: w.out, as: UTF8.self) == value.canonical())
    }

    @Test func issueTimesAreNotHashedBesideTheIds() throws {
        var h = History()
        h.add("c", .create, content: try J(#"{"a":0}"#))
        let hash = try h.view.stateHash()
        var other = h
        other.nodes[0].issuedAt += 1000
        #expect(try other.view.stateHash() == hash)
    }
}
