import AmanatRecords
import AmanatTestSupport
import Testing

@testable import AmanatSync

/// A seeded generator of many records' histories across organizations, which keeps its own expectation of every
/// record's status, computed from its own simple model (never from the merge code).
struct ScenarioGenerator {
    /// What the generator knows about a record's content.
    struct Model: Equatable {
        var reference: String
        var facts: [String: String]
        var tags: [String]
        var attachments: [String]
        var transcript: String
        var translation: String?

        var json: JSONValue {
            var testimony: [(String, JSONValue)] = [
                ("consent", .string("partners")), ("transcript", .string(transcript)),
            ]
            if let translation {
                testimony.append(
                    ("translations", .array([.object([("lang", .string("en")), ("text", .string(translation))])])))
            }
            return JSONValue.object([
                ("schema", .string("amanat-record/v1")),
                ("provenance", .object([("reference", .string(reference))])),
                ("facts", .object(facts.map { ($0.key, .string($0.value)) })),
                ("tags", .array(tags.map { .string($0) })),
                (
                    "attachments",
                    .array(attachments.map { .object([("sha256", .string($0)), ("kind", .string("photo"))]) })
                ),
                ("testimony", .object(testimony)),
            ]).sortedKeys()
        }
    }

    static let organizations = ["SHA256:orgA-synthetic", "SHA256:orgB-synthetic", "SHA256:orgC-synthetic"]
    static let factKeys = ["f0", "f1", "f2", "f3"]

    var rng: SplitMix64
    /// Every version that exists, and those that made it into the bundles (the rest are "lost": missing parents).
    var all: [VersionNode] = []
    var present: [VersionNode] = []
    var expectedStatus: [String: RecordStatus] = [:]
    var expectedConflicts = 0
    var attachmentCounter = 0

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func newId() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        return String((0..<43).map { _ in alphabet[Int(rng.next() % 64)] })
    }

    mutating func org() -> String { Self.organizations[Int(rng.next() % 3)] }

    mutating func chance(_ p: Double) -> Bool { Double(rng.next() % 10_000) < p * 10_000 }

    @discardableResult
    mutating func version(
        _ kind: VersionKind, record: String?, prev: [String], signer: String, model: Model?, erased: Bool = false,
        lost: Bool = false
    ) -> String {
        let id = newId()
        let node = VersionNode(
            id: id, recordId: record ?? id, kind: kind, prev: prev.sorted(), signer: signer, issuedAt: all.count,
            content: erased ? nil : model?.json)
        all.append(node)
        if !lost { present.append(node) }
        return id
    }

    mutating func initialModel(_ n: Int) -> Model {
        var facts: [String: String] = [:]
        for k in Self.factKeys where chance(0.7) { facts[k] = "v\(rng.next() % 3)" }
        return Model(
            reference: "REF-\(n)", facts: facts, tags: chance(0.5) ? ["t0", "t1"] : [], attachments: [],
            transcript: "T\(rng.next() % 3)", translation: chance(0.5) ? "E\(rng.next() % 3)" : nil)
    }

    /// One random edit.
    mutating func edit(_ m: inout Model) {
        switch rng.next() % 8 {
        case 0, 1, 2:
            m.facts[Self.factKeys[Int(rng.next() % 4)]] = "v\(rng.next() % 3)"
        case 3:
            m.facts[Self.factKeys[Int(rng.next() % 4)]] = nil
        case 4:
            let t = "t\(rng.next() % 6)"
            if let i = m.tags.firstIndex(of: t) { m.tags.remove(at: i) } else { m.tags.append(t) }
        case 5:
            if !m.attachments.isEmpty, chance(0.4) {
                m.attachments.remove(at: Int(rng.next() % UInt64(m.attachments.count)))
            } else {
                attachmentCounter += 1
                let digits = Array("0123456789abcdef")
                var sha = String(attachmentCounter, radix: 16)
                while sha.count < 64 { sha.append(digits[Int(rng.next() % 16)]) }
                m.attachments.append(sha)
            }
        case 6:
            m.transcript = "T\(rng.next() % 3)"
        default:
            m.translation = chance(0.2) ? nil : "E\(rng.next() % 3)"
        }
    }

    mutating func edited(_ m: Model, edits: Int) -> Model {
        var out = m
        for _ in 0..<edits { edit(&out) }
        return out
    }

    /// The generator's own conflict rule over its model: a fact, or the transcript+translation unit, that two
    /// sides changed to different values. Tags and attachments (identical objects per digest) never conflict.
    static func conflicts(base: Model, sides: [Model]) -> Bool {
        for k in factKeys {
            let changed = Set(sides.map { $0.facts[k] }.filter { $0 != base.facts[k] }.map { $0 ?? "<absent>" })
            if changed.count > 1 { return true }
        }
        struct Unit: Hashable {
            var t: String
            var e: String?
        }
        let b = Unit(t: base.transcript, e: base.translation)
        return Set(sides.map { Unit(t: $0.transcript, e: $0.translation) }.filter { $0 != b }).count > 1
    }

    mutating func expect(_ record: String, _ status: RecordStatus) {
        expectedStatus[record] = status
        if status == .conflict { expectedConflicts += 1 }
    }

    /// Sides forked from `base` (parent `parent`); returns their head ids and models.
    mutating func fork(
        record: String, parent: String, base: Model, count: Int, erased: Bool = false
    ) -> ([String], [Model]) {
        var heads: [String] = []
        var models: [Model] = []
        var orgs = Self.organizations
        orgs.shuffle(using: &rng)
        for s in 0..<count {
            var m = edited(base, edits: 1 + Int(rng.next() % 3))
            var id = version(.edit, record: record, prev: [parent], signer: orgs[s], model: m, erased: erased)
            if chance(0.3) {
                m = edited(m, edits: 1)
                id = version(.edit, record: record, prev: [id], signer: orgs[s], model: m, erased: erased)
            }
            heads.append(id)
            models.append(m)
        }
        return (heads, models)
    }

    mutating func generate(records: Int) {
        for n in 0..<records {
            var model = initialModel(n)
            let roll = rng.next() % 100
            switch roll {
            case 0..<22:  // linear history
                let rid = version(.create, record: nil, prev: [], signer: org(), model: model)
                var last = rid
                for _ in 0..<Int(rng.next() % 3) {
                    model = edited(model, edits: 1)
                    last = version(.edit, record: rid, prev: [last], signer: org(), model: model)
                }
                expect(rid, .clean)
            case 22..<52:  // fork, two or three organizations, sometimes resolved
                let rid = version(.create, record: nil, prev: [], signer: org(), model: model)
                var parent = rid
                if chance(0.4) {
                    model = edited(model, edits: 1)
                    parent = version(.edit, record: rid, prev: [rid], signer: org(), model: model)
                }
                let (heads, models) = fork(record: rid, parent: parent, base: model, count: 2 + Int(rng.next() % 2))
                if chance(0.25) {
                    let resolved = edited(models[0], edits: 1)
                    version(.merge, record: rid, prev: heads, signer: org(), model: resolved)
                    expect(rid, .clean)
                } else {
                    expect(rid, Self.conflicts(base: model, sides: models) ? .conflict : .clean)
                }
            case 52..<60:  // retracted (by the collector: only it may, Specs/authority.md)
                let collector = org()
                let rid = version(.create, record: nil, prev: [], signer: collector, model: model)
                var last = rid
                if chance(0.5) {
                    model = edited(model, edits: 1)
                    last = version(.edit, record: rid, prev: [last], signer: org(), model: model)
                }
                version(.retract, record: rid, prev: [last], signer: collector, model: model)
                expect(rid, .retracted)
            case 60..<70:  // retraction by the collector concurrent with an edit (whatever the content)
                let rid = version(.create, record: nil, prev: [], signer: Self.organizations[1], model: model)
                version(.retract, record: rid, prev: [rid], signer: Self.organizations[1], model: model)
                version(
                    .edit, record: rid, prev: [rid], signer: Self.organizations[0],
                    model: chance(0.2) ? model : edited(model, edits: 1))
                expect(rid, .conflict)
            case 70..<78:  // erased record with a fork: every content gone, heads equal, no conflict
                let rid = version(.create, record: nil, prev: [], signer: org(), model: model, erased: true)
                _ = fork(record: rid, parent: rid, base: model, count: 2, erased: true)
                expect(rid, .clean)
            case 78..<88:  // criss-cross merges
                let rid = version(.create, record: nil, prev: [], signer: org(), model: model)
                var a1 = model
                a1.facts["f0"] = "a\(rng.next() % 2)"
                var b1 = model
                b1.facts["f1"] = "b\(rng.next() % 2)"
                let a1id = version(.edit, record: rid, prev: [rid], signer: Self.organizations[0], model: a1)
                let b1id = version(.edit, record: rid, prev: [rid], signer: Self.organizations[1], model: b1)
                var virtual = model
                virtual.facts["f0"] = a1.facts["f0"]
                virtual.facts["f1"] = b1.facts["f1"]
                let a2 = chance(0.3) ? virtual : edited(virtual, edits: 1)
                let b2 = chance(0.3) ? virtual : edited(virtual, edits: 1)
                version(.merge, record: rid, prev: [a1id, b1id], signer: Self.organizations[0], model: a2)
                version(.merge, record: rid, prev: [a1id, b1id], signer: Self.organizations[1], model: b2)
                expect(rid, Self.conflicts(base: virtual, sides: [a2, b2]) ? .conflict : .clean)
            default:  // missing parents: a lost version in the middle (or a lost create), sometimes then a fork
                let lostCreate = chance(0.3)
                let rid = version(.create, record: nil, prev: [], signer: org(), model: model, lost: lostCreate)
                model = edited(model, edits: 1)
                let lostMiddle = !lostCreate
                let e1 = version(.edit, record: rid, prev: [rid], signer: org(), model: model, lost: lostMiddle)
                model = edited(model, edits: 1)
                let e2 = version(.edit, record: rid, prev: [e1], signer: org(), model: model)
                if chance(0.5) {
                    let (_, models) = fork(record: rid, parent: e2, base: model, count: 2)
                    expect(rid, Self.conflicts(base: model, sides: models) ? .conflict : .incomplete)
                } else {
                    expect(rid, .incomplete)
                }
            }
        }
    }
}

@Suite("Sync properties")
struct SyncPropertyTests {
    @Test func bundlesInAnyOrderGiveOneStateAndTheExpectedConflicts() throws {
        var gen = ScenarioGenerator(seed: 0x5EED_A3A7)
        gen.generate(records: 1000)
        #expect(gen.expectedStatus.count == 1000)
        #expect(gen.expectedConflicts > 50)
        let present = gen.present
        #expect(present.count < gen.all.count)  // some versions are lost

        let reference = SyncView.derive(versions: present)
        let referenceHash = try reference.stateHash()

        // Independent expectations: the conflict count and every record's status.
        #expect(reference.counts.records == 1000)
        #expect(reference.counts.versions == present.count)
        #expect(reference.counts.conflicts == gen.expectedConflicts)
        var mismatches = 0
        for (rid, status) in gen.expectedStatus where reference[rid]?.status != status { mismatches += 1 }
        #expect(mismatches == 0)
        #expect(reference.counts.retracted > 0 && reference.counts.incomplete > 0 && reference.counts.erased > 0)
        #expect(reference.counts.autoMerged > 0)

        // Every version is reachable from a head when the record's history is complete.
        var byRecord: [String: [VersionNode]] = [:]
        for v in present { byRecord[v.recordId, default: []].append(v) }
        var unreachable = 0
        for (_, versions) in byRecord {
            let g = RecordGraph(versions: versions)
            if g.isIncomplete { continue }
            if g.reachableFromHeads().count != versions.count { unreachable += 1 }
        }
        #expect(unreachable == 0)

        // 14 overlapping bundles: each version in one to three of them.
        var rng = SplitMix64(seed: 42)
        var bundles = [[VersionNode]](repeating: [], count: 14)
        for v in present {
            var chosen = Set<Int>()
            for _ in 0..<(1 + Int(rng.next() % 3)) { chosen.insert(Int(rng.next() % 14)) }
            for b in chosen { bundles[b].append(v) }
        }
        #expect(bundles.allSatisfy { !$0.isEmpty })

        var distinct = Set([referenceHash])
        for round in 0..<200 {
            // A store: the set union of the bundles in a random order, some imported twice.
            var order = Array(0..<14).shuffled(using: &rng)
            for _ in 0..<Int(rng.next() % 4) { order.append(Int(rng.next() % 14)) }
            var seen = Set<String>()
            var store: [VersionNode] = []
            for b in order {
                for v in bundles[b].shuffled(using: &rng) where seen.insert(v.id).inserted { store.append(v) }
            }
            if round % 50 == 0 {
                // Re-union: import everything again (a no-op for a set); derive also ignores duplicates given raw.
                let again = store + bundles.flatMap { $0 }
                distinct.insert(try SyncView.derive(versions: again).stateHash())
            }
            distinct.insert(try SyncView.derive(versions: store).stateHash())
        }
        #expect(distinct.count == 1)

        // A conflict clears only through a merge naming every head (signed by the collector: a resolution that
        // retracts takes effect only from it).
        var resolved = present
        for record in reference.conflicted {
            let resolution = try record.resolve(fallback: .version(record.heads[0].id))
            resolved.append(
                VersionNode(
                    id: gen.newId(), recordId: record.recordId, kind: resolution.kind, prev: resolution.parents,
                    signer: record.collector ?? ScenarioGenerator.organizations[2], issuedAt: 0,
                    content: resolution.content))
        }
        let after = SyncView.derive(versions: resolved)
        #expect(after.counts.conflicts == 0)
        #expect(after.counts.records == 1000)
    }
}
