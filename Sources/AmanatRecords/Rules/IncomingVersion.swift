/// Why a version from a partner was refused: the record and version, and the rule it breaks (never a value).
public struct IncomingVersionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var recordId: String
    public var versionId: String
    public var rule: String

    /// The ids are escaped (``UntrustedText/printable(_:)``): a refused version's record id is whatever it claims.
    public var description: String {
        "version \(UntrustedText.printable(versionId)) of record \(UntrustedText.printable(recordId)): \(rule)"
    }
}

/// The checks a version that arrives from another organization passes before it is stored: the same rules a local
/// `amanat add` applies (the record schema, no control characters), plus what only a received version can get
/// wrong (a sane signing time, identifying fields left in the signed payload instead of disclosures, attachment
/// digests that do not match the record).
public enum IncomingVersion {
    /// 2000-01-01T00:00:00Z: no testimony version is older.
    public static let earliestIssuedAt = 946_684_800
    /// 2100-01-01T00:00:00Z.
    public static let latestIssuedAt = 4_102_444_800
    /// The longest reason a retraction or erasure may give (bytes).
    public static let maximumReasonBytes = 4096

    /// - Parameters:
    ///   - verified: the version, verified against the trust list.
    ///   - sdjwt: the version as received.
    ///   - mayLackDisclosures: the record has an erasure request, so its versions may travel without their
    ///     disclosures (an erased record holds no personal data). Otherwise every disclosure must be present.
    ///   - schema: the record schema (the bundled one by default).
    /// - Throws: ``IncomingVersionError`` naming the first rule broken.
    public static func validate(
        _ verified: VerifiedVersion, sdjwt: SDJWT, mayLackDisclosures: Bool, schema: RecordSchema? = nil
    ) throws(IncomingVersionError) {
        func refuse(_ rule: String) -> IncomingVersionError {
            IncomingVersionError(recordId: verified.recordId, versionId: verified.versionId, rule: rule)
        }
        guard isVersionId(verified.recordId), verified.prev.allSatisfy(isVersionId) else {
            throw refuse("its record id (rid) or a parent (prev) is not a version id (43 base64url characters)")
        }
        guard (earliestIssuedAt...latestIssuedAt).contains(verified.issuedAt) else {
            throw refuse("its signing time (iat) is not between 2000 and 2100")
        }
        for digest in verified.attachments where !isSHA256Hex(digest) {
            throw refuse("an attachment digest (att) is not 64 lowercase hexadecimal digits")
        }
        let map: DisclosureMap
        do { map = try DisclosureMap(sdjwt) } catch { throw refuse("its payload cannot be read (\(error))") }
        for leaf in map.leaves where leaf.owner == nil {
            let pointer = leaf.pointer
            if leaf.segment != nil || RecordSensitivity.isConcealable(pointer) {
                throw refuse(
                    "\(UntrustedText.printable(pointer)) is identifying or sensitive but sits in the signed payload in the clear, not in a "
                        + "disclosure of its own")
            }
        }
        if let path = controlCharacterPath(verified.content, "") {
            throw refuse("\(path.isEmpty ? "the record" : UntrustedText.printable(path)) contains a control character")
        }
        if verified.withheldCount > 0 {
            guard mayLackDisclosures else {
                throw refuse(
                    "\(verified.withheldCount) of its disclosures are missing; partners exchange whole versions "
                        + "(only erased records travel without them)")
            }
            return
        }
        if verified.kind == .retract {
            try validateTombstone(verified, refuse)
            return
        }
        guard let schema = schema ?? (try? RecordSchema.bundled()) else {
            throw refuse("the record schema bundled with amanat cannot be loaded")
        }
        if let violation = schema.validate(verified.content, limit: 1).first {
            throw refuse("the record schema is not met: \(violation)")
        }
        guard Set(verified.attachments) == Set(RecordContent.attachmentDigests(verified.content)) else {
            throw refuse("the signed attachment digests (att) differ from the record's attachments")
        }
    }

    static func validateTombstone(
        _ verified: VerifiedVersion, _ refuse: (String) -> IncomingVersionError
    ) throws(IncomingVersionError) {
        guard case .object(let members) = verified.content else { throw refuse("a retraction without content") }
        var tombstones = 0
        for (key, value) in members {
            switch key {
            case "schema":
                guard value.stringValue == RecordContent.schemaValue else {
                    throw refuse("a retraction with schema other than \(RecordContent.schemaValue)")
                }
            case RecordContent.Tombstone.retraction.rawValue, RecordContent.Tombstone.erasure.rawValue:
                tombstones += 1
                guard case .object(let inner) = value, inner.allSatisfy({ $0.0 == "reason" }),
                    let reason = value["reason"]?.stringValue, reason.utf8.count <= maximumReasonBytes
                else {
                    throw refuse(
                        "/\(UntrustedText.printable(key)) must hold only a reason of at most \(maximumReasonBytes) bytes"
                    )
                }
            default:
                throw refuse("a retraction holds the unknown member /\(UntrustedText.printable(key))")
            }
        }
        guard tombstones <= 1 else { throw refuse("a retraction that is also an erasure") }
        guard verified.attachments.isEmpty else { throw refuse("a retraction that lists attachments") }
    }

    /// Whether `text` has the form of a version (or record) id: base64url SHA-256 without padding.
    static func isVersionId(_ text: String) -> Bool {
        text.utf8.count == 43
            && text.utf8.allSatisfy {
                (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || $0 == 0x2D
                    || $0 == 0x5F
            }
    }

    static func isSHA256Hex(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// The JSON Pointer of the first string (or member name) holding a control character other than tab and line
    /// breaks.
    static func controlCharacterPath(_ value: JSONValue, _ pointer: String) -> String? {
        switch value {
        case .string(let s):
            return RecordImport.hasForbiddenControl(s) ? pointer : nil
        case .array(let items):
            for (i, item) in items.enumerated() {
                if let found = controlCharacterPath(item, pointer + "/\(i)") { return found }
            }
            return nil
        case .object(let members):
            for (key, item) in members {
                let escaped = key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
                if RecordImport.hasForbiddenControl(key) { return pointer + "/" + escaped }
                if let found = controlCharacterPath(item, pointer + "/" + escaped) { return found }
            }
            return nil
        default:
            return nil
        }
    }
}
