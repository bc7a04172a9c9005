import AmanatCrypto
import AmanatRecords

/// The state hash (`Specs/sync.md`): what two stores compare to know they hold the same versions and derive the
/// same view. It is built from one digest per record, gathered into ``bucketCount`` buckets by the record id, so a
/// store can keep the buckets and update only those of the records an import or an edit touched.
///
/// - A record's **line** is the compact JSON array `[recordId, [version ids], status, [head ids], content,
///   [conflict paths], [missing parent ids], [set-aside head ids]]` followed by `\n`: version ids sorted (UTF-8 byte
///   order), content as canonical JSON (members sorted by key in code point order, strings escaped as
///   ``JSONValue/canonical()`` does) or `null` when erased; a retraction conflict adds the path `"!retract"` after
///   the field conflict paths. Its **digest** is the SHA-256 of the line.
/// - A record's **bucket** is the first 12 bits of the SHA-256 of its id (0…4095). A bucket's digest is the SHA-256
///   of the concatenated digests of its records, in record-id byte order (of nothing, for an empty bucket).
/// - The **state hash** is the lowercase hex SHA-256 of `amanat-sync-state/2\n` followed by the 4096 bucket
///   digests in bucket order.
///
/// Only what derives from the set of versions goes in: no import times, no trust-list names, no local paths.
public enum StateHash {
    /// How many buckets the record digests are gathered into.
    public static let bucketCount = 4096

    /// The bucket of a record: the first 12 bits of SHA-256 of its id.
    /// - Throws: `CryptoError` if OpenSSL fails.
    public static func bucket(of recordId: String) throws -> Int {
        let digest = try SHA256.hash(Array(recordId.utf8))
        return Int(digest[0]) << 4 | Int(digest[1] >> 4)
    }

    /// The digest of a bucket: SHA-256 of its records' digests, which must come in record-id byte order.
    public static func bucketDigest(_ recordDigests: [[UInt8]]) throws -> [UInt8] {
        var hasher = try SHA256()
        for d in recordDigests { try hasher.update(d) }
        return try hasher.finalize()
    }

    /// The state hash from the digest of every bucket (`digests(b)` for b in 0..<4096; nil: an empty bucket).
    public static func combine(bucketDigests: (Int) throws -> [UInt8]?) throws -> String {
        let empty = try SHA256.hash([UInt8]())
        var hasher = try SHA256()
        try hasher.update(Array("amanat-sync-state/2\n".utf8))
        for b in 0..<bucketCount { try hasher.update(try bucketDigests(b) ?? empty) }
        return hex(try hasher.finalize())
    }
}

extension RecordView {
    /// The SHA-256 of the record's line in the state hash (``StateHash``). Computed under
    /// ``Authority/collectorOnly`` by whoever needs it for the state hash.
    /// - Throws: `CryptoError` if OpenSSL fails.
    public func stateDigest() throws -> [UInt8] {
        var w = CanonicalWriter(out: [])
        // A record's line is a few kilobytes: growing the buffer from empty would copy it several times.
        w.out.reserveCapacity(4096)
        w.out.append(UInt8(ascii: "["))
        w.string(recordId)
        w.out.append(UInt8(ascii: ","))
        w.strings(versionIds)
        w.out.append(UInt8(ascii: ","))
        w.string(status.rawValue)
        w.out.append(UInt8(ascii: ","))
        w.strings(headIds)
        w.out.append(UInt8(ascii: ","))
        if let content { w.value(content) } else { w.out.append(contentsOf: "null".utf8) }
        w.out.append(UInt8(ascii: ","))
        var paths = conflicts.map(\.path)
        if retractionConflict != nil { paths.append("!retract") }
        w.strings(paths)
        w.out.append(UInt8(ascii: ","))
        w.strings(missingParents)
        w.out.append(UInt8(ascii: ","))
        w.strings(setAsideHeads)
        w.out.append(contentsOf: "]\n".utf8)
        return try SHA256.hash(w.out)
    }
}

extension SyncView {
    /// The state hash (``StateHash``) of this view. Compare it only between views derived under
    /// ``Authority/collectorOnly`` (`Store.stateHash()` does).
    /// - Throws: `CryptoError` if OpenSSL fails.
    public func stateHash() throws -> String {
        var buckets = [[[UInt8]]](repeating: [], count: StateHash.bucketCount)
        // Records are sorted by id, so each bucket receives its records in order.
        for r in records { buckets[try StateHash.bucket(of: r.recordId)].append(try r.stateDigest()) }
        let digests = try buckets.map { $0.isEmpty ? nil : try StateHash.bucketDigest($0) }
        return try StateHash.combine { digests[$0] }
    }
}

func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for b in bytes {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// Writes canonical JSON as bytes, the same text as ``JSONValue/canonical()`` but without building strings, and
/// sorting an object's members only when they are not sorted already.
struct CanonicalWriter {
    var out: [UInt8]

    mutating func value(_ v: JSONValue) { v.appendCanonical(to: &out) }

    mutating func strings(_ items: [String]) {
        out.append(UInt8(ascii: "["))
        for (i, s) in items.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            string(s)
        }
        out.append(UInt8(ascii: "]"))
    }

    mutating func string(_ s: String) { JSONEscaping.appendQuoted(s, to: &out) }
}
