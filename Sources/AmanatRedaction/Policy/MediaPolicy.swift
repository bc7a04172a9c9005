/// What a policy does with an attachment of one kind (`Specs/policies.md`, "Media").
public enum MediaAction: String, Sendable, CaseIterable {
    /// Nothing of the file is published (the default for every kind).
    case withhold
    /// A copy without metadata (GPS, device, times, author) is published; nothing in the picture or sound changes
    /// but for the intervals a timed transcript of the record marks as spoken identifiers.
    case publish
    /// A copy without metadata, with the rectangles and intervals of a redaction spec covered and muted. An
    /// attachment marked `redact` without a spec refuses the whole publication.
    case redact
}

/// The `media:` section of a policy: an action per attachment kind, and the margin around the intervals derived
/// from a timed transcript.
///
/// ```yaml
/// media:
///   testimony_video: redact
///   testimony_audio: redact
///   photo: publish
///   margin: 0.5
/// ```
///
/// `default: publish` (or `redact`) applies to every kind not named, except the identity documents
/// (`id_card_photo`, `passport_photo`, `hukou_page`): those are published only when named themselves.
public struct MediaPolicy: Sendable, Hashable {
    /// The attachment kinds of the record schema (`attachments[].kind`).
    public static let kinds = [
        "id_card_photo", "passport_photo", "hukou_page", "court_verdict", "detention_notice", "testimony_video",
        "testimony_audio", "photo", "letter", "other",
    ]
    /// Kinds that show an identity document: never published by `default:`, only when named.
    public static let identityDocumentKinds: Set<String> = ["id_card_photo", "passport_photo", "hukou_page"]
    /// The margin when the policy gives none, in seconds.
    public static let defaultMargin = 0.5

    /// An action and the policy line that set it.
    public struct Rule: Sendable, Hashable {
        public var action: MediaAction
        public var line: Int
    }

    /// Actions of the kinds the policy names.
    public var kinds: [String: Rule]
    /// The action of kinds not named (identity documents excepted); nil: withhold.
    public var defaultRule: Rule?
    /// Seconds added before and after every interval derived from a timed transcript.
    public var margin: Double

    public init(kinds: [String: Rule] = [:], defaultRule: Rule? = nil, margin: Double = MediaPolicy.defaultMargin) {
        self.kinds = kinds
        self.defaultRule = defaultRule
        self.margin = margin
    }

    /// The action for an attachment of `kind` (nil or unknown: `other`).
    public func action(for kind: String?) -> MediaAction {
        let kind = kind.flatMap { Self.kinds.contains($0) ? $0 : nil } ?? "other"
        if let rule = kinds[kind] { return rule.action }
        if Self.identityDocumentKinds.contains(kind) { return .withhold }
        return defaultRule?.action ?? .withhold
    }

    /// The policy line that decided `kind`'s action (0 when it is the built-in default).
    public func line(for kind: String?) -> Int {
        let kind = kind.flatMap { Self.kinds.contains($0) ? $0 : nil } ?? "other"
        if let rule = kinds[kind] { return rule.line }
        if Self.identityDocumentKinds.contains(kind) { return 0 }
        return defaultRule?.line ?? 0
    }

    /// Whether any attachment could be published under this section.
    public var publishesAnything: Bool {
        kinds.values.contains { $0.action != .withhold } || (defaultRule.map { $0.action != .withhold } ?? false)
    }

    /// Parses the `media:` mapping.
    /// - Throws: ``PolicyError`` naming the line.
    static func parse(_ node: PolicyYAMLNode) throws -> MediaPolicy {
        guard case .mapping(let entries, _) = node else {
            if case .empty = node { return MediaPolicy() }
            throw PolicyError(
                line: node.line, "'media' must be a mapping of 'kind: withhold|publish|redact' lines (and 'margin:')")
        }
        var result = MediaPolicy()
        for entry in entries {
            switch entry.key {
            case "margin":
                let text = try RedactionPolicy.scalar(entry.value, what: "margin")
                guard let seconds = Double(text), seconds.isFinite, (0...10).contains(seconds) else {
                    throw PolicyError(
                        line: entry.value.line,
                        "media margin '\(PolicyYAML.printable(text))' must be a number of seconds from 0 to 10")
                }
                result.margin = seconds
            case "default":
                let rule = try action(entry.value, subject: "media default")
                guard rule.action != .redact else {
                    throw PolicyError(
                        line: rule.line,
                        "media default: redact needs a redaction spec for every file; name the kinds to redact instead")
                }
                result.defaultRule = rule
            default:
                guard kinds.contains(entry.key) else {
                    throw PolicyError(
                        line: entry.line,
                        "unknown attachment kind '\(PolicyYAML.printable(entry.key))' in media (expected "
                            + "\(kinds.joined(separator: ", ")), default or margin)")
                }
                guard result.kinds[entry.key] == nil else {
                    throw PolicyError(line: entry.line, "media kind '\(entry.key)' is given twice")
                }
                result.kinds[entry.key] = try action(entry.value, subject: "media kind \(entry.key)")
            }
        }
        return result
    }

    static func action(_ node: PolicyYAMLNode, subject: String) throws -> Rule {
        let text = try RedactionPolicy.scalar(node, what: subject)
        guard let action = MediaAction(rawValue: text) else {
            throw PolicyError(
                line: node.line,
                "unknown action '\(PolicyYAML.printable(text))' for \(subject) (expected withhold, publish, redact)")
        }
        return Rule(action: action, line: node.line)
    }
}
