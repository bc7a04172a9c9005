import AmanatRecords
import AmanatTestSupport
import Testing

@testable import AmanatSync

/// The consent and authority rules (Specs/authority.md) on hand-built histories: orgA collects, orgB and orgC edit.
@Suite("Authority: consent ceilings, who may retract and erase")
struct AuthorityTests {
    /// A record with the given consent, consent note and interview date.
    func record(_ consent: String, note: String = "oral, 2019", date: String = "2019-04-01") throws -> JSONValue {
        try J(
            #"{"schema":"amanat-record/v1","testimony":{"consent":"\#(consent)","consentNote":"\#(note)","date":"\#(date)"}}"#
        )
    }

    @Test func aRaiseByAPartnerIsAProposalNeverApplied() throws {
        // Given a partners record collected by orgA, which orgB edits to public
        var h = History()
        h.add("c", .create, content: try record("partners"))
        h.add("e", prev: ["c"], signer: "orgB", content: try record("public"))
        let v = try #require(h.view["c"])
        // Then partners stays in force, the raise is a proposal, and the content says partners
        #expect(v.collector == "orgA")
        #expect(v.editors == ["orgB"])
        #expect(v.consent == .partners)
        #expect(
            v.consentProposals == [
                ConsentProposal(versionId: "e", signer: "orgB", proposed: .public, ceiling: .partners)
            ])
        #expect(v.content?["testimony"]?["consent"]?.stringValue == "partners")
        #expect(h.view.counts.consentProposals == 1)
        // And a further edit by orgB on top of its raise cannot launder it
        h.add("e2", prev: ["e"], signer: "orgB", content: try record("public", date: "2019-04-02"))
        #expect(h.view["c"]?.consent == .partners)
        // And a third organization cannot either
        h.add("e3", prev: ["e2"], signer: "orgC", content: try record("public", date: "2019-04-03"))
        #expect(h.view["c"]?.consent == .partners)
        // When the collector signs the raise itself, it is in force
        h.add("ok", prev: ["e3"], signer: "orgA", content: try record("public", date: "2019-04-03"))
        #expect(h.view["c"]?.consent == .public)
        #expect(h.view["c"]?.consentProposals.isEmpty == true)
    }

    @Test func anyoneLowersAndTheLowerWinsOverAConcurrentEdit() throws {
        // Given a public record; orgB lowers it to internal while orgA edits the date
        var h = History()
        h.add("c", .create, content: try record("public"))
        h.add("low", prev: ["c"], signer: "orgB", content: try record("internal"))
        h.add("edit", prev: ["c"], signer: "orgA", content: try record("public", date: "2019-05-05"))
        let v = try #require(h.view["c"])
        // Then the record is internal, its merged content too, and the date edit is kept
        #expect(v.consent == .internal)
        #expect(v.status == .clean && v.isAutoMerged)
        #expect(v.content?["testimony"]?["consent"]?.stringValue == "internal")
        #expect(v.content?["testimony"]?["date"]?.stringValue == "2019-05-05")
        #expect(v.consentProposals.isEmpty)
        // And the resolution a person makes carries the lower consent
        let resolution = try v.resolve()
        #expect(resolution.content?["testimony"]?["consent"]?.stringValue == "internal")
    }

    @Test func withoutTheFirstVersionNobodyIsTheCollector() throws {
        // An edit whose parent is missing: its consent cannot be checked against the collector's, so internal.
        var h = History()
        h.add("e", prev: ["gone"], signer: "orgB", content: try record("public"), record: "gone")
        let v = try #require(h.view["gone"])
        #expect(v.collector == nil)
        #expect(v.consent == .internal)
        #expect(v.content?["testimony"]?["consent"]?.stringValue == "internal")
        // A collector version after a missing middle version sets consent again.
        var h2 = History()
        h2.add("c", .create, content: try record("partners"))
        h2.add("b", prev: ["c", "lost"], signer: "orgB", content: try record("public"))
        #expect(h2.view["c"]?.consent == .internal)
        h2.add("a", prev: ["b"], signer: "orgA", content: try record("public"))
        #expect(h2.view["c"]?.consent == .public)
    }

    @Test func retractionsFromOthersArePendingRequests() throws {
        // Given orgA's record and a retraction signed by orgB
        var h = History()
        h.add("c", .create, content: try record("public"))
        h.add(
            "r", .retract, prev: ["c"], signer: "orgB",
            content: try J(#"{"retraction":{"reason":"x"},"schema":"amanat-record/v1"}"#))
        // Then it changes nothing: the record is clean with its create version as head, and the request pending
        let v = try #require(h.view["c"])
        #expect(v.status == .clean)
        #expect(v.headIds == ["c"])
        #expect(v.pendingRequests.map(\.id) == ["r"])
        #expect(v.versionCount == 2)
        #expect(h.view.counts.pendingRequests == 1 && h.view.counts.retracted == 0)
        // When the trust list makes orgB a delegate, it takes effect
        let delegated = SyncView.derive(versions: h.nodes, authority: Authority(delegates: ["orgB"]))
        #expect(delegated["c"]?.status == .retracted)
        #expect(delegated["c"]?.pendingRequests.isEmpty == true)
        // When orgA edits on top of the request, the edit's parent is read through it: no missing parent
        h.add("e", prev: ["r"], signer: "orgA", content: try record("public", date: "2020-01-01"))
        let after = try #require(h.view["c"])
        #expect(after.headIds == ["e"])
        #expect(after.missingParents.isEmpty && after.status == .clean)
        #expect(after.pendingRequests.isEmpty)
        // When the collector retracts over the request, the record is retracted
        var h2 = History()
        h2.add("c", .create, content: try record("public"))
        h2.add("r", .retract, prev: ["c"], signer: "orgB", content: nil)
        h2.add("rA", .retract, prev: ["r"], signer: "orgA", content: nil)
        #expect(h2.view["c"]?.status == .retracted)
        #expect(h2.view["c"]?.pendingRequests.isEmpty == true)
    }

    @Test func aLoneRequestForAnUnknownRecordShowsNothing() throws {
        var h = History()
        h.add("r", .retract, prev: ["c0"], signer: "orgB", content: nil, record: "c0")
        let v = try #require(h.view["c0"])
        #expect(v.heads.isEmpty && v.content == nil && !v.isErased)
        #expect(v.pendingRequests.map(\.id) == ["r"])
        #expect(v.status == .incomplete)
        #expect(Authority.sealRefusal(v) != nil)
    }

    @Test func theViewDoesNotDependOnArrivalOrder() throws {
        var h = History()
        h.add("c", .create, content: try record("partners"))
        h.add("e", prev: ["c"], signer: "orgB", content: try record("public"))
        h.add("r", .retract, prev: ["e"], signer: "orgC", content: nil)
        h.add("low", prev: ["c"], signer: "orgC", content: try record("internal"))
        h.add("x", prev: ["r", "low"], signer: "orgA", content: try record("partners", date: "2021-01-01"))
        let hash = try h.view.stateHash()
        var rng = SplitMix64(seed: 7)
        for _ in 0..<20 {
            #expect(try SyncView.derive(versions: h.nodes.shuffled(using: &rng)).stateHash() == hash)
        }
        #expect(h.view["c"]?.consent == .partners)
        #expect(h.view["c"]?.headIds == ["x"])
    }

    @Test func consentEditRules() throws {
        #expect(
            try Authority.consentEdit(from: .public, to: .public, byCollector: false, consentNoteChanged: false)
                == .unchanged)
        #expect(
            try Authority.consentEdit(from: .public, to: .internal, byCollector: false, consentNoteChanged: false)
                == .lowered)
        #expect(
            try Authority.consentEdit(from: .partners, to: .public, byCollector: false, consentNoteChanged: true)
                == .proposed)
        #expect(
            try Authority.consentEdit(from: .partners, to: .public, byCollector: true, consentNoteChanged: true)
                == .raised)
        #expect(throws: Authority.EditRefusal.raiseWithoutFreshConsent(from: .internal, to: .partners)) {
            try Authority.consentEdit(from: .internal, to: .partners, byCollector: true, consentNoteChanged: false)
        }
    }

    @Test func whatMayBeSealedAndPublished() throws {
        func view(_ consent: String) throws -> RecordView {
            var h = History()
            h.add("c", .create, content: try record(consent))
            return try #require(h.view["c"])
        }
        let (pub, partners, internalOnly) = (try view("public"), try view("partners"), try view("internal"))
        #expect(Authority.sealRefusal(pub) == nil && Authority.sealRefusal(partners) == nil)
        #expect(Authority.sealRefusal(internalOnly)?.contains("internal") == true)
        #expect(Authority.sealRefusal(internalOnly, recipientsHoldIt: true) == nil)
        let both: Set<Consent> = [.public, .partners]
        #expect(Authority.publicationRefusal(pub, allowed: [.public], audience: .everyone) == nil)
        #expect(
            Authority.publicationRefusal(partners, allowed: both, audience: .everyone)?.contains("never published")
                == true)
        #expect(Authority.publicationRefusal(partners, allowed: both, audience: .partner) == nil)
        #expect(Authority.publicationRefusal(partners, allowed: [.public], audience: .partner) != nil)
        #expect(
            Authority.publicationRefusal(internalOnly, allowed: both, audience: .partner)?.contains("internal") == true)
        // An erased record always travels (its erasure must), and is never published
        var h = History()
        h.add("c", .create, content: nil)
        let erased = try #require(h.view["c"])
        #expect(erased.isErased)
        #expect(Authority.sealRefusal(erased) == nil)
        #expect(Authority.publicationRefusal(erased, allowed: both, audience: .partner) != nil)
    }
}
