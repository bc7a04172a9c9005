import AmanatCrypto

/// One recipient stanza of an age header: `-> type arguments…` and a body.
public struct AgeStanza: Sendable, Equatable {
    /// The first argument, naming the recipient type (`X25519`, `scrypt`, …).
    public var type: String
    /// The arguments after the type.
    public var arguments: [String]
    /// The decoded body.
    public var body: [UInt8]

    public init(type: String, arguments: [String], body: [UInt8]) {
        self.type = type
        self.arguments = arguments
        self.body = body
    }
}

/// Bounds on what a reader accepts as a header, so hostile input cannot exhaust memory.
public struct AgeHeaderLimits: Sendable, Equatable {
    /// The largest header, in bytes, up to and including the MAC line.
    public var maximumBytes: Int
    /// The most recipient stanzas.
    public var maximumStanzas: Int
    /// The longest single header line (stanza arguments can be long for post-quantum recipient types).
    public var maximumLineLength: Int

    public init(maximumBytes: Int = 1 << 20, maximumStanzas: Int = 4096, maximumLineLength: Int = 16 * 1024) {
        self.maximumBytes = maximumBytes
        self.maximumStanzas = maximumStanzas
        self.maximumLineLength = maximumLineLength
    }

    public static let `default` = AgeHeaderLimits()
}

/// What a header says without any identity: the recipient stanza types, in order.
public struct AgeHeaderSummary: Sendable, Equatable {
    /// The type of each recipient stanza (`X25519`, `scrypt`, or a type this library does not know).
    public var stanzaTypes: [String]
    /// Whether the file was ASCII-armored.
    public var armored: Bool

    /// The number of recipient stanzas.
    public var recipientCount: Int { stanzaTypes.count }
    /// Whether this is a passphrase-encrypted file (a lone scrypt stanza).
    public var isPassphraseEncrypted: Bool { stanzaTypes == ["scrypt"] }
}

/// The parsed header: stanzas, the bytes the MAC covers and the MAC.
struct ParsedHeader {
    var stanzas: [AgeStanza]
    var macInput: [UInt8]
    var mac: [UInt8]
}

enum AgeHeaderFormat {
    static let versionLine = Array("age-encryption.org/v1".utf8)
    static let versionPrefix = Array("age-encryption.org/".utf8)
    static let columns = 64
    static let macInfo = Array("header".utf8)

    static func isVChar(_ c: UInt8) -> Bool { c >= 0x21 && c <= 0x7E }

    /// Parses a header from `input`, leaving it at the first payload byte.
    /// - Throws: ``AgeError/header(_:)``; errors of the underlying source (e.g. armor) pass through.
    static func parse(_ input: ByteSource, limits: AgeHeaderLimits) throws -> ParsedHeader {
        var macInput: [UInt8] = []
        var stanzas: [AgeStanza] = []

        // Reads one LF-terminated line, appends it (with its LF) to macInput and returns it (without LF).
        func line(_ what: String) throws -> [UInt8] {
            let text = try input.nextLine(maximumLength: limits.maximumLineLength) { (bytes, kind) throws -> [UInt8] in
                switch kind {
                case .end, .line(terminated: false): throw AgeError.header("the header ends before its \(what)")
                case .tooLong: throw AgeError.header("a header line is longer than \(limits.maximumLineLength) bytes")
                case .line(terminated: true): return Array(bytes)
                }
            }
            guard macInput.count + text.count + 1 <= limits.maximumBytes else {
                throw AgeError.header("the header is larger than \(limits.maximumBytes) bytes")
            }
            macInput.append(contentsOf: text)
            macInput.append(0x0A)
            return text
        }

        let version = try line("version line")
        if version != versionLine {
            if version.starts(with: versionPrefix) { throw AgeError.header("unsupported age format version") }
            throw AgeError.header("not an age file (no age-encryption.org/v1 version line)")
        }

        while true {
            var text = try line("MAC line")
            if text.starts(with: [0x2D, 0x2D, 0x2D]) {  // "---"
                // The MAC covers the header up to and including "---", not the space after it.
                macInput.removeLast(text.count + 1 - 3)
                guard text.count == 4 + 43, text[3] == 0x20, let mac = AgeBase64.decodeUnpadded(text[4...]),
                    mac.count == 32
                else { throw AgeError.header("malformed MAC line") }
                guard !stanzas.isEmpty else { throw AgeError.header("no recipient stanza") }
                if stanzas.count > 1, stanzas.contains(where: { $0.type == "scrypt" }) {
                    throw AgeError.header("an scrypt stanza must be the only stanza in the header")
                }
                return ParsedHeader(stanzas: stanzas, macInput: macInput, mac: mac)
            }
            guard text.starts(with: [0x2D, 0x3E, 0x20]) else {  // "-> "
                throw AgeError.header("expected a stanza ('-> ') or the MAC line ('---')")
            }
            guard stanzas.count < limits.maximumStanzas else {
                throw AgeError.header("more than \(limits.maximumStanzas) recipient stanzas")
            }
            text.removeFirst(3)
            let arguments = text.split(separator: 0x20, omittingEmptySubsequences: false)
            guard arguments.allSatisfy({ !$0.isEmpty && $0.allSatisfy(isVChar) }) else {
                throw AgeError.header("a stanza has an empty argument or a character outside VCHAR")
            }
            var encodedBody: [UInt8] = []
            while true {
                let bodyLine = try line("stanza body")
                guard bodyLine.count <= columns, bodyLine.allSatisfy(AgeBase64.isAlphabet) else {
                    throw AgeError.header("a stanza body line is not base64 of at most \(columns) columns")
                }
                encodedBody.append(contentsOf: bodyLine)
                if bodyLine.count < columns { break }
            }
            guard let body = AgeBase64.decodeUnpadded(encodedBody) else {
                throw AgeError.header("a stanza body is not canonical base64")
            }
            let strings = arguments.map { String(decoding: $0, as: UTF8.self) }
            stanzas.append(AgeStanza(type: strings[0], arguments: Array(strings.dropFirst()), body: body))
        }
    }

    /// The header text up to and including `---` (what the MAC covers).
    static func encodeWithoutMAC(_ stanzas: [AgeStanza]) throws -> [UInt8] {
        var out = versionLine
        out.append(0x0A)
        for stanza in stanzas {
            let arguments = [stanza.type] + stanza.arguments
            guard arguments.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(isVChar) }) else {
                throw AgeError.invalidUse("a recipient produced a stanza argument that is empty or not VCHAR")
            }
            out.append(contentsOf: Array("-> ".utf8))
            out.append(contentsOf: Array(arguments.joined(separator: " ").utf8))
            out.append(0x0A)
            let body = Array(AgeBase64.encodeUnpadded(stanza.body).utf8)
            var i = 0
            while true {
                let n = min(columns, body.count - i)
                out.append(contentsOf: body[i..<(i + n)])
                out.append(0x0A)
                i += n
                if n < columns { break }
            }
        }
        out.append(contentsOf: [0x2D, 0x2D, 0x2D])
        return out
    }

    /// The whole header for `stanzas`, MACed with `fileKey`.
    static func encode(_ stanzas: [AgeStanza], fileKey: SecretBytes) throws -> [UInt8] {
        var out = try encodeWithoutMAC(stanzas)
        let key = try HKDF.deriveKey(inputKeyMaterial: fileKey, salt: [], info: macInfo, outputByteCount: 32)
        let mac = try HMACSHA256.authenticationCode(key: key, message: out)
        out.append(0x20)
        out.append(contentsOf: Array(AgeBase64.encodeUnpadded(mac).utf8))
        out.append(0x0A)
        return out
    }
}
