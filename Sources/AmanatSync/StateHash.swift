import AmanatCrypto
import AmanatRecords

extension SyncView {
    /// The state hash: lowercase hex SHA-256 of this byte stream (UTF-8, each line ends with `\n`):
    ///
    /// ```
    /// amanat-sync-state/1
    /// versions N
    /// <version id>            one line per version, sorted (UTF-8 byte order)
    /// records M
    /// <record line>           one per record, sorted by record id
    /// ```
    ///
    /// A record line is a compact JSON array `[recordId, status, [head ids], content, [conflict paths],
    /// [missing parent ids], [set-aside head ids]]` where content is the current content as canonical JSON (members sorted by key in
    /// code point order, strings escaped as ``JSONValue/canonical()`` does) or `null` when erased, and a retraction
    /// conflict adds the path `"!retract"` after the field conflict paths.
    ///
    /// Only what derives from the set of versions goes in: no import times, no trust-list names, no local paths.
    /// - Throws: `CryptoError` if OpenSSL fails.
    public func stateHash() throws -> String {
        var hasher = try SHA256()
        var w = CanonicalWriter(out: [])
        w.out.reserveCapacity(1 << 17)
        w.out.append(contentsOf: "amanat-sync-state/1\nversions \(versionIds.count)\n".utf8)
        for id in versionIds {
            w.out.append(contentsOf: id.utf8)
            w.out.append(0x0A)
            try Self.flush(&hasher, &w)
        }
        w.out.append(contentsOf: "records \(records.count)\n".utf8)
        for r in records {
            w.out.append(UInt8(ascii: "["))
            w.string(r.recordId)
            w.out.append(UInt8(ascii: ","))
            w.string(r.status.rawValue)
            w.out.append(UInt8(ascii: ","))
            w.strings(r.headIds)
            w.out.append(UInt8(ascii: ","))
            if let content = r.content { w.value(content) } else { w.out.append(contentsOf: "null".utf8) }
            w.out.append(UInt8(ascii: ","))
            var paths = r.conflicts.map(\.path)
            if r.retractionConflict != nil { paths.append("!retract") }
            w.strings(paths)
            w.out.append(UInt8(ascii: ","))
            w.strings(r.missingParents)
            w.out.append(UInt8(ascii: ","))
            w.strings(r.setAsideHeads)
            w.out.append(contentsOf: "]\n".utf8)
            try Self.flush(&hasher, &w)
        }
        try hasher.update(w.out)
        let digest = try hasher.finalize()
        return hex(digest)
    }

    static func flush(_ hasher: inout SHA256, _ w: inout CanonicalWriter) throws {
        if w.out.count >= 1 << 16 {
            try hasher.update(w.out)
            w.out.removeAll(keepingCapacity: true)
        }
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

    mutating func value(_ v: JSONValue) {
        switch v {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): out.append(contentsOf: n.utf8)
        case .string(let s): string(s)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                value(item)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            var sorted = true
            if members.count > 1 {
                for i in 1..<members.count where !utf8Less(members[i - 1].0, members[i].0) {
                    sorted = false
                    break
                }
            }
            let ordered = sorted ? members : members.sorted { utf8Less($0.0, $1.0) }
            out.append(UInt8(ascii: "{"))
            for (i, (k, child)) in ordered.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                string(k)
                out.append(UInt8(ascii: ":"))
                value(child)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

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
