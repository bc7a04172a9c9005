/// A minimal DER (ITU-T X.690) writer and reader for the few ASN.1 structures of key files. Strict: definite
/// lengths in minimal form only, no trailing bytes, bounded nesting.
enum DER {
    enum Tag: UInt8 {
        case integer = 0x02
        case octetString = 0x04
        case null = 0x05
        case objectIdentifier = 0x06
        case sequence = 0x30
    }

    // MARK: Writing

    static func encode(tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [tag]
        let n = content.count
        if n < 0x80 {
            out.append(UInt8(n))
        } else {
            var lengthBytes: [UInt8] = []
            var v = n
            while v > 0 {
                lengthBytes.insert(UInt8(v & 0xFF), at: 0)
                v >>= 8
            }
            out.append(0x80 | UInt8(lengthBytes.count))
            out += lengthBytes
        }
        return out + content
    }

    static func sequence(_ items: [[UInt8]]) -> [UInt8] { encode(tag: Tag.sequence.rawValue, items.flatMap { $0 }) }
    static func octetString(_ bytes: [UInt8]) -> [UInt8] { encode(tag: Tag.octetString.rawValue, bytes) }
    static func oid(_ encoded: [UInt8]) -> [UInt8] { encode(tag: Tag.objectIdentifier.rawValue, encoded) }

    static func integer(_ value: UInt64) -> [UInt8] {
        var bytes: [UInt8] = []
        var v = value
        repeat {
            bytes.insert(UInt8(v & 0xFF), at: 0)
            v >>= 8
        } while v > 0
        if bytes[0] & 0x80 != 0 { bytes.insert(0, at: 0) }
        return encode(tag: Tag.integer.rawValue, bytes)
    }

    // MARK: Reading

    struct Reader {
        let bytes: ArraySlice<UInt8>
        private(set) var position: Int

        init(_ bytes: ArraySlice<UInt8>) {
            self.bytes = bytes
            position = bytes.startIndex
        }

        var isAtEnd: Bool { position == bytes.endIndex }

        func peekTag() -> UInt8? { isAtEnd ? nil : bytes[position] }

        /// Reads one element with the expected tag and returns its content.
        mutating func read(_ tag: UInt8, what: String) throws -> ArraySlice<UInt8> {
            guard position < bytes.endIndex else { throw CryptoError.malformed(what: what, reason: "truncated") }
            guard bytes[position] == tag else {
                throw CryptoError.malformed(what: what, reason: "unexpected ASN.1 tag")
            }
            var p = position + 1
            guard p < bytes.endIndex else { throw CryptoError.malformed(what: what, reason: "truncated length") }
            let first = bytes[p]
            p += 1
            var length = 0
            if first < 0x80 {
                length = Int(first)
            } else {
                let count = Int(first & 0x7F)
                guard count >= 1, count <= 4 else {
                    throw CryptoError.malformed(what: what, reason: "unsupported length")
                }
                guard p + count <= bytes.endIndex else {
                    throw CryptoError.malformed(what: what, reason: "truncated length")
                }
                guard bytes[p] != 0 else { throw CryptoError.malformed(what: what, reason: "non-minimal length") }
                for i in 0..<count { length = (length << 8) | Int(bytes[p + i]) }
                guard length >= 0x80 else { throw CryptoError.malformed(what: what, reason: "non-minimal length") }
                p += count
            }
            guard length <= bytes.endIndex - p else { throw CryptoError.malformed(what: what, reason: "truncated") }
            position = p + length
            return bytes[p..<(p + length)]
        }

        mutating func readSequence(what: String) throws -> Reader {
            Reader(try read(Tag.sequence.rawValue, what: what))
        }

        mutating func readInteger(what: String) throws -> UInt64 {
            let content = try read(Tag.integer.rawValue, what: what)
            guard !content.isEmpty, content.count <= 9 else {
                throw CryptoError.malformed(what: what, reason: "bad integer")
            }
            guard content.first! & 0x80 == 0 else {
                throw CryptoError.malformed(what: what, reason: "negative integer")
            }
            if content.count > 1 && content.first! == 0 && content[content.startIndex + 1] & 0x80 == 0 {
                throw CryptoError.malformed(what: what, reason: "non-minimal integer")
            }
            var v: UInt64 = 0
            for b in content {
                guard v >> 56 == 0 else { throw CryptoError.malformed(what: what, reason: "integer too large") }
                v = (v << 8) | UInt64(b)
            }
            return v
        }

        func expectEnd(what: String) throws {
            guard isAtEnd else { throw CryptoError.malformed(what: what, reason: "trailing data") }
        }
    }
}
