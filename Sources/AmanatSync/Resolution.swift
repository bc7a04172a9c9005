import AmanatRecords

/// How a person decides one conflicting field (or, as a fallback, every conflicting field).
public enum FieldChoice: Sendable, Hashable {
    /// The value of the head with this version id.
    case version(String)
    /// The value of the head(s) signed by this organization fingerprint (an error if its heads disagree there).
    case signer(String)
    /// An explicit value; nil removes the field.
    case value(JSONValue?)
    /// The merge base's value.
    case base
}

/// How one conflicting field was decided: what a merge version records.
public struct MergeDecision: Sendable, Hashable {
    public var path: String
    public var choice: FieldChoice
    /// The value written (nil: the field is absent).
    public var value: JSONValue?

    public init(path: String, choice: FieldChoice, value: JSONValue?) {
        self.path = path
        self.choice = choice
        self.value = value
    }
}

extension FieldConflict {
    /// The value `choice` selects for this conflict.
    /// - Throws: ``SyncError`` (`noSuchVersion`, `noSuchSigner`, `ambiguousSigner`).
    public func value(for choice: FieldChoice) throws -> JSONValue? {
        switch choice {
        case .value(let v):
            return v
        case .base:
            return base
        case .version(let id):
            guard let c = candidates.first(where: { $0.versionId == id }) else {
                throw SyncError.noSuchVersion(path: path, versionId: id)
            }
            return c.value
        case .signer(let fingerprint):
            let mine = candidates.filter { $0.signer == fingerprint }
            guard let first = mine.first else { throw SyncError.noSuchSigner(path: path, signer: fingerprint) }
            guard mine.allSatisfy({ $0.value == first.value }) else {
                throw SyncError.ambiguousSigner(path: path, signer: fingerprint)
            }
            return first.value
        }
    }
}

extension MergeResult {
    /// The content a merge version carries once every conflict is decided.
    ///
    /// A clean merge (the `--accept` case) needs no choices and gives ``content`` unchanged.
    /// - Parameters:
    ///   - choices: a choice per conflicting path (``FieldConflict/path``).
    ///   - fallback: the choice for every conflicting path without its own (`--take ORG|VERSION`).
    /// - Returns: the content (nil only if the whole record was decided to be absent) and the decisions, in
    ///   conflict order.
    /// - Throws: ``SyncError``: `unresolvedConflict` when a conflict has no choice, `notInConflict` when a choice
    ///   names a path that is not in conflict, and the errors of ``FieldConflict/value(for:)``.
    public func resolved(
        choices: [String: FieldChoice] = [:], fallback: FieldChoice? = nil
    ) throws -> (
        content: JSONValue?, decisions: [MergeDecision]
    ) {
        let paths = Set(conflicts.map(\.path))
        if let stray = choices.keys.sorted(by: utf8Less).first(where: { !paths.contains($0) }) {
            throw SyncError.notInConflict(path: stray)
        }
        var decisions: [MergeDecision] = []
        for conflict in conflicts {
            guard let choice = choices[conflict.path] ?? fallback else {
                throw SyncError.unresolvedConflict(path: conflict.path)
            }
            decisions.append(MergeDecision(path: conflict.path, choice: choice, value: try conflict.value(for: choice)))
        }
        var result = content
        // Conflicts never nest, so replacing values first leaves every other conflict path valid; removals then go
        // from the last array index to the first so earlier removals do not shift later ones.
        for d in decisions where d.value != nil {
            result = try JSONPointerPatch.apply(result, pointer: d.path, value: d.value)
        }
        let removals = decisions.filter { $0.value == nil }.map(\.path).sorted {
            JSONPointerPatch.tokensGreater($0, $1)
        }
        for path in removals {
            result = try JSONPointerPatch.apply(result, pointer: path, value: nil)
        }
        return (result, decisions)
    }
}

/// Setting and removing values by JSON Pointer (RFC 6901) in merge previews.
enum JSONPointerPatch {
    static func tokens(_ pointer: String) throws -> [String] {
        if pointer.isEmpty { return [] }
        guard pointer.hasPrefix("/") else { throw SyncError.invalidPointer(pointer) }
        return pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map(pointerUnescape)
    }

    /// Descending order of pointers, comparing array indices as numbers.
    static func tokensGreater(_ a: String, _ b: String) -> Bool {
        let ta = (try? tokens(a)) ?? []
        let tb = (try? tokens(b)) ?? []
        for (x, y) in zip(ta, tb) where x != y {
            if let ix = Int(x), let iy = Int(y) { return ix > iy }
            return utf8Less(y, x)
        }
        return ta.count > tb.count
    }

    /// `document` with the value at `pointer` set (nil: removed). Object members stay sorted by key.
    static func apply(_ document: JSONValue?, pointer: String, value: JSONValue?) throws -> JSONValue? {
        try apply(document, tokens: try tokens(pointer)[...], value: value, pointer: pointer)
    }

    static func apply(
        _ node: JSONValue?, tokens: ArraySlice<String>, value: JSONValue?, pointer: String
    ) throws -> JSONValue? {
        guard let token = tokens.first else { return value }
        let rest = tokens.dropFirst()
        switch node {
        case .object(var members):
            let i = members.firstIndex { $0.0 == token }
            if rest.isEmpty {
                if let i {
                    if let value { members[i].1 = value } else { members.remove(at: i) }
                } else if let value {
                    let at = members.firstIndex { utf8Less(token, $0.0) } ?? members.endIndex
                    members.insert((token, value), at: at)
                }
                return .object(members)
            }
            guard let i else { throw SyncError.invalidPointer(pointer) }
            guard let child = try apply(members[i].1, tokens: rest, value: value, pointer: pointer) else {
                throw SyncError.invalidPointer(pointer)
            }
            members[i].1 = child
            return .object(members)
        case .array(var items):
            guard let i = Int(token), i >= 0, i < items.count, String(i) == token else {
                throw SyncError.invalidPointer(pointer)
            }
            if rest.isEmpty {
                if let value { items[i] = value } else { items.remove(at: i) }
                return .array(items)
            }
            guard let child = try apply(items[i], tokens: rest, value: value, pointer: pointer) else {
                throw SyncError.invalidPointer(pointer)
            }
            items[i] = child
            return .array(items)
        default:
            throw SyncError.invalidPointer(pointer)
        }
    }
}
