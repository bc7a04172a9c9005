/// The kinds of identifier the ``Detector`` reports. The raw values are the spellings used in
/// `amanat scan --json` output and in redaction policies.
public enum IdentifierKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Chinese resident identity card number (18 characters; 15-digit legacy numbers are reported converted).
    case cnResidentID = "cn_resident_id"
    /// Kazakhstan individual identification number (ЖСН / ИИН, 12 digits).
    case kzIIN = "kz_iin"
    /// Chinese passport number (`E` + 8 digits, `E` + letter + 7 digits, `G` + 8 digits).
    case cnPassport = "cn_passport"
    /// Kazakh passport number (`N` + 8 digits).
    case kzPassport = "kz_passport"
    /// Chinese mobile or Kazakh phone number, reported in E.164 form.
    case phone = "phone"
    /// E-mail address, reported in lower case.
    case email = "email"
    /// WeChat ID written after 微信 / WeChat or a common spelling of it.
    case wechatID = "wechat_id"
    /// Date of birth (a date near a birth word), reported as `YYYY-MM-DD`.
    case dateOfBirth = "date_of_birth"

    /// Used to resolve overlapping findings: the higher one wins.
    var priority: Int {
        switch self {
        case .email: return 8
        case .wechatID: return 7
        case .cnResidentID: return 6
        case .kzIIN: return 5
        case .cnPassport, .kzPassport: return 4
        case .phone: return 3
        case .dateOfBirth: return 2
        }
    }
}

/// How sure the detector is that a finding is the identifier its kind says.
public enum Confidence: String, Sendable, Hashable, Codable {
    /// Every structural check passed (check digit, real birth date, area code, …).
    case valid
    /// The number has the right shape and sits next to a context word (身份证, ЖСН, ID, …) but fails a check:
    /// a mistyped number is still a person's number.
    case suspect
}

/// One identifier found in a byte buffer.
public struct Finding: Sendable, Hashable {
    /// What was found.
    public var kind: IdentifierKind
    /// Byte offsets of the identifier in the ORIGINAL input (including separators, a leading `+`, passport letters).
    public var range: Range<Int>
    /// The normalized value: 18-character Chinese ID (with an upper-case `X`), digits-only IIN, E.164 phone,
    /// lower-case e-mail, `YYYY-MM-DD` date, passport letters and digits, WeChat ID as written.
    ///
    /// - Important: This is the identifier itself. Never log it or put it in an error message.
    public var value: String
    /// Whether every check passed.
    public var confidence: Confidence

    /// Creates a finding.
    public init(kind: IdentifierKind, range: Range<Int>, value: String, confidence: Confidence = .valid) {
        self.kind = kind
        self.range = range
        self.value = value
        self.confidence = confidence
    }
}

extension Finding: CustomStringConvertible {
    /// Describes the finding without its value (values are personal data).
    public var description: String {
        "Finding(\(kind.rawValue), \(range.lowerBound)..<\(range.upperBound), \(confidence.rawValue))"
    }
}
