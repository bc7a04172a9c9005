import AmanatCrypto
import AmanatRecords
import AmanatRedaction
import Foundation

/// Applies a redaction policy to a signed record version.
public struct Redactor {
    public let policy: RedactionPolicy
    /// Gives the pseudonym key for a kind (purpose and recipient from the policy).
    public let pseudonymKey: (IdentifierKind) throws -> SecretBytes
    let detector = Detector(parallelThreshold: Int.max, threadCount: 1)

    public enum Decision {
        case original
        case withheld(notInPolicy: Bool)
        case publisher(PublisherValue)
    }

    /// Why a record cannot be published under the policy at all.
    public struct Refusal: Error, Sendable {
        public var reason: String
    }

    public init(
        policy: RedactionPolicy, pseudonymKey: @escaping (IdentifierKind) throws -> SecretBytes
    ) {
        self.policy = policy
        self.pseudonymKey = pseudonymKey
    }

    /// Applies the policy to one version: decides every value, chooses the disclosures to present, and builds the
    /// publisher's values and the report. Each step is a function of its own below.
    /// - Parameter map: the version's disclosure map when the verifier made it
    ///   (``AmanatRecords/RecordVerifier/verifyMapping(_:trustedKey:)``); nil: made here from `sdjwt`.
    /// - Throws: ``Refusal`` when the record cannot be presented under the policy; ``AmanatRecords/SDJWTError``
    ///   for an unreadable version.
    public func apply(_ sdjwt: SDJWT, verified: VerifiedVersion, map: DisclosureMap? = nil) throws -> PublishedRecord {
        let map = try map ?? DisclosureMap(sdjwt)
        let content = verified.content
        let consent = content["testimony"]?["consent"]?.stringValue ?? "internal"
        let flags = Set((content["testimony"]?["riskFlags"]?.arrayValue ?? []).compactMap(\.stringValue))
        let rules = policy.resolved(consent: consent, riskFlags: flags)
        var report = RedactionReport(
            record: verified.recordId, version: verified.versionId, consent: consent,
            conditions: rules.activeConditionLines)
        let texts = findIdentifiersInTexts(map)
        let names = protectedNames(map, rules: rules)
        let decisions = try decideLeaves(
            map, rules: rules, texts: texts, names: NameSearch(names), report: &report)
        try checkPlainClaims(map, decisions: decisions)
        let presented = chooseDisclosures(map, decisions: decisions)
        let keepIndexes = Set(presented.map { map.sites[$0].index })
        let kept = sdjwt.disclosures.enumerated().filter { keepIndexes.contains($0.offset) }.map(\.element)
        report.disclosuresPresented = kept.count
        report.disclosuresWithheld = sdjwt.disclosures.count - kept.count
        let (values, rendered) = render(map, decisions: decisions, presented: presented, report: &report)
        let presentation = SDJWT(jwt: sdjwt.jwt, disclosures: kept)
        return PublishedRecord(
            recordId: verified.recordId, versionId: verified.versionId, collector: verified.signerFingerprint,
            signer: verified.signerFingerprint, editors: [], origin: nil, presentation: presentation, values: values,
            report: report, rendered: rendered,
            overlaid: Annotation.overlays(values, source: map, kept: keepIndexes))
    }

    /// Identifiers found in the segmented texts, each text scanned whole (context words sit in other segments):
    /// per text pointer, the findings with their byte ranges and the byte range of every segment.
    struct TextFindings {
        var findings: [String: [(Range<Int>, Finding)]] = [:]
        var segmentRanges: [String: [Int: Range<Int>]] = [:]
    }

    /// Step 1: scans every segmented text (transcripts, translations) as one text.
    func findIdentifiersInTexts(_ map: DisclosureMap) -> TextFindings {
        var result = TextFindings()
        var texts: [String: [(Int, String)]] = [:]
        for leaf in map.leaves {
            guard let segment = leaf.segment else { continue }
            texts[leaf.pointer, default: []].append((segment, leaf.value.stringValue ?? ""))
        }
        for (pointer, pieces) in texts {
            var offset = 0
            var ranges: [Int: Range<Int>] = [:]
            var whole: [UInt8] = []
            for (i, piece) in pieces.sorted(by: { $0.0 < $1.0 }) {
                let bytes = Array(piece.utf8)
                ranges[i] = offset..<(offset + bytes.count)
                whole += bytes
                offset += bytes.count
            }
            result.segmentRanges[pointer] = ranges
            result.findings[pointer] = detector.scan(whole).map { ($0.range, $0) }
        }
        return result
    }

    /// Step 2: the names the policy does not keep in their own fields. They must not leak through free text either:
    /// a piece of text that contains one (or a distinctive part of one) is withheld whole.
    func protectedNames(_ map: DisclosureMap, rules: ResolvedPolicy) -> Set<String> {
        var names = Set<String>()
        for leaf in map.leaves where leaf.segment == nil && Self.isNameField(leaf.path) {
            guard case .string(let name) = leaf.value else { continue }
            if let rule = rules.rule(for: leaf.path), rule.action.op == .keep { continue }
            names.formUnion(Self.nameTokens(name))
        }
        return names
    }

    /// Step 3: what happens to every scalar: presented as the collector signed it, withheld, or replaced by a
    /// publisher-made value.
    func decideLeaves(
        _ map: DisclosureMap, rules: ResolvedPolicy, texts: TextFindings, names: NameSearch,
        report: inout RedactionReport
    ) throws -> [Decision] {
        var decisions: [Decision] = []
        for leaf in map.leaves {
            let pointer = leaf.pointer
            var findings: [Finding] = []
            var span = 0
            if let segment = leaf.segment, let range = texts.segmentRanges[pointer]?[segment] {
                findings = (texts.findings[pointer] ?? []).filter { $0.0.overlaps(range) }.map(\.1)
                // Whitespace around an identifier may stay in its segment.
                let text = leaf.value.stringValue ?? ""
                span = text.utf8.count
                if findings.count == 1 {
                    let f = findings[0]
                    let leading = text.utf8.prefix { $0 == 0x20 || $0 == 0x0A }.count
                    let trailing = text.utf8.reversed().prefix { $0 == 0x20 || $0 == 0x0A }.count
                    span =
                        f.range.lowerBound <= range.lowerBound + leading
                            && f.range.upperBound >= range.upperBound - trailing ? -1 : span
                }
            } else if case .string(let text) = leaf.value {
                findings = detector.scan(text)
                if findings.count == 1 {
                    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
                    let lead = text.utf8.count - text.drop(while: { $0 == " " || $0 == "\n" }).utf8.count
                    span = findings[0].range == lead..<(lead + trimmed.utf8.count) ? -1 : 1
                } else {
                    span = 1
                }
            }
            var decision = try decide(
                leaf, pointer: pointer, rules: rules, findings: findings, identifierOnly: span == -1, report: &report)
            if case .original = decision, !Self.isNameField(leaf.path), case .string(let text) = leaf.value,
                names.isMentioned(in: text)
            {
                report.textWithheldWhole["person_name", default: 0] += 1
                decision = .publisher(
                    PublisherValue(
                        path: pointer, segment: leaf.segment, op: "withhold", kind: nil,
                        value: "[text withheld: it named a person]"))
            }
            decisions.append(decision)
        }
        return decisions
    }

    /// Step 4: plain claims of the record in the issuer-signed payload are always visible, so each must be kept as
    /// it is and hold no identifier, whatever the policy says of identifiers. Only the record's values are scanned:
    /// the payload's other claims are hashes, times and kinds (a digit run in an attachment digest is no phone).
    /// - Throws: ``Refusal``.
    func checkPlainClaims(_ map: DisclosureMap, decisions: [Decision]) throws {
        for (leaf, decision) in zip(map.leaves, decisions) where leaf.owner == nil {
            if case .original = decision { continue }
            throw Refusal(
                reason:
                    "\(UntrustedText.printable(leaf.pointer)) is a plain claim in the collector's signature, so no presentation can "
                    + "withhold it, but the policy does not keep it")
        }
        for leaf in map.leaves where leaf.owner == nil {
            if case .string(let text) = leaf.value, !detector.scan(text).isEmpty {
                throw Refusal(reason: "the collector's signed payload itself contains an identifier in a plain claim")
            }
        }
    }

    /// Step 5: the disclosures to present. One is presented when everything it holds itself is kept and it holds
    /// something kept (a value, or a presented child), no identifier is in it, and its parent is presented.
    func chooseDisclosures(_ map: DisclosureMap, decisions: [Decision]) -> Set<Int> {
        var ownLeaves: [[Int]] = Array(repeating: [], count: map.sites.count)
        var children: [[Int]] = Array(repeating: [], count: map.sites.count)
        for (i, leaf) in map.leaves.enumerated() { if let owner = leaf.owner { ownLeaves[owner].append(i) } }
        for (i, site) in map.sites.enumerated() { if let parent = site.parent { children[parent].append(i) } }
        var wants: [Bool?] = Array(repeating: nil, count: map.sites.count)
        func want(_ s: Int) -> Bool {
            if let known = wants[s] { return known }
            let own = ownLeaves[s]
            let ownKept = own.allSatisfy { if case .original = decisions[$0] { return true } else { return false } }
            var result = false
            if ownKept {
                let anyChild = children[s].map(want).contains(true)
                result = !own.isEmpty || anyChild
            } else {
                _ = children[s].map(want)
            }
            if result {
                let json = Base64URL.decode(map.sites[s].disclosure.encoded) ?? []
                if !json.withUnsafeBytes({ DocumentScanner(detector: detector).scanJSON($0) }).isEmpty {
                    result = false
                }
            }
            wants[s] = result
            return result
        }
        var presented = Set<Int>()
        for s in map.sites.indices where want(s) {
            var ok = true
            var p = map.sites[s].parent
            while let parent = p {
                if !want(parent) {
                    ok = false
                    break
                }
                p = map.sites[parent].parent
            }
            if ok { presented.insert(s) }
        }
        return presented
    }

    /// Step 6: the publisher-made values, the counts, and the redacted record as a reader sees it.
    func render(
        _ map: DisclosureMap, decisions: [Decision], presented: Set<Int>, report: inout RedactionReport
    ) -> ([PublisherValue], JSONValue) {
        var values: [PublisherValue] = []
        var renderer = RenderTree()
        for (leaf, decision) in zip(map.leaves, decisions) {
            let visible = leaf.owner.map { presented.contains($0) } ?? true
            switch decision {
            case .original where visible:
                report.original += 1
                renderer.insert(leaf.path, segment: leaf.segment, value: leaf.value)
            case .original, .withheld:
                report.withheld += 1
            case .publisher(let value):
                report.withheld += 1
                values.append(value)
                renderer.insert(leaf.path, segment: leaf.segment, value: .string(value.value))
            }
        }
        return (values, renderer.json())
    }

    /// Whether a path is a person's name (`…/names/<script>`, `…/names/other/N/value`, `…/name`).
    public static func isNameField(_ path: [RecordPathStep]) -> Bool {
        path.contains { step in
            if case .key(let k) = step { return k == "names" || k == "name" }
            return false
        }
    }

    /// The whole name and its distinctive parts (words of three or more letters; CJK names are kept whole).
    public static func nameTokens(_ name: String) -> [String] {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard trimmed.count >= 2 else { return [] }
        var tokens = [trimmed]
        let words = trimmed.split { !$0.isLetter }.map(String.init)
        if words.count > 1 { tokens += words.filter { $0.count >= 3 } }
        return tokens
    }

    /// Whether `text` (lowercased) contains any of `names` as Foundation's search finds it (canonical equivalence).
    public static func mentions(_ text: String, anyOf names: Set<String>) -> Bool {
        NameSearch(names).isMentioned(in: text)
    }

    /// The protected names of one record, prepared once for searching each of its texts.
    ///
    /// Foundation's search (canonically equivalent text, not just equal bytes) decides, but it is slow, and most
    /// texts cannot hold a given name at all: a Russian sentence never holds an Uyghur name. So each name keeps the
    /// starters of its canonical decomposition (its scalars of combining class 0, in order), and Foundation is asked
    /// only when the text's starters hold the name's as one contiguous run. That is a necessary condition: a match is
    /// a stretch of the text canonically equivalent to the name; decomposing a stretch decomposes each of its scalars
    /// in place, and canonical ordering moves only combining marks, never across a starter. So the stretch's
    /// starters are the name's, and they are a contiguous run of the whole text's.
    struct NameSearch {
        struct Name {
            var text: String
            var ascii: Bool
            /// The scalars of combining class 0 in the name's canonical decomposition (an ASCII name's bytes); empty
            /// when the name has none (then Foundation is always asked).
            var starters: [UInt32]
        }
        var names: [Name]

        init(_ names: Set<String>) {
            // Sorted so that the search runs the same way on every run (a set's order is seeded per process).
            self.names = names.sorted().map { name in
                Name(text: name, ascii: name.utf8.allSatisfy { $0 < 0x80 }, starters: Self.starters(name))
            }
        }

        /// The starters of a string's canonical decomposition (an ASCII string is its own decomposition).
        static func starters(_ text: String) -> [UInt32] {
            if text.utf8.allSatisfy({ $0 < 0x80 }) { return text.utf8.map(UInt32.init) }
            return text.decomposedStringWithCanonicalMapping.unicodeScalars.compactMap {
                $0.properties.canonicalCombiningClass == .notReordered ? $0.value : nil
            }
        }

        /// Whether `text`, lowercased, contains one of the names.
        func isMentioned(in text: String) -> Bool {
            guard !names.isEmpty else { return false }
            let lower = text.lowercased()
            let ascii = lower.utf8.allSatisfy { $0 < 0x80 }
            let textStarters = Self.starters(lower)
            return names.contains { name in
                // A name without starters (combining marks only) passes the filter: an empty run is in every text.
                guard Redactor.containsRun(textStarters, name.starters) else { return false }
                // Between ASCII strings the starters are the bytes, and Foundation's search is a plain byte search:
                // the run found is the answer.
                return ascii && name.ascii ? true : lower.contains(name.text)
            }
        }
    }

    /// Whether `needle` occurs in `haystack` as one contiguous run.
    static func containsRun<Element: Equatable>(_ haystack: [Element], _ needle: [Element]) -> Bool {
        guard !needle.isEmpty else { return true }
        guard needle.count <= haystack.count else { return false }
        let first = needle[0]
        var i = 0
        while i <= haystack.count - needle.count {
            if haystack[i] == first {
                var j = 1
                while j < needle.count && haystack[i + j] == needle[j] { j += 1 }
                if j == needle.count { return true }
            }
            i += 1
        }
        return false
    }

    private func decide(
        _ leaf: RecordLeaf, pointer: String, rules: ResolvedPolicy, findings: [Finding], identifierOnly: Bool,
        report: inout RedactionReport
    ) throws -> Decision {
        guard let rule = rules.rule(for: leaf.path) else {
            report.notInPolicy += 1
            return .withheld(notInPolicy: true)
        }
        var action = rule.action
        // generalize on an address: its coarse parts are the collector's own values; finer parts go.
        if action.op == .generalize, action.kind == .address {
            let below = leaf.path.dropFirst(rule.path.steps.count)
            guard case .key(let part)? = below.first, action.keptAddressParts.contains(part) else {
                return .withheld(notInPolicy: false)
            }
            action.op = .keep
        }
        switch action.op {
        case .strip:
            return .withheld(notInPolicy: false)
        case .keep:
            if findings.isEmpty { return .original }
            if findings.count == 1 && identifierOnly {
                let finding = findings[0]
                let identifierAction = rules.identifierAction(finding.kind)
                var counts = report.identifiers[finding.kind.rawValue, default: [:]]
                counts[identifierAction.op.rawValue, default: 0] += 1
                report.identifiers[finding.kind.rawValue] = counts
                if identifierAction.op == .keep { return .original }
                let made = try identifierAction.publisherValue(for: finding.value, key: pseudonymKey)
                if let made {
                    return .publisher(
                        PublisherValue(
                            path: pointer, segment: leaf.segment, op: identifierAction.op.rawValue,
                            kind: finding.kind.rawValue, value: made))
                }
                guard leaf.segment != nil else { return .withheld(notInPolicy: false) }
                return .publisher(
                    PublisherValue(
                        path: pointer, segment: leaf.segment, op: "strip", kind: finding.kind.rawValue,
                        value: RedactionMarker.removed(finding.kind)))
            }
            for finding in findings { report.textWithheldWhole[finding.kind.rawValue, default: 0] += 1 }
            return .publisher(
                PublisherValue(
                    path: pointer, segment: leaf.segment, op: "withhold", kind: nil, value: RedactionMarker.textWithheld
                ))
        case .pseudonymize, .mask, .generalize:
            guard case .string(let text) = leaf.value, leaf.segment == nil,
                let made = try action.publisherValue(for: text, key: pseudonymKey)
            else { return .withheld(notInPolicy: false) }
            report.fields[action.op.rawValue, default: 0] += 1
            var kind: String?
            if case .identifier(let k) = action.kind { kind = k.rawValue }
            return .publisher(
                PublisherValue(path: pointer, segment: nil, op: action.op.rawValue, kind: kind, value: made))
        }
    }
}
