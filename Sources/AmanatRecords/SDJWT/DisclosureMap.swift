import AmanatCrypto
import AmanatRedaction

/// Where one disclosure sits in a record: its path, the text segment it is (for transcripts), its parent disclosure.
public struct DisclosureSite: Sendable {
    public var index: Int
    public var disclosure: Disclosure
    public var path: [RecordPathStep]
    public var segment: Int?
    public var parent: Int?
}

/// A scalar in the record and the disclosure that holds it (nil: a plain claim of the issuer-signed payload).
public struct RecordLeaf: Sendable {
    public var path: [RecordPathStep]
    /// `path` as a JSON Pointer (``DisclosureMap/pointer(_:)``), made once while walking.
    public var pointer: String
    public var segment: Int?
    public var value: JSONValue
    public var owner: Int?
}

/// The issuer-signed payload walked together with the disclosures: every disclosure with its JSON Pointer in the
/// record, and every scalar with the disclosure that holds it.
public struct DisclosureMap: Sendable {
    public private(set) var sites: [DisclosureSite] = []
    public private(set) var leaves: [RecordLeaf] = []
    private var byDigest: [String: (Int, Disclosure)] = [:]

    /// - Throws: ``SDJWTError`` for an unreadable JWT or disclosure.
    public init(_ sdjwt: SDJWT) throws {
        let sha256 = try ReusableSHA256()
        let disclosures = try sdjwt.disclosures.enumerated().map {
            try Disclosure(encoded: $0.element, index: $0.offset, sha256: sha256)
        }
        let jwt = try SignedJWT.parse(sdjwt.jwt)
        guard let rec = jwt.payload["rec"] else { throw SDJWTError.malformed("missing rec object") }
        try self.init(rec: rec, disclosures: disclosures)
    }

    /// The map of an SD-JWT whose payload's `rec` (as signed, digests unresolved) and disclosures (in their order)
    /// a verifier has parsed already (``RecordVerifier/verifyMapping(_:trustedKey:)``).
    init(rec: JSONValue, disclosures: [Disclosure]) throws {
        byDigest.reserveCapacity(disclosures.count)
        for (i, d) in disclosures.enumerated() { byDigest[d.digest] = (i, d) }
        try walk(rec, path: [], pointer: "", owner: nil, depth: 0)
    }

    public static func pointer(_ path: [RecordPathStep]) -> String {
        path.reduce(into: "") { $0 += step($1) }
    }

    /// One step of a JSON Pointer: `/` and the key (`~` and `/` escaped) or the index.
    public static func step(_ step: RecordPathStep) -> String {
        switch step {
        case .key(let key):
            // Nearly no key needs escaping, and Foundation's replacement costs more than the check.
            guard key.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else {
                return "/" + key
            }
            return "/" + key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
        case .index(let i): return "/" + String(i)
        }
    }

    private static func digest(_ item: JSONValue) -> String? {
        guard case .object(let members) = item, members.count == 1, members[0].0 == "..." else { return nil }
        return members[0].1.stringValue
    }

    private mutating func addSite(
        _ index: Int, _ d: Disclosure, _ path: [RecordPathStep], segment: Int?, parent: Int?
    ) -> Int {
        sites.append(DisclosureSite(index: index, disclosure: d, path: path, segment: segment, parent: parent))
        return sites.count - 1
    }

    private mutating func walk(
        _ value: JSONValue, path: [RecordPathStep], pointer: String, owner: Int?, depth: Int
    ) throws {
        guard depth < 64 else { throw SDJWTError.tooLarge("the payload nesting") }
        switch value {
        case .object(let members):
            if members.count == 1, members[0].0 == "segments", let items = members[0].1.arrayValue,
                DisclosurePolicy.defaultSegmented(pointer)
            {
                for (i, item) in items.enumerated() {
                    if let d = Self.digest(item) {
                        guard let (index, disclosure) = byDigest[d] else { continue }
                        let site = addSite(index, disclosure, path, segment: i, parent: owner)
                        leaves.append(
                            RecordLeaf(path: path, pointer: pointer, segment: i, value: disclosure.value, owner: site))
                    } else {
                        leaves.append(RecordLeaf(path: path, pointer: pointer, segment: i, value: item, owner: owner))
                    }
                }
                return
            }
            for (key, child) in members where key != "_sd" {
                let step = RecordPathStep.key(key)
                try walk(child, path: path + [step], pointer: pointer + Self.step(step), owner: owner, depth: depth + 1)
            }
            for item in value["_sd"]?.arrayValue ?? [] {
                guard let d = item.stringValue, let (index, disclosure) = byDigest[d], let name = disclosure.name else {
                    continue
                }
                let step = RecordPathStep.key(name)
                let childPath = path + [step]
                let site = addSite(index, disclosure, childPath, segment: nil, parent: owner)
                try walk(
                    disclosure.value, path: childPath, pointer: pointer + Self.step(step), owner: site, depth: depth + 1
                )
            }
        case .array(let items):
            for (i, item) in items.enumerated() {
                let step = RecordPathStep.index(i)
                let childPointer = pointer + Self.step(step)
                if let d = Self.digest(item) {
                    guard let (index, disclosure) = byDigest[d] else { continue }
                    let site = addSite(index, disclosure, path + [step], segment: nil, parent: owner)
                    try walk(
                        disclosure.value, path: path + [step], pointer: childPointer, owner: site, depth: depth + 1)
                } else {
                    try walk(item, path: path + [step], pointer: childPointer, owner: owner, depth: depth + 1)
                }
            }
        default:
            leaves.append(RecordLeaf(path: path, pointer: pointer, segment: nil, value: value, owner: owner))
        }
    }
}
