import AmanatRecords

/// POSIX ustar/pax tar, written and read as a stream (IEEE Std 1003.1-2017, `pax` format).
///
/// The writer emits regular files only, with a `pax` extended header (type `x`) whenever a path is longer than
/// 100 bytes or not ASCII, or a size does not fit ustar's 11 octal digits. The reader is strict and hostile-input
/// safe: header checksums are verified, only regular files and `pax` extended headers are accepted, and sizes are
/// checked against a caller-supplied bound before anything is read.
enum Tar {
    static let blockSize = 512
    /// The largest size ustar's 11 octal digits can hold.
    static let maxOctalSize: UInt64 = 0o77777777777
    static let maxPaxHeaderSize: UInt64 = 64 * 1024

    // MARK: Writing

    /// The header block(s) for a regular file of `size` bytes at `path`.
    static func headers(path: String, size: UInt64, mtime: UInt64) -> [UInt8] {
        let pathBytes = Array(path.utf8)
        let needsPax = pathBytes.count > 100 || !pathBytes.allSatisfy { $0 < 0x80 } || size > maxOctalSize
        var out: [UInt8] = []
        if needsPax {
            var records: [UInt8] = []
            records += paxRecord("path", path)
            if size > maxOctalSize { records += paxRecord("size", String(size)) }
            out += header(name: "PaxHeaders/entry", size: UInt64(records.count), mtime: mtime, type: UInt8(ascii: "x"))
            out += records
            out += [UInt8](repeating: 0, count: padding(UInt64(records.count)))
            let fallback = "files/entry-" + String(pathBytes.count)
            out += header(name: fallback, size: size > maxOctalSize ? 0 : size, mtime: mtime, type: UInt8(ascii: "0"))
        } else {
            out += header(name: path, size: size, mtime: mtime, type: UInt8(ascii: "0"))
        }
        return out
    }

    static func paxRecord(_ key: String, _ value: String) -> [UInt8] {
        let body = " \(key)=\(value)\n"
        let bodyCount = body.utf8.count
        // The length prefix counts itself: find the fixed point.
        var length = bodyCount + 1
        while String(length).utf8.count + bodyCount != length { length = String(length).utf8.count + bodyCount }
        return Array((String(length) + body).utf8)
    }

    static func padding(_ size: UInt64) -> Int {
        Int((UInt64(blockSize) - size % UInt64(blockSize)) % UInt64(blockSize))
    }

    static func header(name: String, size: UInt64, mtime: UInt64, type: UInt8) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: blockSize)
        func put(_ bytes: [UInt8], at offset: Int, width: Int) {
            for (i, b) in bytes.prefix(width).enumerated() { block[offset + i] = b }
        }
        func octal(_ value: UInt64, width: Int) -> [UInt8] {
            let digits = String(value, radix: 8)
            return Array((String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits).utf8) + [0]
        }
        put(Array(name.utf8), at: 0, width: 100)
        put(octal(0o644, width: 8), at: 100, width: 8)
        put(octal(0, width: 8), at: 108, width: 8)
        put(octal(0, width: 8), at: 116, width: 8)
        put(octal(size, width: 12), at: 124, width: 12)
        put(octal(mtime, width: 12), at: 136, width: 12)
        put([UInt8](repeating: 0x20, count: 8), at: 148, width: 8)
        block[156] = type
        put(Array("ustar".utf8) + [0], at: 257, width: 6)
        put(Array("00".utf8), at: 263, width: 2)
        let sum = block.reduce(0) { $0 + Int($1) }
        put(octal(UInt64(sum), width: 7) + [0x20], at: 148, width: 8)
        return block
    }

    /// Two zero blocks end the archive.
    static let endOfArchive = [UInt8](repeating: 0, count: 2 * blockSize)

    // MARK: Reading

    /// One parsed entry header.
    struct Entry: Equatable {
        var path: String
        var size: UInt64
    }

    /// Parses a 512-byte header block (and the pax attributes that preceded it, if any).
    /// - Returns: nil for an all-zero block (end of archive).
    static func parseHeader(
        _ block: UnsafeRawBufferPointer, pax: [String: String]
    ) throws -> (type: UInt8, entry: Entry)? {
        precondition(block.count == blockSize)
        if block.allSatisfy({ $0 == 0 }) { return nil }
        // Checksum: the sum of all bytes with the checksum field read as spaces.
        var sum = 0
        for (i, b) in block.enumerated() { sum += (148..<156).contains(i) ? 0x20 : Int(b) }
        guard let stored = parseOctal(block, 148, 8), stored == UInt64(sum) else {
            throw BundleError.notABundle("a tar header checksum is wrong")
        }
        guard Array(block[257..<263]) == Array("ustar".utf8) + [0], Array(block[263..<265]) == Array("00".utf8) else {
            throw BundleError.notABundle("not a POSIX ustar/pax archive")
        }
        let type = block[156]
        let name = cString(block, 0, 100)
        let prefix = cString(block, 345, 155)
        var path = prefix.isEmpty ? name : prefix + "/" + name
        if let paxPath = pax["path"] { path = paxPath }
        var size: UInt64
        if let paxSize = pax["size"] {
            guard let value = UInt64(paxSize), String(value) == paxSize else {
                throw BundleError.notABundle("a pax size attribute is not a decimal number")
            }
            size = value
        } else {
            guard let value = parseOctal(block, 124, 12) else {
                throw BundleError.hostileEntry(path: sanitizedForMessage(path), reason: "the size field is not octal")
            }
            size = value
        }
        return (type, Entry(path: path, size: size))
    }

    static func cString(_ block: UnsafeRawBufferPointer, _ offset: Int, _ width: Int) -> String {
        var bytes: [UInt8] = []
        for i in offset..<(offset + width) {
            if block[i] == 0 { break }
            bytes.append(block[i])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses an octal field (digits, optionally surrounded by spaces and ended by NUL/space). Base-256 (GNU) sizes
    /// are refused.
    static func parseOctal(_ block: UnsafeRawBufferPointer, _ offset: Int, _ width: Int) -> UInt64? {
        var value: UInt64 = 0
        var digits = 0
        var ended = false
        for i in offset..<(offset + width) {
            let b = block[i]
            if b == 0 || b == 0x20 {
                if digits > 0 { ended = true }
                continue
            }
            guard !ended, b >= 0x30, b <= 0x37, digits < 22 else { return nil }
            value = value << 3 | UInt64(b - 0x30)
            digits += 1
        }
        return digits > 0 ? value : nil
    }

    /// Parses pax extended header records ("LEN key=value\n").
    static func parsePax(_ bytes: [UInt8]) throws -> [String: String] {
        var result: [String: String] = [:]
        var i = 0
        while i < bytes.count {
            var j = i
            var length = 0
            while j < bytes.count, bytes[j] >= 0x30, bytes[j] <= 0x39, j - i < 8 {
                length = length * 10 + Int(bytes[j] - 0x30)
                j += 1
            }
            guard j < bytes.count, bytes[j] == 0x20, length > j - i + 1, i + length <= bytes.count,
                bytes[i + length - 1] == 0x0A
            else { throw BundleError.notABundle("a pax extended header is malformed") }
            let record = bytes[(j + 1)..<(i + length - 1)]
            guard let equals = record.firstIndex(of: UInt8(ascii: "=")) else {
                throw BundleError.notABundle("a pax record has no '='")
            }
            let key = String(decoding: record[record.startIndex..<equals], as: UTF8.self)
            let valueBytes = record[(equals + 1)...]
            guard let value = String(validating: Array(valueBytes), as: UTF8.self) else {
                throw BundleError.notABundle("a pax record is not UTF-8")
            }
            if key == "linkpath" { throw BundleError.hostileEntry(path: "?", reason: "links are not allowed") }
            result[key] = value
            i += length
        }
        return result
    }

    /// A path shortened and stripped of control characters, safe to show in an error message.
    static func sanitizedForMessage(_ path: String) -> String {
        let cleaned = UntrustedText.printable(path)
        return cleaned.count > 80 ? String(cleaned.prefix(77)) + "…" : cleaned
    }
}
