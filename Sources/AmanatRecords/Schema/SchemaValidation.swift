import Foundation

/// Walks an instance against compiled schema nodes, collecting at most `limit` violations. Messages name the
/// rule, never the instance's value.
struct SchemaValidator {
    let limit: Int
    var violations: [SchemaViolation] = []

    init(limit: Int) {
        self.limit = limit
    }

    var isFull: Bool { violations.count >= limit }

    /// What a pattern stands for, by definition or property name, for messages.
    static let patternLabels: [String: String] = [
        "cnResidentId": "a Chinese resident ID (18 characters: 17 digits and a digit or X, or the legacy 15 digits)",
        "kzIin": "a Kazakh IIN (12 digits)",
        "phone": "a phone number (digits with optional +, spaces, brackets, dots or hyphens)",
        "countryCode": "an ISO 3166-1 alpha-2 country code (two capital letters)",
        "partialDate": "a date written YYYY, YYYY-MM or YYYY-MM-DD",
        "languageTag": "a BCP 47 language tag (e.g. kk-Cyrl)",
        "sha256": "a SHA-256 in lowercase hexadecimal (64 characters)",
        "mediaType": "a media type (e.g. video/mp4)",
        "recordId": "an Amanat record id (43 base64url characters)",
        "term": "an ISO 8601 duration in years, months and days (e.g. P10Y, P6Y6M)",
        "areaCode": "a six-digit GB/T 2260 area code",
        "number": "a document number (5 to 20 digits or capital Latin letters)",
        "tags": "a tag (no semicolon or line break)",
    ]

    mutating func report(_ path: [PathComponent], _ keyword: String, _ message: String) {
        guard !isFull else { return }
        violations.append(SchemaViolation(path: path, keyword: keyword, message: message))
    }

    static func valid(_ node: SchemaNode, _ value: JSONValue) -> Bool {
        var v = SchemaValidator(limit: 1)
        var path: [PathComponent] = []
        v.check(node, value, &path)
        return v.violations.isEmpty
    }

    static func matches(_ kind: JSONKind, _ value: JSONValue) -> Bool {
        switch (kind, value) {
        case (.null, .null), (.boolean, .bool), (.object, .object), (.array, .array), (.number, .number),
            (.string, .string):
            return true
        case (.integer, .number(let n)): return DecimalNumber(n)?.isInteger ?? false
        default: return false
        }
    }

    static func article(_ kind: JSONKind) -> String {
        switch kind {
        case .null: return "null"
        case .boolean: return "true or false"
        case .object: return "an object"
        case .array: return "an array"
        case .number: return "a number"
        case .string: return "a string"
        case .integer: return "a whole number"
        }
    }

    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .string(let s): return "\"" + s + "\""
        default: return value.serialized()
        }
    }

    mutating func check(_ node: SchemaNode, _ value: JSONValue, _ path: inout [PathComponent]) {
        if isFull { return }
        if node.alwaysValid { return }
        if node.alwaysInvalid {
            report(path, "false", "is not allowed here")
            return
        }
        if let ref = node.ref {
            let before = violations.count
            check(ref, value, &path)
            // A value of the wrong type has been reported by the definition; the sibling keywords (only
            // annotations in practice) would add nothing.
            if violations.count > before, violations.last?.keyword == "type" { return }
        }
        if let types = node.types, !types.contains(where: { Self.matches($0, value) }) {
            let wanted = types.map(Self.article).joined(separator: " or ")
            report(path, "type", "must be \(wanted), not \(Self.typeArticle(value))")
            return
        }
        if let c = node.constValue, !schemaEqual(c, value) {
            // The schema's constant is not secret; the instance's value is never echoed.
            report(path, "const", "must be \(Self.describe(c))")
        }
        if let allowed = node.enumValues, !allowed.contains(where: { schemaEqual($0, value) }) {
            if allowed.count <= 16 {
                report(path, "enum", "must be one of: " + allowed.map(Self.describe).joined(separator: ", "))
            } else {
                report(path, "enum", "is not one of the \(allowed.count) allowed values")
            }
        }
        switch value {
        case .string(let s): checkString(node, s, path)
        case .number(let n): checkNumber(node, n, path)
        case .object(let members): checkObject(node, members, &path)
        case .array(let items): checkArray(node, items, &path)
        default: break
        }
        if let alternatives = node.anyOf, !alternatives.contains(where: { Self.valid($0, value) }) {
            if path.isEmpty, node.location == "#" {
                report(
                    path, "anyOf",
                    "nothing identifies the testimony: give provenance.reference, testifier.name, a detainee with a name, testimony.transcript or an attachment"
                )
            } else {
                report(
                    path, "anyOf",
                    "does not satisfy any of the \(alternatives.count) allowed forms"
                        + Self.requiredSummary(alternatives, "at least one of"))
            }
        }
        if let alternatives = node.oneOf {
            let count = alternatives.filter { Self.valid($0, value) }.count
            if count != 1 {
                let summary = Self.requiredSummary(alternatives, "exactly one of")
                report(
                    path, "oneOf",
                    summary.isEmpty
                        ? "must satisfy exactly one of \(alternatives.count) forms (satisfies \(count))"
                        : "must have " + summary.dropFirst())
            }
        }
    }

    /// ", needs exactly one of: url, recordId" when every alternative is just `required: [one name]`.
    static func requiredSummary(_ alternatives: [SchemaNode], _ quantifier: String) -> String {
        var names: [String] = []
        for alt in alternatives {
            guard alt.required.count == 1, alt.properties.isEmpty, alt.ref == nil, alt.types == nil, alt.anyOf == nil,
                alt.oneOf == nil, alt.contains == nil
            else { return "" }
            names.append(alt.required[0])
        }
        return " \(quantifier): " + names.joined(separator: ", ")
    }

    static func typeArticle(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    mutating func checkString(_ node: SchemaNode, _ s: String, _ path: [PathComponent]) {
        let length = (node.minLength != nil || node.maxLength != nil) ? s.unicodeScalars.count : 0
        if let min = node.minLength, length < min {
            report(path, "minLength", min == 1 ? "must not be empty" : "must be at least \(min) characters long")
        }
        if let max = node.maxLength, length > max {
            report(path, "maxLength", "must be at most \(max) characters long")
        }
        if let pattern = node.pattern, !pattern.matches(s) {
            if let name = node.name, let label = Self.patternLabels[name] {
                report(path, "pattern", "does not match the pattern for \(label)")
            } else {
                report(path, "pattern", "does not match the pattern \(pattern.source)")
            }
        } else if node.checksCalendar, !FormatCheck.partialDateIsReal(s) {
            report(path, "calendar", "is not a real calendar date")
        }
        if let format = node.format, !format.accepts(s) {
            report(path, "format", format.message)
        }
    }

    mutating func checkNumber(_ node: SchemaNode, _ literal: String, _ path: [PathComponent]) {
        guard node.minimum != nil || node.maximum != nil else { return }
        guard let d = DecimalNumber(literal) else { return }
        if let min = node.minimum, d < min {
            report(path, "minimum", "must be at least \(min.plain)")
        }
        if let max = node.maximum, max < d {
            report(path, "maximum", "must be at most \(max.plain)")
        }
    }

    mutating func checkObject(_ node: SchemaNode, _ members: [(String, JSONValue)], _ path: inout [PathComponent]) {
        for name in node.required where !members.contains(where: { $0.0 == name }) {
            report(path + [.key(name)], "required", "is required but missing")
        }
        if let min = node.minProperties, members.count < min {
            report(
                path, "minProperties",
                min == 1 ? "must not be empty (give at least one field)" : "must have at least \(min) fields")
        }
        let hasPropertyRules = !node.properties.isEmpty || node.additionalProperties != nil
        guard hasPropertyRules else { return }
        for (key, value) in members {
            if isFull { return }
            path.append(.key(key))
            if let sub = node.properties[key] {
                check(sub, value, &path)
            } else if let extra = node.additionalProperties {
                if extra.alwaysInvalid {
                    report(path, "additionalProperties", "is not a field of this record format")
                } else {
                    check(extra, value, &path)
                }
            }
            path.removeLast()
        }
    }

    mutating func checkArray(_ node: SchemaNode, _ items: [JSONValue], _ path: inout [PathComponent]) {
        if let min = node.minItems, items.count < min {
            report(path, "minItems", min == 1 ? "must have at least one item" : "must have at least \(min) items")
        }
        if node.uniqueItems {
            var seen = Set<[UInt8]>()
            for (i, item) in items.enumerated() where !seen.insert(schemaEqualityKey(item)).inserted {
                report(path + [.index(i)], "uniqueItems", "repeats an earlier item; items must be unique")
            }
        }
        if let itemSchema = node.items {
            for (i, item) in items.enumerated() {
                if isFull { return }
                path.append(.index(i))
                check(itemSchema, item, &path)
                path.removeLast()
            }
        }
        if let contains = node.contains, !items.contains(where: { Self.valid(contains, $0) }) {
            report(path, "contains", "must contain at least one item of the required form")
        }
    }
}
