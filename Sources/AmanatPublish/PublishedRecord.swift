import AmanatRecords
import Foundation

// A published record is two files (Specs/policies.md, "Published files"):
//   <record-id>.sd-jwt           the collector's SD-JWT with only the disclosures the policy lets through
//   <record-id>.annotation.jws   a JWS signed by the publisher: pseudonyms, generalized values and markers

/// A value the publisher made (never an original value): a pseudonym, a masked or generalized value, or a marker.
public struct PublisherValue: Codable, Equatable, Sendable {
    public var path: String
    public var segment: Int?
    /// `pseudonymize`, `mask`, `generalize`, `strip` (a marker in text), `withhold` (text withheld whole).
    public var op: String
    public var kind: String?
    public var value: String

    public init(path: String, segment: Int?, op: String, kind: String?, value: String) {
        self.path = path
        self.segment = segment
        self.op = op
        self.kind = kind
        self.value = value
    }
}

/// What the publisher did to one record, in counts (never values).
public struct RedactionReport: Codable, Sendable {
    public var record: String
    public var version: String
    public var consent: String
    /// Lines of the policy's `when:` conditions in force for this record.
    public var conditions: [Int]
    /// Scalar values presented as the collector signed them.
    public var original = 0
    /// Scalar values withheld (stripped, not named by the policy, or replaced by a publisher-made value).
    public var withheld = 0
    /// Fields withheld because the policy does not name them (fail closed).
    public var notInPolicy = 0
    /// Disclosures presented / withheld.
    public var disclosuresPresented = 0
    public var disclosuresWithheld = 0
    /// Identifiers found in free text, per kind and operator (`phone: {strip: 2}`).
    public var identifiers: [String: [String: Int]] = [:]
    /// Structured fields replaced by publisher-made values, per operator.
    public var fields: [String: Int] = [:]
    /// Pieces of text withheld whole because an identifier sat inside them with other text (a split missed at
    /// signing time), per identifier kind.
    public var textWithheldWhole: [String: Int] = [:]
}

/// The result of applying a policy to one record version.
public struct PublishedRecord {
    public var recordId: String
    public var versionId: String
    /// The record's collector (signer of its create version), who alone speaks for the testimony.
    public var collector: String
    /// The signer of the presented version: the collector, or an organization that edited the record later.
    public var signer: String
    /// Every organization other than the collector that signed a version of the record.
    public var editors: [String]
    /// The create version's issuer-signed JWT (no disclosures) when another version is presented: it proves who
    /// the collector is (its hash is the record id).
    public var origin: String?
    public var presentation: SDJWT
    public var values: [PublisherValue]
    public var report: RedactionReport
    /// The redacted record as a reader sees it (originals + publisher-made values, markers in text).
    public var rendered: JSONValue
    /// Where a publisher-made value sits on a value the presentation discloses (``Annotation/overlays(_:presentation:)``
    /// of the presentation, checked as it was made): empty unless the redactor has a bug.
    public var overlaid: [String] = []
}
