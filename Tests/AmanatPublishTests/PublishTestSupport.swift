import AmanatCrypto
import AmanatRecords
import AmanatRedaction
import AmanatTestSupport
import Foundation
import Testing

@testable import AmanatPublish

/// Synthetic identifiers with valid checks, built from invented parts. The check characters are computed here,
/// independently of the detectors, so a test that finds them also checks the detectors agree.
enum Synthetic {
    /// GB 11643: 17 digits and their check character (weights 2^(17-i) mod 11, characters `10X98765432`).
    static func chineseID(_ d17: String) -> String {
        precondition(d17.utf8.count == 17 && d17.utf8.allSatisfy { (0x30...0x39).contains($0) })
        var sum = 0
        for (i, byte) in d17.utf8.enumerated() { sum += Int(byte - 0x30) * ((1 << (17 - i)) % 11) }
        return d17 + String(Array("10X98765432")[sum % 11])
    }

    /// A Kazakh IIN: 11 digits and the check digit (weights 1…11, then 3…11,1,2 when the first sum gives 10);
    /// nil for the numbers that have no check digit.
    static func iin(_ d11: String) -> String? {
        precondition(d11.utf8.count == 11 && d11.utf8.allSatisfy { (0x30...0x39).contains($0) })
        let digits = d11.utf8.map { Int($0 - 0x30) }
        let first = zip(digits, 1...11).map(*).reduce(0, +) % 11
        if first != 10 { return d11 + String(first) }
        let second = zip(digits, [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]).map(*).reduce(0, +) % 11
        return second == 10 ? nil : d11 + String(second)
    }

    /// Invented county 650104 (province 65), born 1985-03-14, sequence 217.
    static let cnID = chineseID("65010419850314217")
    /// The legacy 15-digit spelling of the same number (two-digit year, no check character).
    static let cnID15 = "650104850314217"
    /// Another invented person: county 654023, born 1962-08-11, sequence 045 (check character X).
    static let otherCnID = chineseID("65402319620811045")
    /// Born 1985-03-14, century digit 3 (a man born in the 1900s), invented serial 0123.
    static let kzIIN = iin("85031430123")!
    static let kzPhone = "+7 701 555 01 23"
    static let cnMobile = "13912345678"
    static let kzPassport = "N48053599"
    static let cnPassport = "EA1234567"
    static let email = "aizhan.test@example.org"
    static let wechat = "steppe_fox88"
}

/// A collector (an organization that signs records) and the fixed pseudonym key of the publisher.
struct Collector {
    let key: Ed25519.SigningKey
    var fingerprint: String { Fingerprint.of(key.publicKey) }

    init() throws { key = try .generate() }

    func trusted(_ fingerprint: String) -> Ed25519.VerifyingKey? {
        fingerprint == self.fingerprint ? key.publicKey : nil
    }

    /// Signs `json` as a create version.
    func sign(_ json: String, policy: DisclosurePolicy = .amanatRecord) throws -> SignedVersion {
        try RecordSigner.sign(
            content: try JSONValue.parse(json), kind: .create, recordId: nil, prev: [], key: key, policy: policy,
            issuedAt: 1_767_225_600)
    }
}

/// One record published in memory: what the collector signed, what verified, and what the redactor made.
struct Publication {
    let collector: Collector
    let signed: SignedVersion
    let verified: VerifiedVersion
    let result: PublishedRecord

    var report: RedactionReport { result.report }

    /// The original disclosure (encoded) at a pointer (and text segment).
    func originalDisclosure(_ pointer: String, segment: Int? = nil) throws -> String? {
        try DisclosureMap(signed.sdjwt).sites.first {
            DisclosureMap.pointer($0.path) == pointer && $0.segment == segment
        }?.disclosure.encoded
    }

    /// The pointers (`/a/b`, or `/a/b#N` for segment N) of the disclosures the presentation holds.
    func presentedDisclosures() throws -> Set<String> {
        Set(
            try DisclosureMap(result.presentation).sites.map { Harness.key(DisclosureMap.pointer($0.path), $0.segment) }
        )
    }

    /// The scalars the presentation discloses, keyed by pointer (`/a/b`, or `/a/b#N` for segment N).
    func presented() throws -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for leaf in try DisclosureMap(result.presentation).leaves {
            out[Harness.key(DisclosureMap.pointer(leaf.path), leaf.segment)] = leaf.value
        }
        return out
    }

    /// The scalars the collector signed (every disclosure), keyed like ``presented()``.
    func originals() throws -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for leaf in try DisclosureMap(signed.sdjwt).leaves {
            out[Harness.key(DisclosureMap.pointer(leaf.path), leaf.segment)] = leaf.value
        }
        return out
    }

    /// The publisher-made values, keyed like ``presented()``.
    var values: [String: PublisherValue] {
        Dictionary(result.values.map { (Harness.key($0.path, $0.segment), $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// The segments of a signed text, in order.
    func segments(_ pointer: String) throws -> [String] {
        var pieces: [(Int, String)] = []
        for leaf in try DisclosureMap(signed.sdjwt).leaves where DisclosureMap.pointer(leaf.path) == pointer {
            if let segment = leaf.segment { pieces.append((segment, leaf.value.stringValue ?? "")) }
        }
        return pieces.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// What happened to one scalar, as a reader of the published files can tell.
    func outcome(_ pointer: String, segment: Int? = nil) throws -> Outcome {
        let key = Harness.key(pointer, segment)
        let shown = try presented()[key]
        let made = values[key]
        switch (shown, made) {
        case (let value?, nil): return .original(value)
        case (nil, let value?): return .publisher(op: value.op, kind: value.kind, value: value.value)
        case (nil, nil): return .withheld
        case (let value?, let made?): return .overlaid(value, made.value)
        }
    }
}

/// What a reader sees at one value.
enum Outcome: Equatable, CustomStringConvertible {
    /// The collector's value, presented.
    case original(JSONValue)
    /// Neither presented nor replaced.
    case withheld
    /// A value the publisher made (the original is withheld).
    case publisher(op: String, kind: String?, value: String)
    /// Both: a publisher value on a presented original (never allowed).
    case overlaid(JSONValue, String)

    var description: String {
        switch self {
        case .original(let v): return "original(\(v.canonical()))"
        case .withheld: return "withheld"
        case .publisher(let op, let kind, let value): return "publisher(\(op), \(kind ?? "-"), \(value))"
        case .overlaid(let v, let made): return "overlaid(\(v.canonical()) by \(made))"
        }
    }
}

enum Harness {
    /// A fixed test key (not a real secret) standing in for the organization's master secret.
    static let master = SecretBytes(Array(0..<32).map { UInt8($0) })
    /// Another fixed key, for showing that pseudonyms depend on the key.
    static let otherMaster = SecretBytes(Array(repeating: 0xA5, count: 32))

    static func key(_ pointer: String, _ segment: Int?) -> String {
        segment.map { "\(pointer)#\($0)" } ?? pointer
    }

    static func policy(_ yaml: String) throws -> RedactionPolicy { try RedactionPolicy.parse(Array(yaml.utf8)) }

    /// The redactor with pseudonym keys derived from `master` as `amanat publish` derives them.
    static func redactor(_ policy: RedactionPolicy, master: SecretBytes = Harness.master) -> Redactor {
        Redactor(policy: policy) { kind in
            try RedactionOperators.pseudonymKey(
                master: master, purpose: policy.purpose, recipient: policy.recipient, kind: kind)
        }
    }

    /// A policy of the base lines every test policy needs (the plain claims) plus `fields` and `identifiers`
    /// lines (each already indented by two spaces), and optional trailing text (`when:`).
    static func yaml(fields: [String], identifiers: [String] = [], tail: String = "") -> String {
        var text = "policy: test\nversion: 1\nconsent: [public, partners]\nfields:\n  schema: keep\n"
        text += "  testimony.consent: keep\n"
        for line in fields { text += "  \(line)\n" }
        text += identifiers.isEmpty ? "identifiers: {}\n" : "identifiers:\n"
        for line in identifiers { text += "  \(line)\n" }
        return text + tail
    }

    /// Signs `json` with a fresh collector key and applies the policy.
    static func publish(
        _ json: String, policy yaml: String, signing: DisclosurePolicy = .amanatRecord,
        master: SecretBytes = Harness.master, collector: Collector? = nil
    ) throws -> Publication {
        let collector = try collector ?? Collector()
        let signed = try collector.sign(json, policy: signing)
        let verified = try RecordVerifier.verify(signed.sdjwt, trustedKey: collector.trusted)
        let result = try redactor(try policy(yaml), master: master).apply(signed.sdjwt, verified: verified)
        return Publication(collector: collector, signed: signed, verified: verified, result: result)
    }

    /// A record: `schema`, testimony with consent (and `testimony` members), and the other top-level members.
    static func record(testifier: String? = nil, testimony: String = "", others: String = "") -> String {
        var parts = ["\"schema\": \"amanat-record/v1\""]
        if let testifier { parts.append("\"testifier\": {\(testifier)}") }
        parts.append("\"testimony\": {\"consent\": \"public\"\(testimony.isEmpty ? "" : ", " + testimony)}")
        if !others.isEmpty { parts.append(others) }
        return "{" + parts.joined(separator: ", ") + "}"
    }

    /// JSON string literal.
    static func quoted(_ text: String) -> String { JSONValue.string(text).serialized() }

    /// The publisher values as the annotation carries them.
    static func annotationValues(_ values: [PublisherValue]) -> [JSONValue] {
        values.map { v in
            var members: [(String, JSONValue)] = [("path", .string(v.path))]
            if let s = v.segment { members.append(("segment", .number(String(s)))) }
            members.append(("op", .string(v.op)))
            if let k = v.kind { members.append(("kind", .string(k))) }
            members.append(("value", .string(v.value)))
            return .object(members)
        }
    }

    /// What must hold for anything the redactor made: the presentation is the collector's JWT with a subset of its
    /// disclosures and verifies against the collector's key; the report counts what was presented; no publisher
    /// value sits on a presented value, equals the original it replaces, or (markers aside) is itself an identifier.
    static func checkInvariants(_ p: Publication, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let presentation = p.result.presentation
        #expect(presentation.jwt == p.signed.sdjwt.jwt, sourceLocation: sourceLocation)
        #expect(Set(presentation.disclosures).isSubset(of: p.signed.sdjwt.disclosures), sourceLocation: sourceLocation)
        let verified = try RecordVerifier.verify(presentation, trustedKey: p.collector.trusted)
        #expect(verified.versionId == p.signed.versionId, sourceLocation: sourceLocation)
        #expect(verified.disclosedCount == presentation.disclosures.count, sourceLocation: sourceLocation)
        #expect(p.report.disclosuresPresented == presentation.disclosures.count, sourceLocation: sourceLocation)
        #expect(
            p.report.disclosuresWithheld == p.signed.sdjwt.disclosures.count - presentation.disclosures.count,
            sourceLocation: sourceLocation)
        #expect(
            Annotation.overlays(p.result.values, presentation: presentation) == [],
            sourceLocation: sourceLocation)
        let originals = try p.originals()
        let detector = Detector()
        for value in p.result.values {
            let original = originals[key(value.path, value.segment)]
            #expect(
                original != nil, "a publisher value at \(value.path) replaces nothing", sourceLocation: sourceLocation)
            #expect(
                original != .string(value.value), "\(value.path) carries its original", sourceLocation: sourceLocation)
            // Markers are checked on their own (MarkerTests); every other publisher value must be no identifier.
            if value.op != "strip" && value.op != "withhold" {
                #expect(
                    detector.scan(value.value).isEmpty, "\(value.path) is an identifier", sourceLocation: sourceLocation
                )
            }
        }
    }
}

/// Splits text only at line ends (each line with its newline is one segment): a collector whose signing missed
/// the identifiers, so that an identifier shares its segment with other words.
struct LineSegmenter: TextSegmenter {
    func segments(of text: String) -> [TextSegment] {
        var result: [TextSegment] = []
        var start = 0
        let bytes = Array(text.utf8)
        for (i, byte) in bytes.enumerated() where byte == 0x0A || i == bytes.count - 1 {
            let range = start..<(i + 1)
            result.append(TextSegment(range: range, text: String(decoding: bytes[range], as: UTF8.self)))
            start = i + 1
        }
        return result
    }
}

extension DisclosurePolicy {
    /// The Amanat signing policy with the given pointers signed as plain claims instead of disclosures.
    static func amanatRecord(plain: Set<String>) -> DisclosurePolicy {
        DisclosurePolicy(isConcealable: { !plain.contains($0) && RecordSensitivity.isConcealable($0) })
    }

    /// The Amanat signing policy with transcripts split at line ends only.
    static let lineSegmented = DisclosurePolicy(
        isConcealable: { RecordSensitivity.isConcealable($0) }, segmenter: LineSegmenter())
}
