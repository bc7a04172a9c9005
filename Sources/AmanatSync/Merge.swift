import AmanatRecords

/// How record content merges: which arrays are sets (and what identifies an element), and which sibling fields
/// form one unit.
///
/// Everything not named here follows the general rules: objects merge member by member, every other value
/// (string, number, boolean, null, and every array that is not a set) is one unit.
public struct MergePolicy: Sendable {
    /// What makes two elements of a set-like array "the same element".
    public enum SetIdentity: Sendable, Hashable {
        /// The whole value (strings such as tags).
        case wholeValue
        /// These members of an object element (e.g. `sha256` of an attachment). An element that is not an object
        /// or has none of these members is identified by its whole value.
        case members([String])
    }

    /// Set-like arrays by JSON Pointer.
    public var sets: [String: SetIdentity]
    /// Groups of sibling fields (JSON Pointers with the same parent) that merge as one unit: if two sides changed
    /// the group differently, every member whose sides disagree is a conflict, even if each side changed a
    /// different member. Members are never taken from different sides automatically.
    public var unitGroups: [[String]]

    /// Parent pointer → groups of member keys.
    let groupsByParent: [String: [[String]]]

    public init(sets: [String: SetIdentity], unitGroups: [[String]]) {
        self.sets = sets
        self.unitGroups = unitGroups
        var byParent: [String: [[String]]] = [:]
        for group in unitGroups {
            var parent: String?
            var keys: [String] = []
            for pointer in group {
                guard let slash = pointer.lastIndex(of: "/") else { continue }
                let p = String(pointer[..<slash])
                if parent == nil { parent = p }
                guard parent == p else { continue }  // members must be siblings; others are ignored
                keys.append(pointerUnescape(pointer[pointer.index(after: slash)...]))
            }
            if let parent, !keys.isEmpty { byParent[parent, default: []].append(keys) }
        }
        groupsByParent = byParent
    }

    /// The Amanat record (schema `amanat-record/v1`):
    /// - sets: `/attachments` (identity `sha256`), `/tags` (the string), `/links` (identity `kind` + `recordId` /
    ///   `url`), `/testimony/languages` and `/testimony/riskFlags` (the string);
    /// - one unit: `/testimony/transcript` together with `/testimony/translations`;
    /// - every other array (detainees, phones, documents, status history, ...) is a unit: elements have no
    ///   identity, so positions cannot be matched safely.
    public static let amanatRecord = MergePolicy(
        sets: [
            "/attachments": .members(["sha256"]),
            "/tags": .wholeValue,
            "/links": .members(["kind", "recordId", "url"]),
            "/testimony/languages": .wholeValue,
            "/testimony/riskFlags": .wholeValue,
        ],
        unitGroups: [["/testimony/transcript", "/testimony/translations"]])
}

/// One side of a merge: a head version and its content.
public struct MergeSide: Sendable, Hashable {
    public var versionId: String
    /// The organization fingerprint that signed the version.
    public var signer: String
    /// The content; nil when erased.
    public var content: JSONValue?

    public init(versionId: String, signer: String, content: JSONValue?) {
        self.versionId = versionId
        self.signer = signer
        self.content = content
    }
}

/// One side's value of a conflicting field.
public struct MergeCandidate: Sendable, Hashable {
    public var versionId: String
    public var signer: String
    /// The side's value at the conflict's path; nil when the side has no such field (removed it, or never had it).
    public var value: JSONValue?

    public init(versionId: String, signer: String, value: JSONValue?) {
        self.versionId = versionId
        self.signer = signer
        self.value = value
    }
}

/// A field that two or more sides changed differently.
public struct FieldConflict: Sendable, Hashable {
    /// JSON Pointer (RFC 6901) into the merge preview; "" is the whole record. Inside a set, the index is the
    /// element's position in the preview.
    public var path: String
    /// The merge base's value (nil: absent in the base, or no base).
    public var base: JSONValue?
    /// Every side, in version id order, with its value at `path` (sides that kept the base value included).
    public var candidates: [MergeCandidate]

    public init(path: String, base: JSONValue?, candidates: [MergeCandidate]) {
        self.path = path
        self.base = base
        self.candidates = candidates
    }
}

/// The outcome of a three-way merge.
public struct MergeResult: Sendable, Hashable {
    /// The merged content. Every conflicting field holds the base's value there (absent if the base has none);
    /// a conflicting set element with no base value holds the first candidate's value so that its path exists.
    /// nil when the merged record is erased (or the whole record conflicts and there is no base).
    public var content: JSONValue?
    /// The conflicts in document order (keys sorted, set elements in preview order).
    public var conflicts: [FieldConflict]

    /// True when no field needs a person's decision.
    public var isClean: Bool { conflicts.isEmpty }

    public init(content: JSONValue?, conflicts: [FieldConflict]) {
        self.content = content
        self.conflicts = conflicts
    }
}

/// The three-way (N-way) field merge.
///
/// Rules, applied at every JSON Pointer from the root down:
/// 1. all sides equal → that value (also when they all differ from the base: both made the same change);
/// 2. otherwise the sides that changed the base value (absent ≠ present, so removing a field is a change) are
///    looked at: if they all made the same change, it is taken;
/// 3. otherwise, if the field is a set (``MergePolicy/sets``) and the base (if any) and every side are arrays, the
///    elements are matched by identity and each element is merged by these same rules — so additions from every
///    side are kept, an element removed by one side and untouched by the others is removed, and an element
///    removed by one side and changed by another is a conflict; order: base order, then new elements in side order;
/// 4. otherwise, if the base (if any) and every side are objects, the members are merged one by one (keys sorted),
///    except that the members of a unit group (``MergePolicy/unitGroups``) are merged together;
/// 5. otherwise the field is a ``FieldConflict``; the preview keeps the base value.
///
/// Sides are sorted by version id first, so the result does not depend on the order they are given in.
public enum RecordMerge {
    /// Merges `sides` against `base`. With no side the base is returned; with one side, that side.
    public static func merge(base: JSONValue?, sides: [MergeSide], policy: MergePolicy = .amanatRecord) -> MergeResult {
        guard !sides.isEmpty else { return MergeResult(content: base, conflicts: []) }
        let sorted = sides.sorted { utf8Less($0.versionId, $1.versionId) }
        var engine = MergeEngine(policy: policy, sides: sorted)
        let content = engine.value("", base, sorted.map(\.content), keepPresent: false)
        return MergeResult(content: content, conflicts: engine.conflicts)
    }
}

struct MergeEngine {
    let policy: MergePolicy
    let sides: [MergeSide]
    var conflicts: [FieldConflict] = []

    init(policy: MergePolicy, sides: [MergeSide]) {
        self.policy = policy
        self.sides = sides
    }

    /// Merges one field. `values` are aligned with `sides`; nil is "absent".
    mutating func value(_ path: String, _ base: JSONValue?, _ values: [JSONValue?], keepPresent: Bool) -> JSONValue? {
        let first = values[0]
        if values.dropFirst().allSatisfy({ $0 == first }) { return first }
        // The distinct changes from the base.
        var change: JSONValue??
        var several = false
        for v in values where v != base {
            if let c = change {
                if c != v {
                    several = true
                    break
                }
            } else {
                change = .some(v)
            }
        }
        if !several, let change { return change }

        if let identity = policy.sets[path], let baseItems = Self.arrayOrAbsent(base), let items = Self.arrays(values) {
            return set(path, identity, baseItems, items)
        }
        if let baseMembers = Self.objectOrAbsent(base), let members = Self.objects(values) {
            return object(path, baseMembers, members)
        }
        return conflict(path, base, values, keepPresent: keepPresent)
    }

    mutating func conflict(_ path: String, _ base: JSONValue?, _ values: [JSONValue?], keepPresent: Bool) -> JSONValue?
    {
        var candidates: [MergeCandidate] = []
        candidates.reserveCapacity(sides.count)
        for (side, v) in zip(sides, values) {
            candidates.append(MergeCandidate(versionId: side.versionId, signer: side.signer, value: v))
        }
        conflicts.append(FieldConflict(path: path, base: base, candidates: candidates))
        if let base { return base }
        if keepPresent, let present = values.first(where: { $0 != nil }) { return present }
        return nil
    }

    mutating func object(_ path: String, _ base: [(String, JSONValue)], _ values: [[(String, JSONValue)]]) -> JSONValue
    {
        var baseMap: [String: JSONValue] = [:]
        baseMap.reserveCapacity(base.count)
        var keySet = Set<String>()
        for (k, v) in base {
            baseMap[k] = v
            keySet.insert(k)
        }
        var maps: [[String: JSONValue]] = []
        maps.reserveCapacity(values.count)
        for members in values {
            var m: [String: JSONValue] = [:]
            m.reserveCapacity(members.count)
            for (k, v) in members {
                m[k] = v
                keySet.insert(k)
            }
            maps.append(m)
        }
        let keys = keySet.sorted(by: utf8Less)
        let groups = policy.groupsByParent[path] ?? []
        var grouped: [String: JSONValue?] = [:]
        var out: [(String, JSONValue)] = []
        out.reserveCapacity(keys.count)
        for key in keys {
            let result: JSONValue?
            if let done = grouped[key] {
                result = done
            } else if let group = groups.first(where: { $0.contains(key) }) {
                let results = unit(path, group, baseMap, maps)
                for (k, r) in zip(group, results) { grouped[k] = .some(r) }
                result = grouped[key] ?? nil
            } else {
                result = value(path + "/" + pointerEscape(key), baseMap[key], maps.map { $0[key] }, keepPresent: false)
            }
            if let result { out.append((key, result)) }
        }
        return .object(out)
    }

    /// Merges a unit group: all members together, never some from one side and some from another.
    mutating func unit(
        _ path: String, _ group: [String], _ base: [String: JSONValue], _ maps: [[String: JSONValue]]
    ) -> [JSONValue?] {
        let baseTuple = group.map { base[$0] }
        let tuples = maps.map { m in group.map { m[$0] } }
        let first = tuples[0]
        if tuples.dropFirst().allSatisfy({ $0 == first }) { return first }
        var change: [JSONValue?]?
        var several = false
        for t in tuples where t != baseTuple {
            if let c = change {
                if c != t {
                    several = true
                    break
                }
            } else {
                change = t
            }
        }
        if !several, let change { return change }
        var results: [JSONValue?] = []
        for (i, key) in group.enumerated() {
            let vals = tuples.map { $0[i] }
            let v0 = vals[0]
            if vals.dropFirst().allSatisfy({ $0 == v0 }) {
                results.append(v0)
            } else {
                results.append(conflict(path + "/" + pointerEscape(key), baseTuple[i], vals, keepPresent: false))
            }
        }
        return results
    }

    mutating func set(
        _ path: String, _ identity: MergePolicy.SetIdentity, _ base: [JSONValue], _ values: [[JSONValue]]
    ) -> JSONValue {
        var order: [String] = []
        var baseMap: [String: JSONValue] = [:]
        for e in base {
            let k = Self.identity(e, identity)
            if baseMap[k] == nil {
                baseMap[k] = e
                order.append(k)
            }
        }
        var seen = Set(order)
        var maps: [[String: JSONValue]] = []
        for items in values {
            var m: [String: JSONValue] = [:]
            for e in items {
                let k = Self.identity(e, identity)
                if m[k] == nil {
                    m[k] = e
                    if seen.insert(k).inserted { order.append(k) }
                }
            }
            maps.append(m)
        }
        var out: [JSONValue] = []
        out.reserveCapacity(order.count)
        for k in order {
            if let merged = value(path + "/" + String(out.count), baseMap[k], maps.map { $0[k] }, keepPresent: true) {
                out.append(merged)
            }
        }
        return .array(out)
    }

    static func identity(_ element: JSONValue, _ rule: MergePolicy.SetIdentity) -> String {
        switch (rule, element) {
        case (.wholeValue, .string(let s)):
            return "s" + s
        case (.members(let names), .object(let members)):
            var parts: [(String, JSONValue)] = []
            for name in names {
                if let v = members.first(where: { $0.0 == name })?.1 { parts.append((name, v)) }
            }
            if !parts.isEmpty { return "m" + JSONValue.object(parts).canonical() }
            return "v" + element.canonical()
        default:
            return "v" + element.canonical()
        }
    }

    static func arrayOrAbsent(_ v: JSONValue?) -> [JSONValue]? {
        guard let v else { return [] }
        return v.arrayValue
    }

    static func objectOrAbsent(_ v: JSONValue?) -> [(String, JSONValue)]? {
        guard let v else { return [] }
        return v.objectValue
    }

    static func arrays(_ values: [JSONValue?]) -> [[JSONValue]]? {
        var out: [[JSONValue]] = []
        for v in values {
            guard let a = v?.arrayValue else { return nil }
            out.append(a)
        }
        return out
    }

    static func objects(_ values: [JSONValue?]) -> [[(String, JSONValue)]]? {
        var out: [[(String, JSONValue)]] = []
        for v in values {
            guard let o = v?.objectValue else { return nil }
            out.append(o)
        }
        return out
    }
}
