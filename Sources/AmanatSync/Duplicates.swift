import AmanatRecords

/// A person's signed statement that two records are (or are not) about the same person.
public struct LinkAssertion: Sendable, Hashable {
    public enum Relation: String, Sendable, Hashable {
        case same, different
    }

    public var recordA: String
    public var recordB: String
    public var relation: Relation
    /// Organization fingerprint of the signer (informational; not used to decide).
    public var signer: String
    public var issuedAt: Int

    public init(recordA: String, recordB: String, relation: Relation, signer: String, issuedAt: Int) {
        self.recordA = recordA
        self.recordB = recordB
        self.relation = relation
        self.signer = signer
        self.issuedAt = issuedAt
    }
}

/// Records that are probably (or confirmed to be) about the same person.
public struct DuplicateCluster: Sendable, Hashable {
    /// Record ids, sorted.
    public var records: [String]
    /// Matching keys held by two or more members, sorted.
    public var sharedKeys: [String]
    /// True when `same` assertions alone join every member.
    public var isConfirmed: Bool
}

/// The outcome of duplicate grouping.
public struct DuplicateReport: Sendable, Hashable {
    /// Clusters of two or more records, sorted by their first record id.
    public var clusters: [DuplicateCluster]
    /// `same` assertions that were not applied because they would join records asserted `different`.
    public var contradicted: [LinkAssertion]
}

/// Groups records that share a matching key (the store computes the keys: keyed pseudonyms of normalized ID
/// numbers) into likely-duplicate clusters. Nothing is merged; this only says which records to show together.
///
/// Precedence, in this order (each step is a union-find join that is refused if it would put two records asserted
/// `different` into one cluster):
/// 1. `different` wins over everything: if a pair is asserted both `same` and `different` (by anyone, at any time),
///    `different` holds and the `same` assertion is reported in ``DuplicateReport/contradicted``;
/// 2. `same` assertions join their records, in sorted pair order; one that would join a cluster containing a
///    record asserted `different` from a member is refused and reported too;
/// 3. shared keys join records, keys in sorted order, each record of a key joining the first earlier record of the
///    same key it can join.
/// The result depends only on its inputs as sets, never on their order.
public enum DuplicateFinder {
    /// - Parameters:
    ///   - keys: per record id, its matching keys.
    ///   - assertions: link assertions (records not in `keys` still take part).
    public static func clusters(keys: [String: Set<String>], assertions: [LinkAssertion] = []) -> DuplicateReport {
        var idSet = Set(keys.keys)
        for a in assertions {
            idSet.insert(a.recordA)
            idSet.insert(a.recordB)
        }
        let ids = idSet.sorted(by: utf8Less)
        var index: [String: Int] = [:]
        for (i, id) in ids.enumerated() { index[id] = i }

        struct Pair: Hashable, Comparable {
            var a: Int, b: Int
            init(_ x: Int, _ y: Int) {
                a = min(x, y)
                b = max(x, y)
            }
            static func < (l: Pair, r: Pair) -> Bool { (l.a, l.b) < (r.a, r.b) }
        }
        var different = Set<Pair>()
        var same: [Pair: [LinkAssertion]] = [:]
        for a in assertions {
            guard let x = index[a.recordA], let y = index[a.recordB], x != y else { continue }
            switch a.relation {
            case .different: different.insert(Pair(x, y))
            case .same: same[Pair(x, y), default: []].append(a)
            }
        }

        var sets = ConstrainedUnionFind(count: ids.count)
        for p in different {
            sets.forbid(p.a, p.b)
        }
        var confirmed = ConstrainedUnionFind(count: ids.count)
        var contradicted: [LinkAssertion] = []
        for p in same.keys.sorted() {
            if !different.contains(p), sets.union(p.a, p.b) {
                _ = confirmed.union(p.a, p.b)
            } else {
                contradicted.append(contentsOf: same[p] ?? [])
            }
        }

        var byKey: [String: [Int]] = [:]
        for (id, ks) in keys {
            guard let i = index[id] else { continue }
            for k in ks { byKey[k, default: []].append(i) }
        }
        for key in byKey.keys.sorted(by: utf8Less) {
            let members = (byKey[key] ?? []).sorted()
            guard members.count > 1 else { continue }
            for i in 1..<members.count {
                for j in 0..<i where sets.union(members[j], members[i]) { break }
            }
        }

        var components: [Int: [Int]] = [:]
        for i in 0..<ids.count { components[sets.find(i), default: []].append(i) }
        var clusters: [DuplicateCluster] = []
        for (_, members) in components where members.count > 1 {
            var keyCount: [String: Int] = [:]
            for m in members {
                for k in keys[ids[m]] ?? [] { keyCount[k, default: 0] += 1 }
            }
            let shared = keyCount.filter { $0.value > 1 }.map(\.key).sorted(by: utf8Less)
            let root = confirmed.find(members[0])
            let isConfirmed = members.allSatisfy { confirmed.find($0) == root }
            clusters.append(
                DuplicateCluster(records: members.map { ids[$0] }, sharedKeys: shared, isConfirmed: isConfirmed))
        }
        clusters.sort { utf8Less($0.records[0], $1.records[0]) }
        contradicted.sort {
            ($0.recordA, $0.recordB, $0.signer, $0.issuedAt) < ($1.recordA, $1.recordB, $1.signer, $1.issuedAt)
        }
        return DuplicateReport(clusters: clusters, contradicted: contradicted)
    }
}

/// Union-find (path halving, union by size) with cannot-link constraints.
struct ConstrainedUnionFind {
    var parent: [Int]
    var size: [Int]
    /// Per root: the records some member must never be joined with.
    var forbidden: [Int: Set<Int>] = [:]

    init(count: Int) {
        parent = Array(0..<count)
        size = [Int](repeating: 1, count: count)
    }

    mutating func find(_ x: Int) -> Int {
        var x = x
        while parent[x] != x {
            parent[x] = parent[parent[x]]
            x = parent[x]
        }
        return x
    }

    mutating func forbid(_ a: Int, _ b: Int) {
        let ra = find(a)
        let rb = find(b)
        forbidden[ra, default: []].insert(b)
        forbidden[rb, default: []].insert(a)
    }

    /// Joins the sets of `a` and `b` unless a constraint forbids it. Returns whether they are now together.
    mutating func union(_ a: Int, _ b: Int) -> Bool {
        var ra = find(a)
        var rb = find(b)
        if ra == rb { return true }
        for x in forbidden[rb] ?? [] where find(x) == ra { return false }
        if size[ra] < size[rb] { swap(&ra, &rb) }
        parent[rb] = ra
        size[ra] += size[rb]
        if let f = forbidden.removeValue(forKey: rb) { forbidden[ra, default: []].formUnion(f) }
        return true
    }
}
