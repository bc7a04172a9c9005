import AmanatRecords
import Testing

@testable import AmanatSync

@Suite("Three-way merge")
struct MergeTests {
    func sides(_ values: [(String, String, JSONValue?)]) -> [MergeSide] {
        values.map { MergeSide(versionId: $0.0, signer: $0.1, content: $0.2) }
    }

    @Test func disjointFieldEditsMergeCleanly() throws {
        let base = try J(#"{"a":"1","b":"1","n":{"x":1,"y":1}}"#)
        let r = RecordMerge.merge(
            base: base,
            sides: sides([
                ("v1", "orgA", try J(#"{"a":"2","b":"1","n":{"x":2,"y":1}}"#)),
                ("v2", "orgB", try J(#"{"a":"1","b":"3","n":{"x":1,"y":3},"c":true}"#)),
            ]))
        #expect(r.isClean)
        #expect(r.content == (try J(#"{"a":"2","b":"3","c":true,"n":{"x":2,"y":3}}"#)))
    }

    @Test func sameFieldDifferentEditsConflictWithBaseAndCandidates() throws {
        let base = try J(#"{"a":"base","b":1}"#)
        let r = RecordMerge.merge(
            base: base,
            sides: sides([
                ("v2", "orgB", try J(#"{"a":"bee","b":1}"#)),
                ("v1", "orgA", try J(#"{"a":"ay","b":2}"#)),
            ]))
        #expect(r.conflicts.count == 1)
        let c = try #require(r.conflicts.first)
        #expect(c.path == "/a")
        #expect(c.base == .string("base"))
        #expect(
            c.candidates == [
                MergeCandidate(versionId: "v1", signer: "orgA", value: .string("ay")),
                MergeCandidate(versionId: "v2", signer: "orgB", value: .string("bee")),
            ])
        // The preview keeps the base value where the sides disagree and takes the clean change elsewhere.
        #expect(r.content == (try J(#"{"a":"base","b":2}"#)))
    }

    @Test func sameChangeOnBothSidesIsNoConflict() throws {
        let r = RecordMerge.merge(
            base: try J(#"{"a":1}"#),
            sides: sides([("v1", "orgA", try J(#"{"a":2}"#)), ("v2", "orgB", try J(#"{"a":2}"#))]))
        #expect(r.isClean)
        #expect(r.content == (try J(#"{"a":2}"#)))
    }

    @Test func removingAFieldIsAChange() throws {
        // Removed on one side, untouched on the other: removed.
        let r1 = RecordMerge.merge(
            base: try J(#"{"a":1,"b":1}"#),
            sides: sides([("v1", "orgA", try J(#"{"b":1}"#)), ("v2", "orgB", try J(#"{"a":1,"b":2}"#))]))
        #expect(r1.isClean)
        #expect(r1.content == (try J(#"{"b":2}"#)))
        // Removed on one side, changed on the other: conflict, the remover's candidate is absent (nil).
        let r2 = RecordMerge.merge(
            base: try J(#"{"a":1}"#),
            sides: sides([("v1", "orgA", try J(#"{}"#)), ("v2", "orgB", try J(#"{"a":5}"#))]))
        #expect(r2.conflicts.map(\.path) == ["/a"])
        #expect(r2.conflicts[0].candidates.map(\.value) == [nil, .number("5")])
        // Added on both sides differently (no base value): conflict with base nil, absent in the preview.
        let r3 = RecordMerge.merge(
            base: try J(#"{}"#),
            sides: sides([("v1", "orgA", try J(#"{"z":"p"}"#)), ("v2", "orgB", try J(#"{"z":"q"}"#))]))
        #expect(r3.conflicts.map(\.path) == ["/z"])
        #expect(r3.conflicts[0].base == nil)
        #expect(r3.content == (try J(#"{}"#)))
    }

    @Test func attachmentsMergeAsASetWithRemoval() throws {
        let x = String(repeating: "a", count: 64)
        let y = String(repeating: "b", count: 64)
        let z = String(repeating: "c", count: 64)
        let w = String(repeating: "d", count: 64)
        let base = try J(#"{"attachments":[{"sha256":"\#(x)","kind":"photo"},{"sha256":"\#(y)","kind":"letter"}]}"#)
        let a = try J(
            #"{"attachments":[{"sha256":"\#(x)","kind":"photo"},{"sha256":"\#(y)","kind":"letter"},{"sha256":"\#(z)","kind":"photo"}]}"#
        )
        let b = try J(#"{"attachments":[{"sha256":"\#(y)","kind":"letter"},{"sha256":"\#(w)","kind":"other"}]}"#)
        let r = RecordMerge.merge(base: base, sides: sides([("v1", "orgA", a), ("v2", "orgB", b)]))
        #expect(r.isClean)
        let shas = r.content?["attachments"]?.arrayValue?.compactMap { $0["sha256"]?.stringValue }
        #expect(shas == [y, z, w])
    }

    @Test func attachmentMetadataMergesPerFieldAndRemoveVersusModifyConflicts() throws {
        let x = String(repeating: "1", count: 64)
        let y = String(repeating: "2", count: 64)
        let base = try J(#"{"attachments":[{"sha256":"\#(x)"},{"sha256":"\#(y)","kind":"photo"}]}"#)
        // orgA describes x and removes y; orgB labels x's language and changes y.
        let a = try J(#"{"attachments":[{"sha256":"\#(x)","description":"scan"}]}"#)
        let b = try J(#"{"attachments":[{"sha256":"\#(x)","language":"kk"},{"sha256":"\#(y)","kind":"letter"}]}"#)
        let r = RecordMerge.merge(base: base, sides: sides([("v1", "orgA", a), ("v2", "orgB", b)]))
        #expect(r.conflicts.map(\.path) == ["/attachments/1"])
        #expect(r.conflicts[0].candidates.map(\.value) == [nil, try J(#"{"sha256":"\#(y)","kind":"letter"}"#)])
        #expect(
            r.content
                == (try J(
                    #"{"attachments":[{"sha256":"\#(x)","description":"scan","language":"kk"},{"sha256":"\#(y)","kind":"photo"}]}"#
                )))
        // Taking orgA (the removal) drops the element; taking orgB keeps orgB's version.
        let takeA = try r.resolved(fallback: .signer("orgA")).content
        #expect(takeA == (try J(#"{"attachments":[{"sha256":"\#(x)","description":"scan","language":"kk"}]}"#)))
        let takeB = try r.resolved(fallback: .version("v2")).content
        #expect(takeB?["attachments"]?.arrayValue?.count == 2)
    }

    @Test func tagsAndLinksMergeAsSets() throws {
        let base = try J(#"{"tags":["a","b","c"],"links":[{"kind":"article","url":"https://example.org/1"}]}"#)
        let a = try J(
            #"{"tags":["a","c","d"],"links":[{"kind":"article","url":"https://example.org/1","title":"One"}]}"#)
        let b = try J(
            #"{"tags":["b","c","e","a"],"links":[{"kind":"article","url":"https://example.org/1"},{"kind":"report","url":"https://example.org/2"}]}"#
        )
        let r = RecordMerge.merge(base: base, sides: sides([("v1", "orgA", a), ("v2", "orgB", b)]))
        #expect(r.isClean)
        #expect(r.content?["tags"] == (try J(#"["a","c","d","e"]"#)))
        #expect(
            r.content?["links"]
                == (try J(
                    #"[{"kind":"article","title":"One","url":"https://example.org/1"},{"kind":"report","url":"https://example.org/2"}]"#
                )))
    }

    @Test func setsAddedWithoutBaseAreUnited() throws {
        let r = RecordMerge.merge(
            base: try J(#"{}"#),
            sides: sides([("v1", "orgA", try J(#"{"tags":["x"]}"#)), ("v2", "orgB", try J(#"{"tags":["y","x"]}"#))]))
        #expect(r.isClean)
        #expect(r.content?["tags"] == (try J(#"["x","y"]"#)))
    }

    @Test func transcriptChangedOnBothSidesConflicts() throws {
        let base = try J(#"{"testimony":{"consent":"partners","transcript":"Original."}}"#)
        let a = try J(#"{"testimony":{"consent":"partners","transcript":"Original. Corrected by A."}}"#)
        let b = try J(#"{"testimony":{"consent":"partners","transcript":"Original, corrected by B."}}"#)
        let r = RecordMerge.merge(base: base, sides: sides([("v1", "orgA", a), ("v2", "orgB", b)]))
        #expect(r.conflicts.map(\.path) == ["/testimony/transcript"])
        #expect(r.content?["testimony"]?["transcript"] == .string("Original."))
    }

    @Test func transcriptAndTranslationsAreOneUnit() throws {
        let base = try J(
            #"{"testimony":{"consent":"partners","transcript":"T0","translations":[{"lang":"en","text":"E0"}]}}"#)
        // orgA corrects the transcript, orgB the translation: never combined automatically.
        let a = try J(
            #"{"testimony":{"consent":"partners","transcript":"T1","translations":[{"lang":"en","text":"E0"}]}}"#)
        let b = try J(
            #"{"testimony":{"consent":"partners","transcript":"T0","translations":[{"lang":"en","text":"E1"}]}}"#)
        let r = RecordMerge.merge(base: base, sides: sides([("v1", "orgA", a), ("v2", "orgB", b)]))
        #expect(r.conflicts.map(\.path) == ["/testimony/transcript", "/testimony/translations"])
        // Taking one organization gives its transcript and translations together.
        let takeB = try r.resolved(fallback: .signer("orgB")).content
        #expect(takeB == b)
        // One side changing the unit while the other changes another field is clean.
        let c = try J(
            #"{"testimony":{"consent":"public","transcript":"T0","translations":[{"lang":"en","text":"E0"}]}}"#)
        let r2 = RecordMerge.merge(base: base, sides: sides([("v1", "orgA", a), ("v3", "orgC", c)]))
        #expect(r2.isClean)
        #expect(
            r2.content
                == (try J(
                    #"{"testimony":{"consent":"public","transcript":"T1","translations":[{"lang":"en","text":"E0"}]}}"#))
        )
    }

    @Test func nonSetArraysAreUnits() throws {
        let base = try J(#"{"detainees":[{"gender":"male"},{"gender":"female"}]}"#)
        let a = try J(#"{"detainees":[{"gender":"unknown"},{"gender":"female"}]}"#)
        let b = try J(#"{"detainees":[{"gender":"male"},{"gender":"unknown"}]}"#)
        let r = RecordMerge.merge(base: base, sides: sides([("v1", "orgA", a), ("v2", "orgB", b)]))
        #expect(r.conflicts.map(\.path) == ["/detainees"])
    }

    @Test func typeChangeConflictsAndPointerEscaping() throws {
        let r = RecordMerge.merge(
            base: try J(#"{"a/b":{"c~d":1}}"#),
            sides: sides([("v1", "orgA", try J(#"{"a/b":{"c~d":2}}"#)), ("v2", "orgB", try J(#"{"a/b":"flat"}"#))]))
        #expect(r.conflicts.map(\.path) == ["/a~1b"])
        let r2 = RecordMerge.merge(
            base: try J(#"{"a/b":{"c~d":1}}"#),
            sides: sides([("v1", "orgA", try J(#"{"a/b":{"c~d":2}}"#)), ("v2", "orgB", try J(#"{"a/b":{"c~d":3}}"#))]))
        #expect(r2.conflicts.map(\.path) == ["/a~1b/c~0d"])
        let fixed = try r2.resolved(choices: ["/a~1b/c~0d": .value(.number("9"))]).content
        #expect(fixed == (try J(#"{"a/b":{"c~d":9}}"#)))
    }

    @Test func threeSidesMergeIndependentlyOfOrder() throws {
        let base = try J(#"{"a":0,"b":0,"c":0,"tags":["t"]}"#)
        let all = sides([
            ("v3", "orgC", try J(#"{"a":0,"b":0,"c":3,"tags":["t","z"]}"#)),
            ("v1", "orgA", try J(#"{"a":1,"b":0,"c":0,"tags":[]}"#)),
            ("v2", "orgB", try J(#"{"a":0,"b":2,"c":0,"tags":["t","y"]}"#)),
        ])
        let r = RecordMerge.merge(base: base, sides: all)
        #expect(r.isClean)
        #expect(r.content == (try J(#"{"a":1,"b":2,"c":3,"tags":["y","z"]}"#)))
        for perm in [[0, 2, 1], [1, 0, 2], [2, 1, 0], [1, 2, 0]] {
            #expect(RecordMerge.merge(base: base, sides: perm.map { all[$0] }) == r)
        }
        // Two of three changing the same field differently: one conflict listing all three sides.
        let r2 = RecordMerge.merge(
            base: base,
            sides: sides([
                ("v1", "orgA", try J(#"{"a":1,"b":0,"c":0,"tags":["t"]}"#)),
                ("v2", "orgB", try J(#"{"a":2,"b":0,"c":0,"tags":["t"]}"#)),
                ("v3", "orgC", try J(#"{"a":0,"b":0,"c":0,"tags":["t"]}"#)),
            ]))
        #expect(r2.conflicts.count == 1)
        #expect(r2.conflicts[0].candidates.map(\.signer) == ["orgA", "orgB", "orgC"])
    }

    @Test func customPolicy() throws {
        let policy = MergePolicy(sets: ["/s": .wholeValue], unitGroups: [["/p/x", "/p/y"]])
        let r = RecordMerge.merge(
            base: try J(#"{"s":["a"],"p":{"x":1,"y":1},"tags":["a"]}"#),
            sides: sides([
                ("v1", "orgA", try J(#"{"s":["a","b"],"p":{"x":2,"y":1},"tags":["a","b"]}"#)),
                ("v2", "orgB", try J(#"{"s":["c"],"p":{"x":1,"y":2},"tags":["c"]}"#)),
            ]), policy: policy)
        // "tags" is not a set under this policy, so it is a unit and conflicts.
        #expect(r.conflicts.map(\.path) == ["/p/x", "/p/y", "/tags"])
        #expect(r.content?["s"] == (try J(#"["b","c"]"#)))
    }
}
