import AmanatCrypto
import AmanatRedaction
import Foundation

/// What a version does to its record (SYNC.md).
public enum VersionKind: String, Sendable, Codable, CaseIterable {
    case create, edit, merge, retract
}

/// Which parts of a record become their own disclosure, and which strings are split into segments.
public struct DisclosurePolicy: Sendable {
    /// Whether the field at a JSON Pointer (e.g. `/testifier/cnResidentId`, `/detainees/0`) is identifying or
    /// sensitive, i.e. must be its own disclosure.
    public var isConcealable: @Sendable (String) -> Bool
    /// Whether the string at a JSON Pointer is split into segments (sentences, identifiers), each its own disclosure.
    public var isSegmented: @Sendable (String) -> Bool
    /// How segmented text is split.
    public var segmenter: any TextSegmenter

    public init(
        isConcealable: @escaping @Sendable (String) -> Bool,
        isSegmented: @escaping @Sendable (String) -> Bool = DisclosurePolicy.defaultSegmented,
        segmenter: any TextSegmenter = SimpleTextSegmenter()
    ) {
        self.isConcealable = isConcealable
        self.isSegmented = isSegmented
        self.segmenter = segmenter
    }

    /// Transcripts and translation texts.
    public static let defaultSegmented: @Sendable (String) -> Bool = { pointer in
        pointer == "/testimony/transcript"
            || (pointer.hasPrefix("/testimony/translations/") && pointer.hasSuffix("/text"))
    }
}

/// A signed record version: an SD-JWT whose payload carries the record id, parents, kind, time, attachment digests
/// and the record content with every identifying or sensitive field replaced by a salted digest.
public struct SignedVersion: Sendable, Equatable {
    public static let jwtType = "amanat-record+sd-jwt"

    public var sdjwt: SDJWT
    /// base64url(SHA-256(issuer-signed JWT)).
    public var versionId: String
    /// The version id of the record's `create` version.
    public var recordId: String
    public var kind: VersionKind
    public var prev: [String]
    public var issuedAt: Int
    public var signerFingerprint: String

    /// The version id of an issuer-signed JWT.
    public static func versionId(jwt: String) throws -> String {
        try versionId(jwt: jwt, using: ReusableSHA256())
    }

    /// The version id, hashed with a context the caller keeps (a verifier's).
    static func versionId(jwt: String, using sha256: ReusableSHA256) throws -> String {
        Base64URL.encode(try sha256.digest(utf8: jwt).bytes)
    }
}

/// Signs record versions as SD-JWTs (RFC 9901).
public enum RecordSigner {
    /// Signs `content` (a record as JSON) as a new version.
    /// - Parameters:
    ///   - recordId: nil for `create` (the record id is then this version's id), the record's id otherwise.
    ///   - prev: parent version ids (empty for `create`); stored sorted.
    ///   - attachments: SHA-256 hex digests of the record's attachments.
    public static func sign(
        content: JSONValue, kind: VersionKind, recordId: String?, prev: [String], attachments: [String] = [],
        key: Ed25519.SigningKey, policy: DisclosurePolicy, issuedAt: Int = Int(Date().timeIntervalSince1970),
        extraClaims: [(String, JSONValue)] = []
    ) throws -> SignedVersion {
        guard content.objectValue != nil else { throw SDJWTError.malformed("a record must be a JSON object") }
        guard (kind == .create) == (recordId == nil), (kind == .create) == prev.isEmpty else {
            throw SDJWTError.malformed("a create version has no record id and no parents; other kinds have both")
        }
        var disclosures: [Disclosure] = []
        let maker = try DisclosureMaker()
        let concealed = try conceal(content, pointer: "", policy: policy, maker: maker, into: &disclosures)
        var payload: [(String, JSONValue)] = [
            ("_sd_alg", .string("sha-256")),
            ("iat", .number(String(issuedAt))),
            ("kind", .string(kind.rawValue)),
            ("prev", .array(prev.sorted().map { .string($0) })),
        ]
        if let recordId { payload.append(("rid", .string(recordId))) }
        payload.append(("att", .array(attachments.sorted().map { .string($0) })))
        payload.append(("rec", concealed))
        for (name, value) in extraClaims where !payload.contains(where: { $0.0 == name }) && name != "_sd" {
            payload.append((name, value))
        }
        let fingerprint = Fingerprint.of(key.publicKey)
        let header = JSONValue.object([("typ", .string(SignedVersion.jwtType)), ("kid", .string(fingerprint))])
        let jwt = try SignedJWT.sign(header: header, payload: .object(payload), key: key)
        // Disclosures in a random order would leak nothing more than document order; keep document order.
        let sdjwt = SDJWT(jwt: jwt, disclosures: disclosures.map(\.encoded))
        let versionId = try SignedVersion.versionId(jwt: jwt)
        return SignedVersion(
            sdjwt: sdjwt, versionId: versionId, recordId: recordId ?? versionId, kind: kind, prev: prev.sorted(),
            issuedAt: issuedAt, signerFingerprint: fingerprint)
    }

    /// Replaces concealable fields below `value` by digests, children first.
    static func conceal(
        _ value: JSONValue, pointer: String, policy: DisclosurePolicy, maker: DisclosureMaker,
        into disclosures: inout [Disclosure]
    ) throws -> JSONValue {
        switch value {
        case .object(let members):
            var plain: [(String, JSONValue)] = []
            var digests: [String] = []
            for (key, child) in members {
                guard key != "_sd", key != "...", key != "_sd_alg" else { throw SDJWTError.reservedClaimName(key) }
                let childPointer = pointer + "/" + escape(key)
                let processed = try processChild(
                    child, pointer: childPointer, policy: policy, maker: maker, into: &disclosures)
                if policy.isConcealable(childPointer) {
                    let d = try maker.make(name: key, value: processed)
                    disclosures.append(d)
                    digests.append(d.digest)
                } else {
                    plain.append((key, processed))
                }
            }
            if !digests.isEmpty { plain.append(("_sd", .array(digests.sorted().map { .string($0) }))) }
            return .object(plain)
        case .array(let items):
            var out: [JSONValue] = []
            for (i, item) in items.enumerated() {
                let childPointer = pointer + "/" + String(i)
                let processed = try processChild(
                    item, pointer: childPointer, policy: policy, maker: maker, into: &disclosures)
                if policy.isConcealable(childPointer) {
                    let d = try maker.make(name: nil, value: processed)
                    disclosures.append(d)
                    out.append(.object([("...", .string(d.digest))]))
                } else {
                    out.append(processed)
                }
            }
            return .array(out)
        default:
            return value
        }
    }

    static func processChild(
        _ child: JSONValue, pointer: String, policy: DisclosurePolicy, maker: DisclosureMaker,
        into disclosures: inout [Disclosure]
    ) throws -> JSONValue {
        if case .string(let text) = child, policy.isSegmented(pointer) {
            // Each segment (a sentence, or one identifier) is an array-element disclosure of its own.
            var items: [JSONValue] = []
            for segment in policy.segmenter.segments(of: text) {
                let d = try maker.make(name: nil, value: .string(segment.text))
                disclosures.append(d)
                items.append(.object([("...", .string(d.digest))]))
            }
            return .object([("segments", .array(items))])
        }
        return try conceal(child, pointer: pointer, policy: policy, maker: maker, into: &disclosures)
    }

    /// JSON Pointer escaping (RFC 6901).
    static func escape(_ key: String) -> String {
        guard key.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return key }
        return key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }
}

/// Makes the disclosures of one signing: salts drawn in bulk (``DisclosureSalts``), one hashing context.
struct DisclosureMaker {
    let salts = DisclosureSalts()
    let sha256: ReusableSHA256

    init() throws { sha256 = try ReusableSHA256() }

    func make(name: String?, value: JSONValue) throws -> Disclosure {
        try Disclosure(name: name, value: value, salt: try salts.next(), sha256: sha256)
    }
}

/// A version whose signature and disclosures verified.
public struct VerifiedVersion: Sendable {
    public var versionId: String
    public var recordId: String
    public var kind: VersionKind
    public var prev: [String]
    public var issuedAt: Int
    public var attachments: [String]
    public var signerFingerprint: String
    /// The record content with every presented disclosure in place (segmented text joined; withheld segments
    /// dropped).
    public var content: JSONValue
    /// How many disclosures were presented and used.
    public var disclosedCount: Int
    /// How many digests had no disclosure (withheld by a presentation).
    public var withheldCount: Int
    /// JSON Pointers of segmented texts that had withheld segments.
    public var partialTexts: [String]
    /// Whether the signed payload marks this version as an erasure request (`"erase": true`, a plain claim, so it
    /// stays recognizable after the disclosures are deleted).
    public var isErasureRequest: Bool = false
}

/// Verifies record versions (RFC 9901 §7.1).
///
/// `RecordVerifier.verify(_:trustedKey:)` checks one version. To check many, make one verifier per thread and call
/// its `verify(_:trustedKey:)`: it keeps its hashing context and decoding buffer from one version to the next.
/// A verifier is not thread-safe.
public final class RecordVerifier {
    private let sha256: ReusableSHA256
    private var scratch: [UInt8] = []

    /// - Throws: ``AmanatCrypto/CryptoError`` if OpenSSL cannot make a hashing context.
    public init() throws { sha256 = try ReusableSHA256() }

    /// Verifies a compact SD-JWT record version or presentation with a fresh verifier.
    /// - Parameter trustedKey: the Ed25519 key for a signer fingerprint, or nil if the signer is not trusted.
    /// - Throws: ``SDJWTError``.
    public static func verify(_ sdjwt: SDJWT, trustedKey: (String) -> Ed25519.VerifyingKey?) throws -> VerifiedVersion {
        try RecordVerifier().verify(sdjwt, trustedKey: trustedKey)
    }

    /// Verifies a compact SD-JWT record version or presentation.
    /// - Parameter trustedKey: the Ed25519 key for a signer fingerprint, or nil if the signer is not trusted.
    /// - Throws: ``SDJWTError``.
    public func verify(_ sdjwt: SDJWT, trustedKey: (String) -> Ed25519.VerifyingKey?) throws -> VerifiedVersion {
        try verify(sdjwt, trustedKey: trustedKey, mapping: false).version
    }

    /// ``verify(_:trustedKey:)``, and the version's ``DisclosureMap`` made from what the verification parsed (the
    /// signed `rec` and the disclosures), so that a redactor does not parse the SD-JWT a second time.
    /// - Throws: ``SDJWTError``.
    public func verifyMapping(
        _ sdjwt: SDJWT, trustedKey: (String) -> Ed25519.VerifyingKey?
    ) throws -> (version: VerifiedVersion, map: DisclosureMap) {
        let (version, map) = try verify(sdjwt, trustedKey: trustedKey, mapping: true)
        guard let map else { throw SDJWTError.malformed("missing rec object") }
        return (version, map)
    }

    private func verify(
        _ sdjwt: SDJWT, trustedKey: (String) -> Ed25519.VerifyingKey?, mapping: Bool
    ) throws -> (version: VerifiedVersion, map: DisclosureMap?) {
        var jwt = try SignedJWT.parse(sdjwt.jwt)
        try jwt.checkAlgorithm()
        guard jwt.header["typ"]?.stringValue == SignedVersion.jwtType else {
            throw SDJWTError.wrongType(String((jwt.header["typ"]?.stringValue ?? "none").prefix(40)))
        }
        guard let kid = jwt.header["kid"]?.stringValue else { throw SDJWTError.malformed("no kid in the JWT header") }
        guard let key = trustedKey(kid) else { throw SDJWTError.untrustedSigner(fingerprint: String(kid.prefix(60))) }
        guard jwt.verify(with: key) else { throw SDJWTError.badSignature }
        // The payload is moved out of `jwt` so resolving can edit its arrays in place.
        var payload = JSONValue.null
        swap(&payload, &jwt.payload)
        if let alg = payload["_sd_alg"] {
            guard alg.stringValue == "sha-256" else {
                throw SDJWTError.unsupportedDigestAlgorithm(String((alg.stringValue ?? alg.typeName).prefix(20)))
            }
        }
        var resolver = try DisclosureResolver(
            disclosures: sdjwt.disclosures, sha256: sha256, scratch: &scratch, keeping: mapping)
        // The signed `rec`, digests unresolved, for the map (held before resolving, which then copies what it edits).
        let signedRec = mapping ? payload["rec"] : nil
        // Segmented texts under /rec are joined back into strings while resolving.
        if case .object(var members) = payload {
            payload = .null
            members.removeAll { $0.0 == "_sd_alg" }
            payload = .object(members)
        }
        let resolved = try resolver.resolve(consume payload) { pointer in
            pointer.hasPrefix("/rec/") && DisclosurePolicy.defaultSegmented(String(pointer.dropFirst(4)))
        }
        guard let kindText = resolved["kind"]?.stringValue, let kind = VersionKind(rawValue: kindText) else {
            throw SDJWTError.malformed("missing or unknown kind")
        }
        guard case .number(let iatText) = resolved["iat"] ?? .null, let iat = Int(iatText) else {
            throw SDJWTError.malformed("missing or non-integer iat")
        }
        guard let prevItems = resolved["prev"]?.arrayValue else { throw SDJWTError.malformed("missing prev") }
        let prev = try prevItems.map { item -> String in
            guard let s = item.stringValue else { throw SDJWTError.malformed("a parent id is not a string") }
            return s
        }
        let attachments = try (resolved["att"]?.arrayValue ?? []).map { item -> String in
            guard let s = item.stringValue else { throw SDJWTError.malformed("an attachment digest is not a string") }
            return s
        }
        guard let rec = resolved["rec"], rec.objectValue != nil else {
            throw SDJWTError.malformed("missing rec object")
        }
        let versionId = try SignedVersion.versionId(jwt: sdjwt.jwt, using: sha256)
        let recordId: String
        if kind == .create {
            guard resolved["rid"] == nil, prev.isEmpty else {
                throw SDJWTError.malformed("a create version with rid or prev")
            }
            recordId = versionId
        } else {
            guard let rid = resolved["rid"]?.stringValue, !prev.isEmpty else {
                throw SDJWTError.malformed("a \(kind.rawValue) version without rid or prev")
            }
            recordId = rid
        }
        let content = rec
        // Segmented texts whose segments array lost withheld elements (pointers are payload paths under /rec).
        let partial = resolver.arraysWithWithheldElements.filter { $0.hasPrefix("/rec/") && $0.hasSuffix("/segments") }
            .map { String($0.dropFirst(4).dropLast("/segments".count)) }.sorted()
        var result = VerifiedVersion(
            versionId: versionId, recordId: recordId, kind: kind, prev: prev, issuedAt: iat, attachments: attachments,
            signerFingerprint: kid, content: content, disclosedCount: resolver.usedCount,
            withheldCount: resolver.withheldCount, partialTexts: partial)
        result.isErasureRequest = kind == .retract && resolved["erase"] == .bool(true)
        let map = try signedRec.map { try DisclosureMap(rec: $0, disclosures: resolver.parsed) }
        return (result, map)
    }
}
