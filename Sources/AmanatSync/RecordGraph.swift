import AmanatRecords

/// The version history of one record: a directed acyclic graph whose edges go from a version to its parents.
///
/// Versions are kept even when their parents are absent (incomplete history); a parent id that is not among the
/// record's versions counts as missing, even if a version of another record has that id.
public struct RecordGraph: Sendable {
    /// The record id (that of the first version given; all versions are expected to share it).
    public let recordId: String
    /// The versions, sorted by id, without duplicate ids.
    public let versions: [VersionNode]
    /// The heads: versions no other version of the record names as a parent, sorted by id.
    public let heads: [VersionNode]
    /// Parent ids named by some version but not present, sorted.
    public let missingParents: [String]
    /// Ids of the versions that name a missing parent, sorted.
    public let versionsWithMissingParents: [String]
    /// The heads the view works with. Without missing parents, all ``heads``. With missing parents, a head whose
    /// known history is complete may in truth be an ancestor of a missing version (the typical case: the create
    /// version arrived, a middle version did not, so the create version looks like a second head). Such heads are
    /// set aside when some other head's history is incomplete; heads with incomplete history are always kept.
    public let effectiveHeads: [VersionNode]
    /// The heads set aside (see ``effectiveHeads``), sorted by id.
    public let setAsideHeads: [String]

    let index: [String: Int]
    /// Present parents of each version, by index.
    let parents: [[Int]]
    let headIndices: [Int]
    let effectiveHeadIndices: [Int]

    /// Builds the graph of one record's versions (in any order; duplicates by id are dropped).
    public init(versions: [VersionNode]) {
        let sorted = versions.sorted { utf8Less($0.id, $1.id) }
        var unique: [VersionNode] = []
        unique.reserveCapacity(sorted.count)
        for v in sorted where unique.last?.id != v.id { unique.append(v) }
        self.init(sortedUnique: unique)
    }

    /// `versions` must be sorted by id without duplicates.
    init(sortedUnique versions: [VersionNode]) {
        recordId = versions.first?.recordId ?? ""
        self.versions = versions
        var index: [String: Int] = [:]
        index.reserveCapacity(versions.count)
        for (i, v) in versions.enumerated() { index[v.id] = i }
        var parents: [[Int]] = []
        parents.reserveCapacity(versions.count)
        var isParent = [Bool](repeating: false, count: versions.count)
        var missing = Set<String>()
        var incomplete: [String] = []
        for v in versions {
            var ps: [Int] = []
            var lacks = false
            for p in v.prev {
                if let j = index[p] {
                    if !ps.contains(j) { ps.append(j) }
                    isParent[j] = true
                } else {
                    missing.insert(p)
                    lacks = true
                }
            }
            if lacks { incomplete.append(v.id) }
            parents.append(ps)
        }
        self.index = index
        self.parents = parents
        let headIndices = (0..<versions.count).filter { !isParent[$0] }
        self.headIndices = headIndices
        heads = headIndices.map { versions[$0] }
        var effective = headIndices
        if !missing.isEmpty {
            // Mark every version whose history reaches a missing parent: walk from each head, memoized.
            var state = [UInt8](repeating: 0, count: versions.count)  // 0 unknown, 1 complete, 2 incomplete, 3 visiting
            var lacksParent = [Bool](repeating: false, count: versions.count)
            for (i, v) in versions.enumerated() where v.prev.contains(where: { index[$0] == nil }) {
                lacksParent[i] = true
            }
            for h in headIndices {
                var stack: [(Int, Int)] = [(h, 0)]
                state[h] = 3
                while let (i, next) = stack.last {
                    if next < parents[i].count {
                        stack[stack.count - 1].1 += 1
                        let p = parents[i][next]
                        if state[p] == 0 {
                            state[p] = 3
                            stack.append((p, 0))
                        }
                    } else {
                        stack.removeLast()
                        state[i] = lacksParent[i] || parents[i].contains { state[$0] == 2 } ? 2 : 1
                    }
                }
            }
            let incompleteHeads = headIndices.filter { state[$0] == 2 }
            if !incompleteHeads.isEmpty { effective = incompleteHeads }
        }
        effectiveHeadIndices = effective
        effectiveHeads = effective.map { versions[$0] }
        setAsideHeads = headIndices.filter { !effective.contains($0) }.map { versions[$0].id }
        missingParents = missing.sorted(by: utf8Less)
        versionsWithMissingParents = incomplete
    }

    /// True when some version names a parent that is absent.
    public var isIncomplete: Bool { !missingParents.isEmpty }

    /// The version with this id, if present.
    public func version(_ id: String) -> VersionNode? {
        index[id].map { versions[$0] }
    }

    /// The ids of every present version reachable from `id` through parents (not `id` itself), sorted.
    public func ancestors(of id: String) -> [String] {
        guard let i = index[id] else { return [] }
        var marks = reach(from: parents[i])
        marks[i] = false  // only a cycle could reach it, and version ids (hashes) cannot form one
        return (0..<versions.count).filter { marks[$0] }.map { versions[$0].id }
    }

    /// Whether `ancestor` is reachable from `descendant` through parents.
    public func isAncestor(_ ancestor: String, of descendant: String) -> Bool {
        guard let a = index[ancestor], let d = index[descendant] else { return false }
        return isAncestor(a, of: d)
    }

    /// The ids of every present version reachable from the heads, heads included, sorted.
    public func reachableFromHeads() -> [String] {
        let marks = reach(from: headIndices)
        return (0..<versions.count).filter { marks[$0] }.map { versions[$0].id }
    }

    /// The best common ancestors of `ids` (git's merge base): the versions that are ancestors of (or equal to)
    /// every one of them and not an ancestor of another such version. Sorted by id; empty when the histories do
    /// not meet (possible only with missing parents) or an id is unknown.
    public func bestCommonAncestors(of ids: [String]) -> [String] {
        var indices: [Int] = []
        for id in ids {
            guard let i = index[id] else { return [] }
            indices.append(i)
        }
        return bestCommonAncestors(indices).map { versions[$0].id }
    }

    /// The merge base content of `ids`: the best common ancestor's content, or, with several, their virtual base
    /// (see ``mergeBase(of:policy:)``). nil when there is none.
    public func mergeBase(of ids: [String], policy: MergePolicy = .amanatRecord) -> JSONValue? {
        var indices: [Int] = []
        for id in ids {
            guard let i = index[id] else { return nil }
            indices.append(i)
        }
        var memo: [[Int]: JSONValue?] = [:]
        return baseContent(indices, policy: policy, depth: 0, memo: &memo)
    }

    /// Merges the ``effectiveHeads`` against their merge base. With one, its content and no conflicts.
    ///
    /// With several best common ancestors they are first merged into a virtual base (recursively, as git's
    /// recursive strategy does); a field that conflicts inside that virtual merge takes the value of the virtual
    /// merge's own base (absent if it has none), so conflicts in old history surface, if at all, as conflicts
    /// between the heads.
    public func mergeHeads(policy: MergePolicy = .amanatRecord) -> MergeResult {
        guard effectiveHeadIndices.count > 1 else {
            return MergeResult(content: effectiveHeadIndices.first.flatMap { versions[$0].content }, conflicts: [])
        }
        var memo: [[Int]: JSONValue?] = [:]
        let base = baseContent(effectiveHeadIndices, policy: policy, depth: 0, memo: &memo)
        return RecordMerge.merge(base: base, sides: effectiveHeadIndices.map(side), policy: policy)
    }

    // MARK: Internals

    func side(_ i: Int) -> MergeSide {
        MergeSide(versionId: versions[i].id, signer: versions[i].signer, content: versions[i].content)
    }

    /// Marks every version reachable from `starts` (starts included).
    func reach(from starts: [Int]) -> [Bool] {
        var marks = [Bool](repeating: false, count: versions.count)
        var stack: [Int] = []
        for s in starts where !marks[s] {
            marks[s] = true
            stack.append(s)
        }
        while let i = stack.popLast() {
            for p in parents[i] where !marks[p] {
                marks[p] = true
                stack.append(p)
            }
        }
        return marks
    }

    func isAncestor(_ a: Int, of d: Int) -> Bool {
        reach(from: parents[d])[a]
    }

    func bestCommonAncestors(_ indices: [Int]) -> [Int] {
        guard let first = indices.first else { return [] }
        var common = reach(from: [first])
        for i in indices.dropFirst() {
            let m = reach(from: [i])
            for k in 0..<common.count where common[k] && !m[k] { common[k] = false }
        }
        let commonList = (0..<versions.count).filter { common[$0] }
        // One walk from the parents of all common ancestors marks those that are ancestors of another.
        let dominated = reach(from: commonList.flatMap { parents[$0] })
        return commonList.filter { !dominated[$0] }
    }

    func baseContent(_ indices: [Int], policy: MergePolicy, depth: Int, memo: inout [[Int]: JSONValue?]) -> JSONValue? {
        let key = indices.sorted()
        if let known = memo[key] { return known }
        let bcas = bestCommonAncestors(key)
        let result: JSONValue?
        if bcas.isEmpty {
            result = nil
        } else if bcas.count == 1 || depth >= 32 {
            // Past 32 levels of criss-cross (never seen in practice) the lowest-id ancestor stands in.
            result = versions[bcas[0]].content
        } else {
            let inner = baseContent(bcas, policy: policy, depth: depth + 1, memo: &memo)
            result = RecordMerge.merge(base: inner, sides: bcas.map(side), policy: policy).content
        }
        memo[key] = .some(result)
        return result
    }
}
