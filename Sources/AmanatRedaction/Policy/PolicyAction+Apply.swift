import AmanatCrypto

extension PolicyAction {
    /// The publisher-made value for one original value: a pseudonym, a masked or a generalized form; nil when the
    /// operator makes none (keep, strip) or the value cannot be read (e.g. a date that is not a date) — the caller
    /// then withholds it like `strip`.
    ///
    /// - Parameter key: gives the pseudonym key for a kind (only called for `pseudonymize`).
    /// - Throws: `CryptoError` if the pseudonym HMAC fails.
    /// - Important: `value` is personal data; the result never contains it for `pseudonymize` and `generalize`.
    public func publisherValue(for value: String, key: (IdentifierKind) throws -> SecretBytes) throws -> String? {
        switch op {
        case .keep, .strip:
            return nil
        case .pseudonymize:
            guard case .identifier(let kind) = kind else { return nil }
            return try RedactionOperators.pseudonymize(kind: kind, normalizedValue: value, key: key(kind))
        case .mask:
            if let keepPrefix { return RedactionOperators.mask(value, keepPrefix: keepPrefix) }
            if case .identifier(let kind) = kind { return RedactionOperators.mask(kind: kind, value: value) }
            return RedactionOperators.mask(value, keepPrefix: 0)
        case .generalize:
            switch kind {
            case .date, .identifier(.dateOfBirth):
                guard value.count >= 4, let year = Int(value.prefix(4)), value.prefix(4).allSatisfy(\.isASCII) else {
                    return nil
                }
                return level == .decade ? "\(year / 10 * 10)s" : String(year)
            case .identifier(.kzIIN):
                return RedactionOperators.generalize(
                    kind: .kzIIN, value: value, level: level == .decade ? .coarse : .standard)
            case .identifier(.phone):
                return RedactionOperators.generalize(
                    kind: .phone, value: value, level: level == .country ? .coarse : .standard)
            case .identifier(.cnResidentID):
                return RedactionOperators.generalize(kind: .cnResidentID, value: value)
            case .areaCode:
                let digits = value.filter(\.isASCII).filter(\.isNumber)
                guard digits.count == 6, let code = Int(digits.prefix(2)) else { return nil }
                if code >= 90 { return "foreign permanent resident" }
                return ChineseResidentID.provinceNames[code]
            case .identifier, .address, .other:
                return nil
            }
        }
    }

    /// For `generalize` on an address: the address members whose original values stay visible.
    public var keptAddressParts: Set<String> {
        guard op == .generalize, kind == .address else { return [] }
        return level == .province
            ? ["country", "province", "region"] : ["country", "province", "region", "prefecture"]
    }
}

/// The markers a public version shows where something was withheld.
public enum RedactionMarker {
    /// `[ID removed]`, `[phone removed]`, … for a stripped identifier.
    public static func removed(_ kind: IdentifierKind) -> String {
        switch kind {
        case .cnResidentID: return "[ID removed]"
        case .kzIIN: return "[IIN removed]"
        case .cnPassport, .kzPassport: return "[passport removed]"
        case .phone: return "[phone removed]"
        case .email: return "[e-mail removed]"
        case .wechatID: return "[removed: WeChat ID]"
        case .dateOfBirth: return "[date of birth removed]"
        }
    }

    /// For a piece of text withheld whole because an identifier sat inside it together with other text.
    public static let textWithheld = "[text withheld: it contained an identifier]"
}
