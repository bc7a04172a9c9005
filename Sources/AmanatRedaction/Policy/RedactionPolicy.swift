/// What a policy does with a field or an identifier (REDACTION.md, "Operators").
public enum RedactionOperator: String, Sendable, CaseIterable {
    /// Publish the collector's original (its disclosure is presented).
    case keep
    /// Withhold it; free text shows a marker such as `[ID removed]`.
    case strip
    /// Withhold it; the publisher's annotation carries a keyed pseudonym (`CNID-…`).
    case pseudonymize
    /// Withhold it; the annotation carries a masked form (`65****************`).
    case mask
    /// Withhold it; the annotation carries a coarser value (a year, a province) — for an address, the collector's
    /// own province/prefecture parts are presented and the finer parts withheld.
    case generalize
}

/// One step of a path into a record: an object member or an array element.
public enum RecordPathStep: Sendable, Hashable {
    case key(String)
    case index(Int)
}

/// A field path of a policy: `testifier.name`, `detainees[].hometown.village` (`[]` = every array element).
/// A rule on a path applies to the value there and to everything below it.
public struct PolicyFieldPath: Sendable, Hashable, CustomStringConvertible {
    /// A step of the pattern.
    public enum Step: Sendable, Hashable {
        case key(String)
        case anyElement
    }

    /// The steps.
    public var steps: [Step]

    /// Parses `a.b[].c`; nil if malformed.
    public init?(_ text: String) {
        var steps: [Step] = []
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            var name = Substring(part)
            var elements = 0
            while name.hasSuffix("[]") {
                name = name.dropLast(2)
                elements += 1
            }
            guard let first = name.first, first.isASCII, first.isLetter,
                name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
            else { return nil }
            steps.append(.key(String(name)))
            steps.append(contentsOf: Array(repeating: Step.anyElement, count: elements))
        }
        guard !steps.isEmpty else { return nil }
        self.steps = steps
    }

    /// `a.b[].c`.
    public var description: String {
        var out = ""
        for step in steps {
            switch step {
            case .key(let k): out += (out.isEmpty ? "" : ".") + k
            case .anyElement: out += "[]"
            }
        }
        return out
    }

    /// True when this path is `path` or above it.
    public func covers(_ path: [RecordPathStep]) -> Bool {
        guard steps.count <= path.count else { return false }
        for (step, actual) in zip(steps, path) {
            switch (step, actual) {
            case (.key(let a), .key(let b)) where a == b: continue
            case (.anyElement, .index): continue
            default: return false
            }
        }
        return true
    }

    /// The last member name on the path.
    public var lastKey: String? {
        for step in steps.reversed() { if case .key(let k) = step { return k } }
        return nil
    }
}

/// What kind of value a field holds, for the operators that need to know (pseudonymize, mask, generalize).
public enum PolicyValueKind: Sendable, Hashable {
    /// An identifier of a detector kind (Chinese ID, IIN, phone, …).
    case identifier(IdentifierKind)
    /// A partial date (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`): generalizes to a year or a decade.
    case date
    /// A GB/T 2260 county code: generalizes to the province.
    case areaCode
    /// An address object: generalizes to its province (and prefecture / region).
    case address
    /// Anything else.
    case other

    /// The kind implied by a field's name: `cnResidentId`, `kzIin`, `phones`, `emails`, `dateOfBirth`, `areaCode`,
    /// `hometown`/`location`/`residence`/`place`, and date fields.
    public static func inferred(from path: PolicyFieldPath) -> PolicyValueKind {
        switch path.lastKey {
        case "cnResidentId": return .identifier(.cnResidentID)
        case "kzIin": return .identifier(.kzIIN)
        case "phones": return .identifier(.phone)
        case "emails": return .identifier(.email)
        case "dateOfBirth": return .identifier(.dateOfBirth)
        case "areaCode": return .areaCode
        case "hometown", "location", "residence", "place": return .address
        case "date", "from", "to", "verdictDate", "validUntil", "collectedAt": return .date
        default: return .other
        }
    }
}

/// How coarse `generalize` is.
public enum GeneralizationLevel: String, Sendable, CaseIterable {
    /// Dates and IINs → year (the default).
    case year
    /// Dates and IINs → decade (`1990s`).
    case decade
    /// Addresses → province and prefecture (the default); area codes and Chinese IDs → province.
    case prefecture
    /// Addresses → province (or country and region) only.
    case province
    /// Phones → country and area/operator code (the default).
    case area
    /// Phones → country code only.
    case country
}

/// One operator with its options, and where the policy says so.
public struct PolicyAction: Sendable, Hashable {
    /// The operator.
    public var op: RedactionOperator
    /// The value kind the operator works with.
    public var kind: PolicyValueKind
    /// `mask`: how many leading characters stay visible (nil = the kind's default).
    public var keepPrefix: Int?
    /// `generalize`: how coarse (nil = the kind's default).
    public var level: GeneralizationLevel?
    /// The policy file line of the rule.
    public var line: Int
}

/// A field rule: a path and what happens there.
public struct PolicyFieldRule: Sendable, Hashable {
    /// The path the rule covers (and everything below it).
    public var path: PolicyFieldPath
    /// The operator.
    public var action: PolicyAction
}

/// Rules that apply only to records matching a condition.
public struct PolicyCondition: Sendable, Hashable {
    /// The record's consent must be one of these (nil = any).
    public var consent: Set<String>?
    /// The record must carry at least one of these risk flags (nil = any).
    public var riskFlags: Set<String>?
    /// Field rules that override the base rules (for the whole subtree they cover).
    public var fields: [PolicyFieldRule]
    /// Identifier rules that override the base ones.
    public var identifiers: [IdentifierKind: PolicyAction]
    /// The line of the condition.
    public var line: Int

    /// Whether a record with this consent and these risk flags meets the condition.
    public func matches(consent: String, riskFlags: Set<String>) -> Bool {
        if let c = self.consent, !c.contains(consent) { return false }
        if let r = self.riskFlags, r.isDisjoint(with: riskFlags) { return false }
        return true
    }
}

/// A redaction policy (`Specs/policies.md`): which consents it may publish, what happens to each field (by path)
/// and to each identifier found in free text, and conditional overrides keyed on consent and risk flags. Anything
/// the policy does not mention is stripped (fail closed).
public struct RedactionPolicy: Sendable {
    /// Known risk flags (records.md).
    public static let riskFlags: Set<String> = [
        "relatives_in_xinjiang", "relatives_threatened", "testifier_threatened", "pressure_to_retract",
        "testifier_travels_to_china", "testifier_in_china", "minor_involved", "health_information",
        "previously_published", "other",
    ]

    /// The policy's name (`public`, `partner`, …).
    public var name: String
    /// A sentence saying what the policy is for.
    public var description: String?
    /// The pseudonym key purpose (default `publication`).
    public var purpose: String
    /// The pseudonym key recipient (default `public`).
    public var recipient: String
    /// Consent values of the records this policy may publish (`public`, `partners`; never `internal`).
    public var consent: Set<String>
    /// Base field rules.
    public var fields: [PolicyFieldRule]
    /// Base identifier rules; a kind not listed is stripped.
    public var identifiers: [IdentifierKind: PolicyAction]
    /// Conditional overrides, in file order.
    public var conditions: [PolicyCondition]
    /// What happens to attachments (`media:`); everything withheld when the policy has no such section.
    public var media = MediaPolicy()

    /// Parses a policy file.
    /// - Throws: ``PolicyError`` naming the line.
    public static func parse(_ bytes: some Collection<UInt8>) throws -> RedactionPolicy {
        let root = try PolicyYAML.parse(bytes)
        guard case .mapping(let entries, _) = root else {
            throw PolicyError(line: root.line, "a policy is a mapping of 'key: value' lines, not \(root.typeName)")
        }
        var name: String?
        var description: String?
        var version: Int?
        var purpose = "publication"
        var recipient = "public"
        var consent: Set<String>?
        var fields: [PolicyFieldRule]?
        var identifiers: [IdentifierKind: PolicyAction]?
        var conditions: [PolicyCondition] = []
        var media = MediaPolicy()
        for entry in entries {
            switch entry.key {
            case "policy": name = try identifierText(entry.value, what: "the policy name")
            case "description": description = try scalar(entry.value, what: "description")
            case "version":
                let text = try scalar(entry.value, what: "version")
                guard text == "1" else {
                    throw PolicyError(
                        line: entry.value.line,
                        "unsupported policy version '\(PolicyYAML.printable(text))' (this tool reads version 1)")
                }
                version = 1
            case "purpose": purpose = try identifierText(entry.value, what: "purpose")
            case "recipient": recipient = try identifierText(entry.value, what: "recipient")
            case "consent": consent = try consentList(entry.value)
            case "fields": fields = try fieldRules(entry.value)
            case "identifiers": identifiers = try identifierRules(entry.value)
            case "when":
                guard case .sequence(let items, _) = entry.value else {
                    throw PolicyError(
                        line: entry.value.line, "'when' must be a list of conditions ('- riskFlags: […]')")
                }
                conditions = try items.map(condition)
            case "media": media = try MediaPolicy.parse(entry.value)
            default:
                throw PolicyError(
                    line: entry.line,
                    "unknown key '\(PolicyYAML.printable(entry.key))' (expected policy, description, version, purpose, recipient, consent, fields, identifiers, when, media)"
                )
            }
        }
        let lastLine = root.line
        guard let name else { throw PolicyError(line: lastLine, "the policy has no 'policy:' name") }
        guard version != nil else { throw PolicyError(line: lastLine, "the policy has no 'version: 1'") }
        guard let consent else {
            throw PolicyError(line: lastLine, "the policy has no 'consent:' list (which records it may publish)")
        }
        guard let fields else { throw PolicyError(line: lastLine, "the policy has no 'fields:' section") }
        guard let identifiers else { throw PolicyError(line: lastLine, "the policy has no 'identifiers:' section") }
        return RedactionPolicy(
            name: name, description: description, purpose: purpose, recipient: recipient, consent: consent,
            fields: fields,
            identifiers: identifiers, conditions: conditions, media: media)
    }

    // MARK: Parsing helpers

    static func scalar(_ node: PolicyYAMLNode, what: String) throws -> String {
        guard case .scalar(let text, _) = node else {
            throw PolicyError(line: node.line, "\(what) must be a single value, not \(node.typeName)")
        }
        return text
    }

    static func identifierText(_ node: PolicyYAMLNode, what: String) throws -> String {
        let text = try scalar(node, what: what)
        guard !text.isEmpty, text.count <= 64,
            text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
        else {
            throw PolicyError(line: node.line, "\(what) must be 1–64 letters, digits, '-', '_' or '.'")
        }
        return text
    }

    static func list(_ node: PolicyYAMLNode, what: String) throws -> [(String, Int)] {
        switch node {
        case .scalar(let text, let line): return [(text, line)]
        case .sequence(let items, _):
            return try items.map { item in
                guard case .scalar(let text, let line) = item else {
                    throw PolicyError(line: item.line, "each item of \(what) must be a single value")
                }
                return (text, line)
            }
        default: throw PolicyError(line: node.line, "\(what) must be a list ([a, b]) or a single value")
        }
    }

    static func consentList(_ node: PolicyYAMLNode) throws -> Set<String> {
        var out = Set<String>()
        for (value, line) in try list(node, what: "consent") {
            switch value {
            case "public", "partners": out.insert(value)
            case "internal":
                throw PolicyError(line: line, "consent 'internal' can never be published; remove it")
            default:
                throw PolicyError(
                    line: line, "unknown consent '\(PolicyYAML.printable(value))' (expected public or partners)")
            }
        }
        guard !out.isEmpty else { throw PolicyError(line: node.line, "the consent list is empty") }
        return out
    }

    static func fieldRules(_ node: PolicyYAMLNode) throws -> [PolicyFieldRule] {
        guard case .mapping(let entries, _) = node else {
            if case .empty = node { return [] }
            throw PolicyError(line: node.line, "'fields' must be a mapping of 'path: operator' lines")
        }
        return try entries.map { entry in
            guard let path = PolicyFieldPath(entry.key) else {
                throw PolicyError(
                    line: entry.line,
                    "'\(PolicyYAML.printable(entry.key))' is not a field path (write names joined by '.', '[]' after an array, e.g. detainees[].hometown.village)"
                )
            }
            let action = try action(entry.value, kind: PolicyValueKind.inferred(from: path), subject: "field \(path)")
            return PolicyFieldRule(path: path, action: action)
        }
    }

    static func identifierRules(_ node: PolicyYAMLNode) throws -> [IdentifierKind: PolicyAction] {
        guard case .mapping(let entries, _) = node else {
            if case .empty = node { return [:] }
            throw PolicyError(line: node.line, "'identifiers' must be a mapping of 'kind: operator' lines")
        }
        var out: [IdentifierKind: PolicyAction] = [:]
        for entry in entries {
            guard let kind = IdentifierKind(rawValue: entry.key) else {
                throw PolicyError(
                    line: entry.line,
                    "unknown detector kind '\(PolicyYAML.printable(entry.key))' (expected one of \(IdentifierKind.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
            }
            out[kind] = try action(entry.value, kind: .identifier(kind), subject: kind.rawValue, allowKind: false)
        }
        return out
    }

    static func condition(_ node: PolicyYAMLNode) throws -> PolicyCondition {
        guard case .mapping(let entries, let line) = node else {
            throw PolicyError(
                line: node.line, "a condition must be a mapping (riskFlags, consent, fields, identifiers)")
        }
        var result = PolicyCondition(consent: nil, riskFlags: nil, fields: [], identifiers: [:], line: line)
        for entry in entries {
            switch entry.key {
            case "consent": result.consent = try consentList(entry.value)
            case "riskFlags":
                var flags = Set<String>()
                for (flag, flagLine) in try list(entry.value, what: "riskFlags") {
                    guard riskFlags.contains(flag) else {
                        throw PolicyError(
                            line: flagLine,
                            "unknown risk flag '\(PolicyYAML.printable(flag))' (expected one of \(riskFlags.sorted().joined(separator: ", ")))"
                        )
                    }
                    flags.insert(flag)
                }
                result.riskFlags = flags
            case "fields": result.fields = try fieldRules(entry.value)
            case "identifiers": result.identifiers = try identifierRules(entry.value)
            default:
                throw PolicyError(
                    line: entry.line,
                    "unknown key '\(PolicyYAML.printable(entry.key))' in a condition (expected consent, riskFlags, fields, identifiers)"
                )
            }
        }
        guard result.consent != nil || result.riskFlags != nil else {
            throw PolicyError(line: line, "a condition needs 'riskFlags:' or 'consent:' (what it applies to)")
        }
        return result
    }

    /// Reads an operator: `strip`, or `{op: mask, keep: 2}`, or a block mapping with `op`, `kind`, `keep`, `level`.
    static func action(
        _ node: PolicyYAMLNode, kind inferred: PolicyValueKind, subject: String, allowKind: Bool = true
    ) throws -> PolicyAction {
        var opText: String?
        var opLine = node.line
        var kind = inferred
        var keep: Int?
        var level: GeneralizationLevel?
        switch node {
        case .scalar(let text, let line):
            opText = text
            opLine = line
        case .mapping(let entries, _):
            for entry in entries {
                let value = try scalar(entry.value, what: "'\(entry.key)'")
                switch entry.key {
                case "op":
                    opText = value
                    opLine = entry.line
                case "kind" where allowKind:
                    guard let k = IdentifierKind(rawValue: value) else {
                        throw PolicyError(
                            line: entry.line,
                            "unknown detector kind '\(PolicyYAML.printable(value))' (expected one of \(IdentifierKind.allCases.map(\.rawValue).joined(separator: ", ")))"
                        )
                    }
                    kind = .identifier(k)
                case "keep":
                    guard let n = Int(value), n >= 0, n <= 32 else {
                        throw PolicyError(line: entry.line, "'keep' must be a number of characters from 0 to 32")
                    }
                    keep = n
                case "level":
                    guard let l = GeneralizationLevel(rawValue: value) else {
                        throw PolicyError(
                            line: entry.line,
                            "unknown level '\(PolicyYAML.printable(value))' (expected \(GeneralizationLevel.allCases.map(\.rawValue).joined(separator: ", ")))"
                        )
                    }
                    level = l
                default:
                    throw PolicyError(
                        line: entry.line,
                        "unknown option '\(PolicyYAML.printable(entry.key))' for \(subject) (expected op, \(allowKind ? "kind, " : "")keep, level)"
                    )
                }
            }
        default:
            throw PolicyError(
                line: node.line, "\(subject): expected an operator (keep, strip, pseudonymize, mask, generalize)")
        }
        guard let opText else { throw PolicyError(line: node.line, "\(subject): no 'op:' given") }
        guard let op = RedactionOperator(rawValue: opText) else {
            throw PolicyError(
                line: opLine,
                "unknown operator '\(PolicyYAML.printable(opText))' for \(subject) (expected keep, strip, pseudonymize, mask, generalize)"
            )
        }
        let action = PolicyAction(op: op, kind: kind, keepPrefix: keep, level: level, line: opLine)
        try check(action, subject: subject)
        return action
    }

    /// Refuses operator/kind/option combinations that have no meaning.
    static func check(_ a: PolicyAction, subject: String) throws {
        if a.keepPrefix != nil && a.op != .mask {
            throw PolicyError(line: a.line, "\(subject): 'keep' is an option of mask only")
        }
        if a.level != nil && a.op != .generalize {
            throw PolicyError(line: a.line, "\(subject): 'level' is an option of generalize only")
        }
        switch a.op {
        case .keep, .strip, .mask:
            return
        case .pseudonymize:
            guard case .identifier = a.kind else {
                throw PolicyError(
                    line: a.line,
                    "\(subject): pseudonymize needs an identifier kind; add 'kind:' (e.g. {op: pseudonymize, kind: cn_passport})"
                )
            }
        case .generalize:
            let allowed: [GeneralizationLevel]
            switch a.kind {
            case .identifier(.dateOfBirth), .identifier(.kzIIN), .date: allowed = [.year, .decade]
            case .identifier(.cnResidentID), .areaCode: allowed = [.province]
            case .identifier(.phone): allowed = [.area, .country]
            case .address: allowed = [.prefecture, .province]
            case .identifier(let k):
                throw PolicyError(
                    line: a.line,
                    "\(subject): generalize is not defined for \(k.rawValue); use strip, pseudonymize or mask")
            case .other:
                throw PolicyError(
                    line: a.line, "\(subject): generalize needs a date, an address, an area code or an identifier kind")
            }
            if let level = a.level, !allowed.contains(level) {
                throw PolicyError(
                    line: a.line,
                    "\(subject): level '\(level.rawValue)' does not apply here (expected \(allowed.map(\.rawValue).joined(separator: " or ")))"
                )
            }
        }
    }

    // MARK: Evaluation

    /// The rules in force for one record.
    public func resolved(consent: String, riskFlags: Set<String>) -> ResolvedPolicy {
        let active = conditions.filter { $0.matches(consent: consent, riskFlags: riskFlags) }
        var identifierRules = identifiers
        for condition in active {
            for (kind, action) in condition.identifiers { identifierRules[kind] = action }
        }
        // Later conditions win over earlier ones for the same path: put them first.
        return ResolvedPolicy(
            overrides: active.reversed().flatMap(\.fields), base: fields, identifiers: identifierRules,
            activeConditionLines: active.map(\.line))
    }
}

/// A policy applied to one record (its consent and risk flags decided which conditions are in force).
public struct ResolvedPolicy: Sendable {
    /// Field rules from the conditions in force.
    public var overrides: [PolicyFieldRule]
    /// The policy's base field rules.
    public var base: [PolicyFieldRule]
    /// Identifier rules (conditions applied).
    public var identifiers: [IdentifierKind: PolicyAction]
    /// Lines of the conditions in force.
    public var activeConditionLines: [Int]

    /// The rule for a value: the most specific covering rule among the conditions in force, else the most specific
    /// covering base rule, else nil (strip: fail closed).
    public func rule(for path: [RecordPathStep]) -> PolicyFieldRule? {
        func best(_ rules: [PolicyFieldRule]) -> PolicyFieldRule? {
            var found: PolicyFieldRule?
            for rule in rules where rule.path.covers(path) {
                if found == nil || rule.path.steps.count > found!.path.steps.count { found = rule }
            }
            return found
        }
        return best(overrides) ?? best(base)
    }

    /// The action for an identifier of `kind` found in text (strip when the policy does not say).
    public func identifierAction(_ kind: IdentifierKind) -> PolicyAction {
        identifiers[kind] ?? PolicyAction(op: .strip, kind: .identifier(kind), keepPrefix: nil, level: nil, line: 0)
    }
}
