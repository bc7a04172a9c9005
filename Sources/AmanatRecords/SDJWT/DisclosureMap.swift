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
    public init(_ sdjwt: SDJWT) throws { try self.init(sdjwt, reusing: nil) }

    /// The map of `sdjwt` (a presentation made from the version `known` maps), taking each disclosure that `known`
    /// already decoded from it (a disclosure is a function of its encoded text) instead of decoding and hashing it
    /// again; the payload is walked anew.
    /// - Throws: ``SDJWTError`` for an unreadable JWT or disclosure.
    public init(_ sdjwt: SDJWT, reusing known: DisclosureMap?) throws {
        var decoded: [String: Disclosure] = [:]
        for site in known?.sites ?? [] { decoded[site.disclosure.encoded] = site.disclosure }
        for (i, text) in sdjwt.disclosures.enumerated() {
            let d = try decoded[text] ?? Disclosure(encoded: text, index: i)
            byDigest[d.digest] = (i, d)
        }
        let jwt = try SignedJWT.parse(sdjwt.jwt)
        guard let rec = jwt.payload["rec"] else { throw SDJWTError.malformed("missing rec object") }
        try walk(rec, path: [], owner: nil, depth: 0)
    }

    public static func pointer(_ path: [RecordPathStep]) -> String {
        path.map { step -> String in
            switch step {
            case .key(let k):
                return "/" + k.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
            case .index(let i): return "/\(i)"
            }
        }.joined()
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

    private mutating func walk(_ value: JSONValue, path: [RecordPathStep], owner: Int?, depth: Int) throws {
        guard depth < 64 else { throw SDJWTError.tooLarge("the payload nesting") }
        switch value {
        case .object(let members):
            if members.count == 1, members[0].0 == "segments", let items = members[0].1.arrayValue,
                DisclosurePolicy.defaultSegmented(Self.pointer(path))
            {
                for (i, item) in items.enumerated() {
                    if let d = Self.digest(item) {
                        guard let (index, disclosure) = byDigest[d] else { continue }
                        let site = addSite(index, disclosure, path, segment: i, parent: owner)
                        leaves.append(RecordLeaf(path: path, segment: i, value: disclosure.value, owner: site))
                    } else {
                        leaves.append(RecordLeaf(path: path, segment: i, value: item, owner: owner))
                    }
                }
                return
            }
            for (key, child) in members where key != "_sd" {
                try walk(child, path: path + [.key(key)], owner: owner, depth: depth + 1)
            }
            for item in value["_sd"]?.arrayValue ?? [] {
                guard let d = item.stringValue, let (index, disclosure) = byDigest[d], let name = disclosure.name else {
                    continue
                }
                let childPath = path + [.key(name)]
                let site = addSite(index, disclosure, childPath, segment: nil, parent: owner)
                try walk(disclosure.value, path: childPath, owner: site, depth: depth + 1)
            }
        case .array(let items):
            for (i, item) in items.enumerated() {
                if let d = Self.digest(item) {
                    guard let (index, disclosure) = byDigest[d] else { continue }
                    let site = addSite(index, disclosure, path + [.index(i)], segment: nil, parent: owner)
                    try walk(disclosure.value, path: path + [.index(i)], owner: site, depth: depth + 1)
                } else {
                    try walk(item, path: path + [.index(i)], owner: owner, depth: depth + 1)
                }
            }
        default:
            leaves.append(RecordLeaf(path: path, segment: nil, value: value, owner: owner))
        }
    }
}
