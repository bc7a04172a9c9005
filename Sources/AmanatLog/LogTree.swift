/// Where a log keeps its hashes: the hash of every complete subtree, by level (0 = leaves) and index.
///
/// The subtree at `level` and `index` covers leaves `index << level ..< (index + 1) << level`. ``LogTree`` stores
/// each such hash once, when the leaf that completes it is appended, and never changes it afterwards, so a storage
/// backed by a database table can be append-only (and a store that refuses to overwrite a hash loses nothing).
public protocol LogHashStorage {
    /// The stored hash, or nil if that subtree is not complete (or not stored).
    /// - Throws: whatever the storage throws when it cannot be read.
    func hash(level: Int, index: UInt64) throws -> LogHash?

    /// Stores the hash of a subtree that has just been completed.
    /// - Throws: whatever the storage throws when it cannot be written.
    mutating func store(level: Int, index: UInt64, hash: LogHash) throws
}

/// Hashes kept in memory, one contiguous byte array per level: fast, for tests, the benchmark and the interop
/// checks (about 64 bytes per leaf).
public struct InMemoryLogHashStorage: LogHashStorage, Sendable {
    private var levels: [[UInt8]] = []

    /// An empty storage (the empty tree).
    public init() {}

    /// The number of leaves stored.
    public var leafCount: UInt64 { levels.isEmpty ? 0 : UInt64(levels[0].count / 32) }

    public func hash(level: Int, index: UInt64) -> LogHash? {
        guard level >= 0, level < levels.count, index < UInt64(levels[level].count / 32) else { return nil }
        let start = Int(index) * 32
        return Array(levels[level][start..<start + 32])
    }

    /// Stores the hash; only the next index of a level (or one already there, which is overwritten) is accepted.
    /// - Throws: ``LogError/malformedHash(length:)`` for a hash that is not 32 bytes,
    ///   ``LogError/missingHash(level:index:)`` for an index past the next one of its level.
    public mutating func store(level: Int, index: UInt64, hash: LogHash) throws {
        try MerkleHash.checkLength(hash)
        guard level >= 0, level < 64 else { throw LogError.missingHash(level: level, index: index) }
        while levels.count <= level { levels.append([]) }
        let count = UInt64(levels[level].count / 32)
        if index == count {
            levels[level].append(contentsOf: hash)
        } else if index < count {
            let start = Int(index) * 32
            levels[level].replaceSubrange(start..<start + 32, with: hash)
        } else {
            throw LogError.missingHash(level: level, index: count)
        }
    }
}

/// The RFC 6962 / RFC 9162 Merkle tree of a log over a ``LogHashStorage``: appending, root hashes, inclusion and
/// consistency proofs, and their verification (RFC 9162 §2.1.3.2 and §2.1.4.2).
///
/// Proofs are produced from stored complete-subtree hashes, so each costs at most a few dozen storage reads and
/// node hashes whatever the size of the log.
public enum LogTree {
    /// The largest tree size: 2^63 − 1 (Go's tlog and the C2SP formats use signed 64-bit sizes).
    public static let maxSize = UInt64(Int64.max)

    /// The most hashes a verifier accepts in one proof: an inclusion proof has at most 63, a consistency proof at
    /// most 2 × 63.
    public static let maxProofHashes = 126

    /// Appends the leaf `index`, which must equal the current size of the tree, and stores every subtree hash it
    /// completes (the leaf itself at level 0, then one node per level while the subtree is complete).
    /// - Throws: ``LogError/appendOutOfOrder(index:)`` if leaf `index` exists or leaf `index - 1` does not;
    ///   ``LogError/malformedHash(length:)``, ``LogError/treeTooLarge(size:)``,
    ///   ``LogError/missingHash(level:index:)``; storage errors.
    /// - Important: the storage must be written in one transaction with the entry it logs; on a thrown error
    ///   the caller rolls it back (some hashes may have been stored).
    public static func append(leafHash: LogHash, at index: UInt64, to storage: inout some LogHashStorage) throws {
        try MerkleHash.checkLength(leafHash)
        guard index < maxSize else { throw LogError.treeTooLarge(size: index + 1) }
        if try storage.hash(level: 0, index: index) != nil { throw LogError.appendOutOfOrder(index: index) }
        // The previous leaf must exist; when `index` is odd it is also the left sibling at level 0.
        var previous: LogHash? = nil
        if index > 0 {
            guard let leaf = try storage.hash(level: 0, index: index - 1) else {
                throw LogError.appendOutOfOrder(index: index)
            }
            previous = leaf
        }
        try storage.store(level: 0, index: index, hash: leafHash)
        var current = leafHash
        var level = 0
        var position = index
        try HasherPool.shared.withHasher { (hasher) throws in
            while position & 1 == 1 {
                let stored = level == 0 ? previous : try storage.hash(level: level, index: position - 1)
                guard let left = stored else { throw LogError.missingHash(level: level, index: position - 1) }
                try MerkleHash.checkLength(left)
                current = try hasher.node(left, current)
                level += 1
                position >>= 1
                try storage.store(level: level, index: position, hash: current)
            }
        }
    }

    /// The root hash of the first `size` leaves (RFC 9162 MTH); SHA-256 of the empty string for size 0.
    /// - Throws: ``LogError/missingHash(level:index:)`` if the storage holds fewer leaves; storage errors.
    public static func rootHash(size: UInt64, in storage: some LogHashStorage) throws -> LogHash {
        guard size <= maxSize else { throw LogError.treeTooLarge(size: size) }
        guard size > 0 else { return MerkleHash.emptyTree }
        return try HasherPool.shared.withHasher { (hasher) throws in
            try rangeHash(0, size, storage, hasher)
        }
    }

    /// How many hashes the inclusion proof of `index` in a tree of `size` leaves holds (0 when `index` is not below
    /// `size`).
    public static func inclusionProofLength(index: UInt64, size: UInt64) -> Int {
        index < size ? siblingRanges(index: index, size: size).count : 0
    }

    /// The leaf ranges whose hashes make the inclusion proof of `index` (below `size`), from the root's child down
    /// to the leaf's sibling: walking down to the leaf, the part not taken at each step.
    static func siblingRanges(index: UInt64, size: UInt64) -> [(start: UInt64, end: UInt64)] {
        var (start, end) = (UInt64(0), size)
        var path: [(start: UInt64, end: UInt64)] = []
        while end - start > 1 {
            let k = largestPowerOfTwo(below: end - start)
            if index < start + k {
                path.append((start + k, end))
                end = start + k
            } else {
                path.append((start, start + k))
                start += k
            }
        }
        return path
    }

    /// The inclusion proof of leaf `index` in the tree of `size` leaves (RFC 9162 §2.1.3.1): the sibling hashes from
    /// the leaf up to the root, at most 63.
    /// - Throws: ``LogError/indexOutOfRange(index:size:)``, ``LogError/missingHash(level:index:)``; storage errors.
    public static func inclusionProof(index: UInt64, size: UInt64, in storage: some LogHashStorage) throws -> [LogHash]
    {
        try inclusionProofs(indexes: [index], size: size, in: storage)[0]
    }

    /// The inclusion proofs of many leaves in the tree of `size` leaves, in the order of `indexes`
    /// (``inclusionProof(index:size:in:)`` for each). The hashes of the tree's right edge that are not stored (the
    /// ranges `[start, size)` that are no complete subtree, one of which most proofs hold) are computed once for all.
    /// - Throws: as ``inclusionProof(index:size:in:)``.
    public static func inclusionProofs(
        indexes: [UInt64], size: UInt64, in storage: some LogHashStorage
    ) throws -> [[LogHash]] {
        guard size <= maxSize else { throw LogError.treeTooLarge(size: size) }
        return try HasherPool.shared.withHasher { (hasher) throws in
            // The hash of [start, size) by start, for the ranges that are no complete subtree.
            var rightEdge: [UInt64: LogHash] = [:]
            func siblingHash(_ start: UInt64, _ end: UInt64) throws -> LogHash {
                let n = end - start
                guard end == size, !(n & (n - 1) == 0 && start % n == 0) else {
                    return try rangeHash(start, end, storage, hasher)
                }
                if let known = rightEdge[start] { return known }
                let hash = try rangeHash(start, end, storage, hasher)
                rightEdge[start] = hash
                return hash
            }
            return try indexes.map { index in
                guard index < size else { throw LogError.indexOutOfRange(index: index, size: size) }
                // The proof lists the siblings bottom-up.
                return try siblingRanges(index: index, size: size).reversed().map { try siblingHash($0.start, $0.end) }
            }
        }
    }

    /// The consistency proof from the tree of `oldSize` leaves to the tree of `newSize` leaves (RFC 9162 §2.1.4.1);
    /// empty when the sizes are equal.
    /// - Throws: ``LogError/sizeGoesBackwards(old:new:)``, ``LogError/consistencyFromEmptyTree`` for `oldSize` 0,
    ///   ``LogError/missingHash(level:index:)``; storage errors.
    public static func consistencyProof(
        from oldSize: UInt64, to newSize: UInt64, in storage: some LogHashStorage
    ) throws -> [LogHash] {
        guard newSize <= maxSize else { throw LogError.treeTooLarge(size: newSize) }
        guard oldSize <= newSize else { throw LogError.sizeGoesBackwards(old: oldSize, new: newSize) }
        guard oldSize > 0 else { throw LogError.consistencyFromEmptyTree }
        guard oldSize < newSize else { return [] }
        return try HasherPool.shared.withHasher { (hasher) throws in
            // SUBPROOF(m, D[start:end], b), unrolled: each step either descends left (the right part is a proof
            // hash) or right (the left part is); at the bottom, the old tree's own subtree hash is included unless
            // it is the whole old tree (b still true).
            var needed: [(start: UInt64, end: UInt64)] = []
            var m = oldSize
            var start: UInt64 = 0
            var end = newSize
            var whole = true
            while m != end - start {
                let k = largestPowerOfTwo(below: end - start)
                if m <= k {
                    needed.append((start + k, end))
                    end = start + k
                } else {
                    needed.append((start, start + k))
                    m -= k
                    start += k
                    whole = false
                }
            }
            if !whole { needed.append((start, end)) }
            var proof: [LogHash] = []
            for range in needed.reversed() { proof.append(try rangeHash(range.start, range.end, storage, hasher)) }
            return proof
        }
    }

    /// Whether `proof` shows that the leaf with `leafHash` is at `index` in the tree of `size` leaves with
    /// `rootHash` (RFC 9162 §2.1.3.2). False for any hash that is not 32 bytes or a proof of more than 63 hashes.
    public static func verifyInclusion(
        leafHash: LogHash, index: UInt64, size: UInt64, proof: [LogHash], rootHash: LogHash
    ) -> Bool {
        guard index < size, size <= maxSize, leafHash.count == 32, rootHash.count == 32, proof.count <= 63,
            proof.allSatisfy({ $0.count == 32 })
        else { return false }
        return
            (try? HasherPool.shared.withHasher { (hasher) throws -> Bool in
                var fn = index
                var sn = size - 1
                var r = leafHash
                for p in proof {
                    if sn == 0 { return false }
                    if fn & 1 == 1 || fn == sn {
                        r = try hasher.node(p, r)
                        while fn & 1 == 0 && fn != 0 {
                            fn >>= 1
                            sn >>= 1
                        }
                    } else {
                        r = try hasher.node(r, p)
                    }
                    fn >>= 1
                    sn >>= 1
                }
                return sn == 0 && r == rootHash
            }) ?? false
    }

    /// Whether `proof` shows that the tree of `newSize` leaves with `newRoot` extends the tree of `oldSize` leaves
    /// with `oldRoot` (RFC 9162 §2.1.4.2). Equal sizes need an empty proof and equal roots. False for `oldSize` 0
    /// (there is nothing to prove: every tree extends the empty one; the RFC defines no proof), for any hash that
    /// is not 32 bytes, and for more than ``maxProofHashes`` hashes.
    public static func verifyConsistency(
        oldSize: UInt64, newSize: UInt64, oldRoot: LogHash, newRoot: LogHash, proof: [LogHash]
    ) -> Bool {
        guard oldSize > 0, oldSize <= newSize, newSize <= maxSize, oldRoot.count == 32, newRoot.count == 32,
            proof.count <= maxProofHashes, proof.allSatisfy({ $0.count == 32 })
        else { return false }
        if oldSize == newSize { return proof.isEmpty && oldRoot == newRoot }
        guard !proof.isEmpty else { return false }
        var path = proof
        if oldSize & (oldSize - 1) == 0 { path.insert(oldRoot, at: 0) }
        return
            (try? HasherPool.shared.withHasher { (hasher) throws -> Bool in
                var fn = oldSize - 1
                var sn = newSize - 1
                while fn & 1 == 1 {
                    fn >>= 1
                    sn >>= 1
                }
                var fr = path[0]
                var sr = path[0]
                for c in path.dropFirst() {
                    if sn == 0 { return false }
                    if fn & 1 == 1 || fn == sn {
                        fr = try hasher.node(c, fr)
                        sr = try hasher.node(c, sr)
                        while fn & 1 == 0 && fn != 0 {
                            fn >>= 1
                            sn >>= 1
                        }
                    } else {
                        sr = try hasher.node(sr, c)
                    }
                    fn >>= 1
                    sn >>= 1
                }
                return fr == oldRoot && sr == newRoot && sn == 0
            }) ?? false
    }

    /// The largest power of two strictly below `n` (n ≥ 2).
    static func largestPowerOfTwo(below n: UInt64) -> UInt64 {
        UInt64(1) << (63 - (n - 1).leadingZeroBitCount)
    }

    /// MTH of leaves `start..<end` (non-empty): a stored hash when the range is one complete subtree, otherwise the
    /// RFC 6962 split at the largest power of two below its size.
    static func rangeHash(
        _ start: UInt64, _ end: UInt64, _ storage: some LogHashStorage, _ hasher: MerkleHasher
    ) throws -> LogHash {
        let n = end - start
        if n & (n - 1) == 0 && start % n == 0 {
            let level = n.trailingZeroBitCount
            guard let hash = try storage.hash(level: level, index: start >> level) else {
                throw LogError.missingHash(level: level, index: start >> level)
            }
            try MerkleHash.checkLength(hash)
            return hash
        }
        let k = largestPowerOfTwo(below: n)
        let left = try rangeHash(start, start + k, storage, hasher)
        let right = try rangeHash(start + k, end, storage, hasher)
        return try hasher.node(left, right)
    }
}
