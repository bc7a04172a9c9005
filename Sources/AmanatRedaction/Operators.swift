import AmanatCrypto

/// The redaction operators that act on one identifier: pseudonymize, mask, generalize (strip and keep need no
/// function). Pseudonyms are keyed: never an unkeyed hash, since the population register makes that reversible.
public enum RedactionOperators {
    /// Letters used to render pseudonyms: 16 consonants, so a pseudonym has no digit (it can never pass an ID
    /// checksum or look like a phone number) and spells no word.
    static let pseudonymAlphabet = Array("BCDFGHJKLMNPQRST".utf8)

    /// The prefix that marks a pseudonym of each kind.
    public static func pseudonymPrefix(_ kind: IdentifierKind) -> String {
        switch kind {
        case .cnResidentID: return "CNID-"
        case .kzIIN: return "IIN-"
        case .cnPassport: return "CNPP-"
        case .kzPassport: return "KZPP-"
        case .phone: return "TEL-"
        case .email: return "MAIL-"
        case .wechatID: return "WX-"
        case .dateOfBirth: return "DOB-"
        }
    }

    /// The canonical form of a value before pseudonymization, so every spelling of one identifier gives one
    /// pseudonym: a Chinese ID in 18 characters (15-digit numbers converted), a phone in E.164, an e-mail in lower
    /// case, digits folded and separators dropped elsewhere.
    public static func canonicalValue(kind: IdentifierKind, value: String) -> String {
        switch kind {
        case .cnResidentID:
            return ChineseResidentID.normalize(value) ?? value
        case .phone:
            return PhoneNumber.e164(value) ?? value
        case .email:
            return value.lowercased()
        case .kzIIN, .cnPassport, .kzPassport:
            let folded = Normalization.fold(Array(value.utf8)).characters
            return String(decoding: folded.filter { $0 != 0x20 && $0 != 0x2D && $0 != 0x0A }, as: UTF8.self)
        case .wechatID, .dateOfBirth:
            return value
        }
    }

    /// `HMAC-SHA-256(key, kind ‖ 0x00 ‖ canonical value)` rendered as the kind's prefix (`CNID-`, `IIN-`, `TEL-`…)
    /// and 24 letters (96 bits). The value is canonicalized first (see ``canonicalValue(kind:value:)``).
    ///
    /// - Throws: `CryptoError` if the HMAC computation fails.
    /// - Important: Use a key from ``pseudonymKey(master:purpose:recipient:kind:)``, one per purpose and recipient,
    ///   so pseudonyms given to one partner cannot be joined with those given to another or published.
    public static func pseudonymize(kind: IdentifierKind, normalizedValue: String, key: SecretBytes) throws -> String {
        var message = Array(kind.rawValue.utf8)
        message.append(0)
        message.append(contentsOf: canonicalValue(kind: kind, value: normalizedValue).utf8)
        var mac = try HMACSHA256.authenticationCode(key: key, message: message)
        defer { wipe(&mac) }
        var letters: [UInt8] = []
        for byte in mac.prefix(12) {
            letters.append(pseudonymAlphabet[Int(byte >> 4)])
            letters.append(pseudonymAlphabet[Int(byte & 0x0F)])
        }
        return pseudonymPrefix(kind) + String(decoding: letters, as: UTF8.self)
    }

    /// The pseudonym key for one purpose, recipient and kind:
    /// `HKDF-SHA-256(master, info: "amanat/pseudonym/v1" ‖ 0 ‖ purpose ‖ 0 ‖ recipient ‖ 0 ‖ kind)`, 32 bytes.
    /// (The zero bytes keep `("ab", "c")` and `("a", "bc")` apart.)
    ///
    /// - Throws: `CryptoError` if the derivation fails.
    public static func pseudonymKey(
        master: SecretBytes, purpose: String, recipient: String, kind: IdentifierKind
    ) throws -> SecretBytes {
        var info = Array("amanat/pseudonym/v1".utf8)
        for part in [purpose, recipient, kind.rawValue] {
            info.append(0)
            info.append(contentsOf: part.utf8)
        }
        return try HKDF.deriveKey(inputKeyMaterial: master, salt: [], info: info, outputByteCount: 32)
    }

    /// Masks all but `keepPrefix` leading and `keepSuffix` trailing characters with `*` (everything is masked when
    /// the value is not longer than what would be kept).
    public static func mask(_ value: String, keepPrefix: Int, keepSuffix: Int = 0) -> String {
        let characters = Array(value)
        guard characters.count > keepPrefix + keepSuffix else { return String(repeating: "*", count: characters.count) }
        let hidden = characters.count - keepPrefix - keepSuffix
        return String(characters.prefix(keepPrefix)) + String(repeating: "*", count: hidden)
            + String(characters.suffix(keepSuffix))
    }

    /// The default mask for a kind: a Chinese ID keeps its province digits (`65****************`), a phone its
    /// country code, an e-mail its domain, a date its year; everything else is fully masked.
    public static func mask(kind: IdentifierKind, value: String) -> String {
        switch kind {
        case .cnResidentID: return mask(value, keepPrefix: 2)
        case .phone: return mask(value, keepPrefix: value.hasPrefix("+86") ? 3 : 2)
        case .email:
            guard let at = value.firstIndex(of: "@") else { return mask(value, keepPrefix: 0) }
            return String(repeating: "*", count: value.distance(from: value.startIndex, to: at)) + value[at...]
        case .dateOfBirth: return mask(value, keepPrefix: 4)
        default: return mask(value, keepPrefix: 0)
        }
    }

    /// How coarse a generalization is.
    public enum Generalization: Sendable {
        /// Dates → year; Chinese IDs → province name; IINs → birth year; phones → country and area code.
        case standard
        /// Dates and IINs → decade (`1990s`); Chinese IDs → province name; phones → country code only.
        case coarse
    }

    /// A generalized value: `1991` for a date of birth, `Xinjiang` (province of the area code) for a Chinese ID,
    /// the birth year for an IIN, `+86 138` / `+7 701` (country and operator or area code) for a phone. Nil when
    /// the kind has no generalization (e-mail, WeChat ID, passports) or the value cannot be read.
    public static func generalize(kind: IdentifierKind, value: String, level: Generalization = .standard) -> String? {
        func decade(_ year: Int) -> String { "\(year / 10 * 10)s" }
        switch kind {
        case .dateOfBirth:
            guard value.count >= 4, let year = Int(value.prefix(4)) else { return nil }
            return level == .standard ? String(year) : decade(year)
        case .cnResidentID:
            guard let normalized = ChineseResidentID.normalize(value), let code = Int(normalized.prefix(2)) else {
                return nil
            }
            if code >= 90 { return "foreign permanent resident" }
            return ChineseResidentID.provinceNames[code] ?? String(normalized.prefix(2))
        case .kzIIN:
            guard let date = KazakhIIN.birthDate(value) else { return nil }
            return level == .standard ? String(date.year) : decade(date.year)
        case .phone:
            guard let e164 = PhoneNumber.e164(value) else { return nil }
            let country = e164.hasPrefix("+86") ? "+86" : "+7"
            if level == .coarse { return country }
            let rest = e164.dropFirst(country.count)
            return country + " " + rest.prefix(3)
        case .email, .wechatID, .cnPassport, .kzPassport:
            return nil
        }
    }
}

/// Free-function spelling of ``RedactionOperators/pseudonymize(kind:normalizedValue:key:)``.
/// - Throws: `CryptoError` if the HMAC computation fails.
public func pseudonymize(kind: IdentifierKind, normalizedValue: String, key: SecretBytes) throws -> String {
    try RedactionOperators.pseudonymize(kind: kind, normalizedValue: normalizedValue, key: key)
}

/// Free-function spelling of ``RedactionOperators/pseudonymKey(master:purpose:recipient:kind:)``.
/// - Throws: `CryptoError` if the derivation fails.
public func pseudonymKey(
    master: SecretBytes, purpose: String, recipient: String, kind: IdentifierKind
) throws -> SecretBytes {
    try RedactionOperators.pseudonymKey(master: master, purpose: purpose, recipient: recipient, kind: kind)
}
