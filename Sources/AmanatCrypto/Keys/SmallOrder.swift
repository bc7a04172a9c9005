extension Ed25519 {
    /// Every 32-byte encoding of an Ed25519 point of small order (the eight torsion points, with both sign bits,
    /// and the non-canonical encodings y = p and y = p + 1), as listed by the CCTV Ed25519 vectors
    /// (`low_order_A`). OpenSSL accepts such public keys; a signature "verifies" under them for many messages.
    static let smallOrderEncodings: Set<[UInt8]> = {
        let hex = [
            "0000000000000000000000000000000000000000000000000000000000000000",
            "0100000000000000000000000000000000000000000000000000000000000000",
            "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        ]
        var set = Set<[UInt8]>()
        for text in hex {
            var bytes: [UInt8] = []
            var index = text.startIndex
            while index < text.endIndex {
                let next = text.index(index, offsetBy: 2)
                bytes.append(UInt8(text[index..<next], radix: 16)!)
                index = next
            }
            set.insert(bytes)
            bytes[31] |= 0x80  // the sign of x
            set.insert(bytes)
        }
        return set
    }()

    /// Whether a raw Ed25519 public key is a point of small order (see ``smallOrderEncodings``).
    public static func isSmallOrder(_ raw: [UInt8]) -> Bool { smallOrderEncodings.contains(raw) }
}
