import AmanatCrypto
import AmanatRecords
import AmanatRedaction
import Foundation

// A published record is two files (Specs/policies.md, "Published files"):
//   <record-id>.sd-jwt           the collector's SD-JWT with only the disclosures the policy lets through
//   <record-id>.annotation.jws   a JWS signed by the publisher: pseudonyms, generalized values and markers

/// A value the publisher made (never an original value): a pseudonym, a masked or generalized value, or a marker.
struct PublisherValue: Codable, Equatable {
    var path: String
    var segment: Int?
    /// `pseudonymize`, `mask`, `generalize`, `strip` (a marker in text), `withhold` (text withheld whole).
    var op: String
    var kind: String?
    var value: String
}

/// What the publisher did to one record, in counts (never values).
struct RedactionReport: Codable {
    var record: String
    var version: String
    var consent: String
    /// Lines of the policy's `when:` conditions in force for this record.
    var conditions: [Int]
    /// Scalar values presented as the collector signed them.
    var original = 0
    /// Scalar values withheld (stripped, not named by the policy, or replaced by a publisher-made value).
    var withheld = 0
    /// Fields withheld because the policy does not name them (fail closed).
    var notInPolicy = 0
    /// Disclosures presented / withheld.
    var disclosuresPresented = 0
    var disclosuresWithheld = 0
    /// Identifiers found in free text, per kind and operator (`phone: {strip: 2}`).
    var identifiers: [String: [String: Int]] = [:]
    /// Structured fields replaced by publisher-made values, per operator.
    var fields: [String: Int] = [:]
    /// Pieces of text withheld whole because an identifier sat inside them with other text (a split missed at
    /// signing time), per identifier kind.
    var textWithheldWhole: [String: Int] = [:]
}

/// The result of applying a policy to one record version.
struct PublishedRecord {
    var recordId: String
    var versionId: String
    /// The record's collector (signer of its create version), who alone speaks for the testimony.
    var collector: String
    /// The signer of the presented version: the collector, or an organization that edited the record later.
    var signer: String
    /// Every organization other than the collector that signed a version of the record.
    var editors: [String]
    /// The create version's issuer-signed JWT (no disclosures) when another version is presented: it proves who
    /// the collector is (its hash is the record id).
    var origin: String?
    var presentation: SDJWT
    var values: [PublisherValue]
    var report: RedactionReport
    /// The redacted record as a reader sees it (originals + publisher-made values, markers in text).
    var rendered: JSONValue
}

/// Applies a redaction policy to a signed record version.
struct Redactor {
    let policy: RedactionPolicy
    /// Gives the pseudonym key for a kind (purpose and recipient from the policy).
    let pseudonymKey: (IdentifierKind) throws -> SecretBytes
    let detector = Detector(parallelThreshold: Int.max, threadCount: 1)

    enum Decision {
        case original
        case withheld(notInPolicy: Bool)
        case publisher(PublisherValue)
    }

    /// Why a record cannot be published under the policy at all.
    struct Refusal: Error {
        var reason: String
    }

    func apply(_ sdjwt: SDJWT, verified: VerifiedVersion) throws -> PublishedRecord {
        let map = try DisclosureMap(sdjwt)
        let content = verified.content
        let consent = content["testimony"]?["consent"]?.stringValue ?? "internal"
        let flags = Set((content["testimony"]?["riskFlags"]?.arrayValue ?? []).compactMap(\.stringValue))
        let rules = policy.resolved(consent: consent, riskFlags: flags)
        var report = RedactionReport(
            record: verified.recordId, version: verified.versionId, consent: consent,
            conditions: rules.activeConditionLines)

        // Identifiers in segmented texts are found in the whole text (context words sit in other segments).
        var textFindings: [String: [(Range<Int>, Finding)]] = [:]
        var segmentRanges: [String: [Int: Range<Int>]] = [:]
        var texts: [String: [(Int, String)]] = [:]
        for leaf in map.leaves where leaf.segment != nil {
            texts[DisclosureMap.pointer(leaf.path), default: []].append((leaf.segment!, leaf.value.stringValue ?? ""))
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
            segmentRanges[pointer] = ranges
            textFindings[pointer] = detector.scan(whole).map { ($0.range, $0) }
        }

        // Names the policy does not keep in their own fields must not leak through free text either: a piece of
        // text that contains one (or a distinctive part of one) is withheld whole.
        var protectedNames = Set<String>()
        for leaf in map.leaves where leaf.segment == nil && Self.isNameField(leaf.path) {
            guard case .string(let name) = leaf.value else { continue }
            if let rule = rules.rule(for: leaf.path), rule.action.op == .keep { continue }
            protectedNames.formUnion(Self.nameTokens(name))
        }

        var decisions: [Decision] = []
        for leaf in map.leaves {
            let pointer = DisclosureMap.pointer(leaf.path)
            var findings: [Finding] = []
            var span = 0
            if let segment = leaf.segment, let range = segmentRanges[pointer]?[segment] {
                findings = (textFindings[pointer] ?? []).filter { $0.0.overlaps(range) }.map(\.1)
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
                Self.mentions(text, anyOf: protectedNames)
            {
                report.textWithheldWhole["person_name", default: 0] += 1
                decision = .publisher(
                    PublisherValue(
                        path: pointer, segment: leaf.segment, op: "withhold", kind: nil,
                        value: "[text withheld: it named a person]"))
            }
            decisions.append(decision)
        }

        // Plain claims of the issuer-signed payload are always visible: the policy must allow them.
        for (leaf, decision) in zip(map.leaves, decisions) where leaf.owner == nil {
            if case .original = decision { continue }
            throw Refusal(
                reason:
                    "\(DisclosureMap.pointer(leaf.path)) is a plain claim in the collector's signature, so no presentation can "
                    + "withhold it, but the policy does not keep it")
        }
        if let payloadBytes = Base64URL.decode(String(sdjwt.jwt.split(separator: ".")[1])),
            !payloadBytes.withUnsafeBytes({ DocumentScanner(detector: detector).scanJSON($0) }).isEmpty
        {
            throw Refusal(reason: "the collector's signed payload itself contains an identifier in a plain claim")
        }

        // A disclosure is presented when everything it holds itself is kept and it holds something kept
        // (a value, or a presented child), no identifier is in it, and its parent is presented.
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
        let keepIndexes = Set(presented.map { map.sites[$0].index })
        var kept: [String] = []
        for (i, text) in sdjwt.disclosures.enumerated() where keepIndexes.contains(i) { kept.append(text) }
        let presentation = SDJWT(jwt: sdjwt.jwt, disclosures: kept)
        report.disclosuresPresented = kept.count
        report.disclosuresWithheld = sdjwt.disclosures.count - kept.count

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
        return PublishedRecord(
            recordId: verified.recordId, versionId: verified.versionId, collector: verified.signerFingerprint,
            signer: verified.signerFingerprint, editors: [], origin: nil, presentation: presentation, values: values,
            report: report, rendered: renderer.json())
    }

    /// Whether a path is a person's name (`…/names/<script>`, `…/names/other/N/value`, `…/name`).
    static func isNameField(_ path: [RecordPathStep]) -> Bool {
        path.contains { step in
            if case .key(let k) = step { return k == "names" || k == "name" }
            return false
        }
    }

    /// The whole name and its distinctive parts (words of three or more letters; CJK names are kept whole).
    static func nameTokens(_ name: String) -> [String] {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard trimmed.count >= 2 else { return [] }
        var tokens = [trimmed]
        let words = trimmed.split { !$0.isLetter }.map(String.init)
        if words.count > 1 { tokens += words.filter { $0.count >= 3 } }
        return tokens
    }

    static func mentions(_ text: String, anyOf names: Set<String>) -> Bool {
        guard !names.isEmpty else { return false }
        let lower = text.lowercased()
        return names.contains { lower.contains($0) }
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

/// Builds the redacted record for display: values at their paths, text segments joined in order.
struct RenderTree {
    private indirect enum Node {
        case leaf(JSONValue)
        case object([(String, Node)])
        case array([(Int, Node)])
        case text([(Int, String)])
    }

    private var root: Node = .object([])

    mutating func insert(_ path: [RecordPathStep], segment: Int?, value: JSONValue) {
        root = Self.insert(root, path[...], segment: segment, value: value)
    }

    private static func insert(
        _ node: Node, _ path: ArraySlice<RecordPathStep>, segment: Int?, value: JSONValue
    ) -> Node {
        guard let step = path.first else {
            if let segment {
                if case .text(var pieces) = node {
                    pieces.append((segment, value.stringValue ?? ""))
                    return .text(pieces)
                }
                return .text([(segment, value.stringValue ?? "")])
            }
            return .leaf(value)
        }
        switch step {
        case .key(let key):
            var members: [(String, Node)] = []
            if case .object(let existing) = node { members = existing }
            if let i = members.firstIndex(where: { $0.0 == key }) {
                members[i].1 = insert(members[i].1, path.dropFirst(), segment: segment, value: value)
            } else {
                members.append((key, insert(.object([]), path.dropFirst(), segment: segment, value: value)))
            }
            return .object(members)
        case .index(let index):
            var items: [(Int, Node)] = []
            if case .array(let existing) = node { items = existing }
            if let i = items.firstIndex(where: { $0.0 == index }) {
                items[i].1 = insert(items[i].1, path.dropFirst(), segment: segment, value: value)
            } else {
                items.append((index, insert(.object([]), path.dropFirst(), segment: segment, value: value)))
            }
            return .array(items)
        }
    }

    func json() -> JSONValue { Self.json(root) }

    private static func json(_ node: Node) -> JSONValue {
        switch node {
        case .leaf(let v): return v
        case .object(let members): return .object(members.map { ($0.0, json($0.1)) })
        case .array(let items): return .array(items.sorted { $0.0 < $1.0 }.map { json($0.1) })
        case .text(let pieces): return .string(pieces.sorted { $0.0 < $1.0 }.map(\.1).joined())
        }
    }
}

/// The publisher's annotation: a compact JWS (EdDSA) beside the presentation.
enum Annotation {
    static let type = "amanat-annotation+jws"
    static let fileSuffix = ".annotation.jws"

    /// The master secret pseudonym keys derive from (Specs/policies.md): HKDF-SHA-256 over the organization's
    /// Ed25519 seed, info `amanat/master-secret/v1`.
    static func masterSecret(_ key: Ed25519.SigningKey) throws -> SecretBytes {
        try HKDF.deriveKey(
            inputKeyMaterial: key.seed(), salt: [], info: Array("amanat/master-secret/v1".utf8), outputByteCount: 32)
    }

    /// base64url(SHA-256(compact presentation)): binds the annotation to exactly one presentation file.
    static func presentationHash(_ sdjwt: SDJWT) throws -> String {
        Base64URL.encode(try SHA256.hash(Array(sdjwt.compact.utf8)))
    }

    static func sign(
        _ record: PublishedRecord, policyName: String, policyHash: String, key: Ed25519.SigningKey, issuedAt: Int
    ) throws -> String {
        let values: [JSONValue] = record.values.map { v in
            var members: [(String, JSONValue)] = [("path", .string(v.path))]
            if let s = v.segment { members.append(("segment", .number(String(s)))) }
            members.append(("op", .string(v.op)))
            if let k = v.kind { members.append(("kind", .string(k))) }
            members.append(("value", .string(v.value)))
            return .object(members)
        }
        var members: [(String, JSONValue)] = [
            ("rid", .string(record.recordId)),
            ("vid", .string(record.versionId)),
            ("collector", .string(record.collector)),
            ("signer", .string(record.signer)),
            ("editors", .array(record.editors.map { .string($0) })),
        ]
        if let origin = record.origin { members.append(("origin", .string(origin))) }
        let payload = JSONValue.object(
            members + [
                ("sd_hash", .string(try presentationHash(record.presentation))),
                ("policy", .object([("name", .string(policyName)), ("sha256", .string(policyHash))])),
                ("iat", .number(String(issuedAt))),
                ("values", .array(values)),
            ])
        let header = JSONValue.object([("typ", .string(type)), ("kid", .string(Fingerprint.of(key.publicKey)))])
        return try SignedJWT.sign(header: header, payload: payload, key: key)
    }

    /// A verified annotation.
    struct Verified {
        var publisherFingerprint: String
        /// The record's collector, proven by the create version the annotation carries (or the presentation
        /// itself when it is the create version).
        var collector: String
        /// Organizations other than the collector that signed versions, as the publisher lists them.
        var editors: [String]
        var policyName: String
        var policyHash: String
        var values: [PublisherValue]
    }

    /// Checks the annotation's signature against a trusted publisher key and that it belongs to `presentation`.
    /// - Throws: ``CLIError`` 1 (verification failed) or 65 (malformed), naming `file`.
    static func verify(
        _ text: String, file: String, presentation: SDJWT, verified: VerifiedVersion,
        trustedKey: (String) -> Ed25519.VerifyingKey?
    ) throws -> Verified {
        let jwt: SignedJWT
        do {
            jwt = try SignedJWT.parse(text.trimmingCharacters(in: .whitespacesAndNewlines))
            try jwt.checkAlgorithm()
        } catch let error as SDJWTError {
            throw CLIError(.malformedInput, "\(file) is not a valid annotation: \(error).")
        }
        guard jwt.header["typ"]?.stringValue == type else {
            throw CLIError(.malformedInput, "\(file) is not an Amanat annotation (typ is not \(type)).")
        }
        guard let kid = jwt.header["kid"]?.stringValue else { throw CLIError(.malformedInput, "\(file) has no kid.") }
        guard let key = trustedKey(kid) else {
            throw CLIError(
                .verificationFailed,
                "\(file) is signed by \(kid.prefix(60)), which is neither this workspace nor in the trust list. Add the "
                    + "publisher's public identity with `amanat trust add`.")
        }
        guard jwt.verify(with: key) else {
            throw CLIError(.verificationFailed, "\(file): the publisher's signature does not verify.")
        }
        let p = jwt.payload
        guard p["rid"]?.stringValue == verified.recordId, p["vid"]?.stringValue == verified.versionId,
            p["signer"]?.stringValue ?? p["collector"]?.stringValue == verified.signerFingerprint,
            let collector = p["collector"]?.stringValue
        else {
            throw CLIError(
                .verificationFailed,
                "\(file) belongs to another record, version or signer than the presentation beside it.")
        }
        try checkCollector(
            collector, origin: p["origin"]?.stringValue, file: file, verified: verified, trustedKey: trustedKey)
        let overlaid = overlays(p["values"]?.arrayValue ?? [], presentation: presentation)
        guard overlaid.isEmpty else {
            throw CLIError(
                .verificationFailed,
                "\(file) puts publisher-made values at \(overlaid.joined(separator: ", ")), where the presentation "
                    + "discloses the collector's own value: a reader could take one for the other. Do not trust it.")
        }
        guard p["sd_hash"]?.stringValue == (try presentationHash(presentation)) else {
            throw CLIError(
                .verificationFailed,
                "\(file) was made for a different presentation (sd_hash differs): disclosures were added or removed.")
        }
        var values: [PublisherValue] = []
        let detector = Detector(parallelThreshold: Int.max, threadCount: 1)
        for item in p["values"]?.arrayValue ?? [] {
            guard let path = item["path"]?.stringValue, let op = item["op"]?.stringValue,
                let value = item["value"]?.stringValue
            else {
                throw CLIError(.malformedInput, "\(file): a value entry lacks path, op or value.")
            }
            var segment: Int?
            if case .number(let n)? = item["segment"] { segment = Int(n) }
            guard detector.scan(value).isEmpty else {
                throw CLIError(
                    .verificationFailed,
                    "\(file): the annotation at \(path) carries an identifier, not a publisher-made value.")
            }
            values.append(
                PublisherValue(path: path, segment: segment, op: op, kind: item["kind"]?.stringValue, value: value))
        }
        return Verified(
            publisherFingerprint: kid, collector: collector,
            editors: (p["editors"]?.arrayValue ?? []).compactMap(\.stringValue),
            policyName: p["policy"]?["name"]?.stringValue ?? "?",
            policyHash: p["policy"]?["sha256"]?.stringValue ?? "?", values: values)
    }
}

extension Annotation {
    /// Checks who collected the record: the collector signed the presentation itself when it is the create
    /// version; otherwise `origin` must be the create version's JWT (its hash is the record id), signed by the
    /// collector.
    static func checkCollector(
        _ collector: String, origin: String?, file: String, verified: VerifiedVersion,
        trustedKey: (String) -> Ed25519.VerifyingKey?
    ) throws {
        if verified.versionId == verified.recordId {
            guard collector == verified.signerFingerprint else {
                throw CLIError(
                    .verificationFailed,
                    "\(file) names a collector other than the signer of the record's first version.")
            }
            return
        }
        guard let origin, (try? SignedVersion.versionId(jwt: origin)) == verified.recordId,
            let jwt = try? SignedJWT.parse(origin), jwt.header["kid"]?.stringValue == collector,
            jwt.payload["kind"]?.stringValue == VersionKind.create.rawValue
        else {
            throw CLIError(
                .verificationFailed,
                "\(file) does not prove who collected the record (no first version whose hash is the record id).")
        }
        guard let key = trustedKey(collector) else {
            throw CLIError(
                .verificationFailed,
                "\(file): the record was collected by \(collector), which is neither this workspace nor in the trust "
                    + "list. Add the collector's public identity with `amanat trust add`.")
        }
        guard jwt.verify(with: key) else {
            throw CLIError(
                .verificationFailed, "\(file): the collector's signature on the record's first version does not verify."
            )
        }
    }

    /// The paths where publisher-made `values` sit on a value the presentation discloses (an original the reader
    /// would see twice, once in the publisher's words). Publishing never makes one; verification refuses them.
    static func overlays(_ values: [JSONValue], presentation: SDJWT) -> [String] {
        guard let map = try? DisclosureMap(presentation) else { return [] }
        var disclosed = Set<String>()
        var texts = Set<String>()
        for leaf in map.leaves {
            let pointer = DisclosureMap.pointer(leaf.path)
            if let segment = leaf.segment {
                disclosed.insert(pointer + "#\(segment)")
                texts.insert(pointer)
            } else {
                disclosed.insert(pointer)
            }
        }
        var result: [String] = []
        for item in values {
            guard let path = item["path"]?.stringValue else { continue }
            var segment: Int?
            if case .number(let n)? = item["segment"] { segment = Int(n) }
            let hit: Bool
            if let segment {
                hit = disclosed.contains(path + "#\(segment)")
            } else {
                hit =
                    disclosed.contains(path) || texts.contains(path)
                    || disclosed.contains { $0.hasPrefix(path + "/") }
            }
            if hit { result.append(segment.map { "\(path) piece \($0)" } ?? path) }
        }
        return result
    }
}

/// Verifies a published file: the presentation against the collector's key, and the annotation beside it (if any)
/// against the publisher's.
enum PublishedFile {
    /// - Throws: ``SDJWTError`` when the presentation does not verify; ``CLIError`` when the annotation does not.
    static func verify(
        _ path: String, keys: [String: Ed25519.VerifyingKey]
    ) throws -> (VerifiedVersion, Annotation.Verified?) {
        let text = String(
            decoding: try Workspace.readFile(URL(fileURLWithPath: path), what: "SD-JWT file"), as: UTF8.self)
        let sdjwt = try SDJWT.parse(text)
        let verified = try RecordVerifier.verify(sdjwt, trustedKey: { keys[$0] })
        let annotationPath = VerifyCommand.annotationPath(for: path)
        guard FileManager.default.fileExists(atPath: annotationPath) else { return (verified, nil) }
        let annotation = String(
            decoding: try Workspace.readFile(URL(fileURLWithPath: annotationPath), what: "annotation"), as: UTF8.self)
        return (
            verified,
            try Annotation.verify(
                annotation, file: annotationPath, presentation: sdjwt, verified: verified, trustedKey: { keys[$0] })
        )
    }
}
