/// Which record fields are identifying or sensitive, hence separate SD-JWT disclosures: the schema's
/// `x-sensitivity` annotations (anything the schema does not describe counts as identifying — fail closed).
public enum RecordSensitivity {
    /// Whether the value at `pointer` (a JSON Pointer into the record) must be a disclosure.
    public static func isConcealable(_ pointer: String) -> Bool {
        guard let schema = try? RecordSchema.bundled() else { return true }
        return schema.sensitivity(atPointer: pointer) != .public
    }
}

extension DisclosurePolicy {
    /// The policy every Amanat record version is signed with: every field the schema does not mark `public` is a
    /// disclosure of its own, and transcripts and translations are split into segments.
    public static let amanatRecord = DisclosurePolicy(isConcealable: { RecordSensitivity.isConcealable($0) })
}

/// The contents of the versions that are not testimony records: retractions and erasure requests
/// (Specs/sync.md, "Retraction and erasure"), and the links `amanat link` adds.
public enum RecordContent {
    public static let schemaValue = "amanat-record/v1"

    /// The SHA-256 digests a record lists in `attachments`, in order.
    public static func attachmentDigests(_ content: JSONValue) -> [String] {
        (content["attachments"]?.arrayValue ?? []).compactMap { $0["sha256"]?.stringValue }
    }

    /// What a `retract` version says.
    public enum Tombstone: String, Sendable {
        /// The record is withdrawn; its data stays.
        case retraction
        /// The record's personal data is deleted everywhere (the version also carries the plain claim `erase`).
        case erasure
    }

    /// `{"<tombstone>": {"reason": …}, "schema": …}`, keys sorted.
    public static func tombstone(_ kind: Tombstone, reason: String) -> JSONValue {
        JSONValue.object([
            (kind.rawValue, .object([("reason", .string(reason))])), ("schema", .string(schemaValue)),
        ]).sortedKeys()
    }

    /// The plain claims a `retract` version carries besides its content: `erase: true` for an erasure.
    public static func tombstoneClaims(_ kind: Tombstone) -> [(String, JSONValue)] {
        kind == .erasure ? [("erase", .bool(true))] : []
    }

    /// A record whose links assert that it describes the same person as `other` (or a different one): any earlier
    /// assertion about `other` is replaced. Keys sorted.
    public static func linking(_ content: JSONValue, to other: String, samePerson: Bool) -> JSONValue {
        var links = (content["links"]?.arrayValue ?? []).filter {
            !($0["recordId"]?.stringValue == other
                && ["same_person", "different_person"].contains($0["kind"]?.stringValue ?? ""))
        }
        links.append(
            .object([("kind", .string(samePerson ? "same_person" : "different_person")), ("recordId", .string(other))]))
        return content.setting("links", .array(links)).sortedKeys()
    }
}
