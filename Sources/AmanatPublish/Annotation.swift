import AmanatCrypto
import AmanatRecords
import AmanatRedaction
import Foundation

/// The publisher's annotation: a compact JWS (EdDSA) beside the presentation.
public enum Annotation {
    public static let type = "amanat-annotation+jws"
    public static let fileSuffix = ".annotation.jws"

    /// base64url(SHA-256(compact presentation)): binds the annotation to exactly one presentation file.
    public static func presentationHash(_ sdjwt: SDJWT) throws -> String {
        Base64URL.encode(try SHA256.hash(Array(sdjwt.compact.utf8)))
    }

    public static func sign(
        _ record: PublishedRecord, policyName: String, policyHash: String, key: Ed25519.SigningKey, issuedAt: Int
    ) throws -> String {
        try Signer(key: key).sign(record, policyName: policyName, policyHash: policyHash, issuedAt: issuedAt)
    }

    /// Signs the annotations of a whole publication with one key, whose fingerprint (the header's `kid`) is computed
    /// once: per annotation, deriving the public key and hashing it was an eighth of the signing.
    public struct Signer: Sendable {
        let key: Ed25519.SigningKey
        let keyId: String

        public init(key: Ed25519.SigningKey) {
            self.key = key
            keyId = Fingerprint.of(key.publicKey)
        }

        /// ``Annotation/sign(_:policyName:policyHash:key:issuedAt:)`` with this signer's key.
        public func sign(
            _ record: PublishedRecord, policyName: String, policyHash: String, issuedAt: Int
        ) throws
            -> String
        {
            try Annotation.sign(
                record, policyName: policyName, policyHash: policyHash, key: key, keyId: keyId, issuedAt: issuedAt)
        }
    }

    private static func sign(
        _ record: PublishedRecord, policyName: String, policyHash: String, key: Ed25519.SigningKey, keyId: String,
        issuedAt: Int
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
        let header = JSONValue.object([("typ", .string(type)), ("kid", .string(keyId))])
        return try SignedJWT.sign(header: header, payload: payload, key: key)
    }

    /// A verified annotation.
    public struct Verified: Sendable {
        public var publisherFingerprint: String
        /// The record's collector, proven by the create version the annotation carries (or the presentation
        /// itself when it is the create version).
        public var collector: String
        /// Organizations other than the collector that signed versions, as the publisher lists them.
        public var editors: [String]
        public var policyName: String
        public var policyHash: String
        public var values: [PublisherValue]
    }

    /// Checks the annotation's signature against a trusted publisher key and that it belongs to `presentation`.
    /// - Throws: ``PublicationError`` (`verificationFailed` or `malformed`), naming `file`.
    public static func verify(
        _ text: String, file: String, presentation: SDJWT, verified: VerifiedVersion,
        trustedKey: (String) -> Ed25519.VerifyingKey?
    ) throws -> Verified {
        let (jwt, kid) = try PublisherJWS.open(text, file: file, type: type, what: "annotation", trustedKey: trustedKey)
        let p = jwt.payload
        guard p["rid"]?.stringValue == verified.recordId, p["vid"]?.stringValue == verified.versionId,
            p["signer"]?.stringValue ?? p["collector"]?.stringValue == verified.signerFingerprint,
            let collector = p["collector"]?.stringValue
        else {
            throw PublicationError(
                .verificationFailed,
                "\(file) belongs to another record, version or signer than the presentation beside it.")
        }
        try checkCollector(
            collector, origin: p["origin"]?.stringValue, file: file, verified: verified, trustedKey: trustedKey)
        guard p["sd_hash"]?.stringValue == (try presentationHash(presentation)) else {
            throw PublicationError(
                .verificationFailed,
                "\(file) was made for a different presentation (sd_hash differs): disclosures were added or removed.")
        }
        var values: [PublisherValue] = []
        let detector = Detector(parallelThreshold: Int.max, threadCount: 1)
        for item in p["values"]?.arrayValue ?? [] {
            guard let path = item["path"]?.stringValue, let op = item["op"]?.stringValue,
                let value = item["value"]?.stringValue
            else {
                throw PublicationError(.malformed, "\(file): a value entry lacks path, op or value.")
            }
            var segment: Int?
            if case .number(let n)? = item["segment"] { segment = Int(n) }
            guard detector.scan(value).isEmpty else {
                throw PublicationError(
                    .verificationFailed,
                    "\(file): the annotation at \(UntrustedText.printable(path)) carries an identifier, not a publisher-made value."
                )
            }
            values.append(
                PublisherValue(path: path, segment: segment, op: op, kind: item["kind"]?.stringValue, value: value))
        }
        let overlaid = overlays(values, presentation: presentation)
        guard overlaid.isEmpty else {
            throw PublicationError(
                .verificationFailed,
                "\(file) puts publisher-made values at \(overlaid.map(UntrustedText.printable).joined(separator: ", ")), where the presentation "
                    + "discloses the collector's own value: a reader could take one for the other. Do not trust it.")
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
    public static func checkCollector(
        _ collector: String, origin: String?, file: String, verified: VerifiedVersion,
        trustedKey: (String) -> Ed25519.VerifyingKey?
    ) throws {
        if verified.versionId == verified.recordId {
            guard collector == verified.signerFingerprint else {
                throw PublicationError(
                    .verificationFailed,
                    "\(file) names a collector other than the signer of the record's first version.")
            }
            return
        }
        guard let origin, (try? SignedVersion.versionId(jwt: origin)) == verified.recordId,
            let jwt = try? SignedJWT.parse(origin), jwt.header["kid"]?.stringValue == collector,
            jwt.payload["kind"]?.stringValue == VersionKind.create.rawValue
        else {
            throw PublicationError(
                .verificationFailed,
                "\(file) does not prove who collected the record (no first version whose hash is the record id).")
        }
        guard let key = trustedKey(collector) else {
            throw PublicationError(
                .verificationFailed,
                "\(file): the record was collected by \(UntrustedText.printable(collector)), which is neither this workspace nor in the trust "
                    + "list (nor among the identities given). Add the collector's public identity with `amanat trust add`, "
                    + "or give it with `amanat verify --identity FILE` (publish writes it beside the records as <fingerprint>.identity.json)."
            )
        }
        guard jwt.verify(with: key) else {
            throw PublicationError(
                .verificationFailed, "\(file): the collector's signature on the record's first version does not verify."
            )
        }
    }

    /// The paths where publisher-made `values` sit on a value the presentation discloses (an original the reader
    /// would see twice, once in the publisher's words). Publishing never makes one; verification refuses them.
    public static func overlays(_ values: [PublisherValue], presentation: SDJWT) -> [String] {
        guard !values.isEmpty, let map = try? DisclosureMap(presentation) else { return [] }
        return overlays(values, disclosing: map.leaves)
    }

    /// ``overlays(_:presentation:)`` for the presentation of the version `source` maps that keeps the disclosures
    /// at `kept` (indexes among the version's disclosures), without decoding it again. A reader walking that
    /// presentation finds a value when it is a plain claim or every disclosure on the way down to it is kept: the
    /// walk enters only disclosures the presentation holds.
    static func overlays(_ values: [PublisherValue], source: DisclosureMap, kept: Set<Int>) -> [String] {
        guard !values.isEmpty else { return [] }
        var visible: [Bool?] = Array(repeating: nil, count: source.sites.count)
        func isVisible(_ site: Int) -> Bool {
            if let known = visible[site] { return known }
            let result = kept.contains(source.sites[site].index) && (source.sites[site].parent.map(isVisible) ?? true)
            visible[site] = result
            return result
        }
        return overlays(values, disclosing: source.leaves.filter { $0.owner.map(isVisible) ?? true })
    }

    /// The paths of `values` that sit on one of `leaves` (the values a presentation discloses), or on an object,
    /// array or text holding one.
    private static func overlays(_ values: [PublisherValue], disclosing leaves: [RecordLeaf]) -> [String] {
        var disclosed = Set<String>()
        var texts = Set<String>()
        for leaf in leaves {
            let pointer = leaf.pointer
            if let segment = leaf.segment {
                disclosed.insert(pointer + "#\(segment)")
                texts.insert(pointer)
            } else {
                disclosed.insert(pointer)
            }
        }
        // Every P such that a disclosed pointer starts with P + "/" (each of its prefixes that ends before a "/"),
        // so that a value on an object or array holding disclosed values is found without scanning them all.
        var holders = Set<Substring>()
        for pointer in disclosed {
            var index = pointer.startIndex
            while let slash = pointer[index...].firstIndex(of: "/") {
                holders.insert(pointer[..<slash])
                index = pointer.index(after: slash)
            }
        }
        var result: [String] = []
        for item in values {
            let (path, segment) = (item.path, item.segment)
            let hit: Bool
            if let segment {
                hit = disclosed.contains(path + "#\(segment)")
            } else {
                hit = disclosed.contains(path) || texts.contains(path) || holders.contains(Substring(path))
            }
            if hit { result.append(segment.map { "\(path) piece \($0)" } ?? path) }
        }
        return result
    }
}
