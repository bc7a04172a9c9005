import AmanatCrypto
import Foundation

/// One disclosure (RFC 9901 §4.2): `base64url(JSON [salt, name, value])` for an object property or
/// `base64url(JSON [salt, value])` for an array element, and its digest `base64url(SHA-256(encoded))`.
public struct Disclosure: Sendable, Equatable {
    /// The base64url text as it appears in the compact form (the digest covers exactly these bytes).
    public var encoded: String
    public var salt: String
    /// The claim name, nil for an array element.
    public var name: String?
    public var value: JSONValue
    public var digest: String

    /// Creates a disclosure with a fresh 128-bit salt.
    public init(name: String?, value: JSONValue) throws {
        try self.init(name: name, value: value, salt: try SecureRandom.bytes(16), sha256: try ReusableSHA256())
    }

    /// Creates a disclosure with the 16 random bytes `salt` (``DisclosureSalts``), hashed with `sha256`.
    init(name: String?, value: JSONValue, salt saltBytes: some Collection<UInt8>, sha256: ReusableSHA256) throws {
        salt = Base64URL.encode(saltBytes)
        self.name = name
        self.value = value
        // `[salt, name, value]` (or `[salt, value]`), compact, members in their order.
        var json: [UInt8] = [UInt8(ascii: "[")]
        JSONEscaping.appendQuoted(salt, to: &json)
        if let name {
            json.append(UInt8(ascii: ","))
            JSONEscaping.appendQuoted(name, to: &json)
        }
        json.append(UInt8(ascii: ","))
        value.appendSerialized(to: &json)
        json.append(UInt8(ascii: "]"))
        encoded = Base64URL.encode(json)
        digest = Base64URL.encode(try sha256.digest(utf8: encoded).bytes)
    }

    /// Parses a disclosure from its compact text.
    /// - Throws: ``SDJWTError/badDisclosure(index:reason:)``.
    public init(encoded: String, index: Int) throws {
        try self.init(encoded: encoded, index: index, sha256: try ReusableSHA256())
    }

    /// Parses a disclosure, hashing it with `sha256` (one context for all of an SD-JWT's disclosures).
    init(encoded: String, index: Int, sha256: ReusableSHA256) throws {
        let (salt, name, value) = try Self.parseContent(encoded, index: index)
        self.encoded = encoded
        self.salt = salt
        self.name = name
        self.value = value
        digest = Base64URL.encode(try sha256.digest(utf8: encoded).bytes)
    }

    /// A disclosure a verifier parsed and hashed already (``DisclosureResolver/parsed``).
    init(encoded: String, salt: String, name: String?, value: JSONValue, digest: SHA256Digest) {
        self.encoded = encoded
        self.salt = salt
        self.name = name
        self.value = value
        self.digest = Base64URL.encode(digest.bytes)
    }

    private static let limits = JSONValue.Limits(maximumBytes: 16 << 20, maximumDepth: 48)

    /// Decodes and parses a disclosure's JSON array: `[salt, name, value]` or `[salt, value]`.
    /// - Throws: ``SDJWTError/badDisclosure(index:reason:)``.
    static func parseContent(_ encoded: String, index: Int) throws -> (salt: String, name: String?, value: JSONValue) {
        var bytes: [UInt8] = []
        guard Base64.decode(utf8Of: encoded, urlSafe: true, into: &bytes) else {
            throw SDJWTError.badDisclosure(index: index, reason: "not base64url")
        }
        return try parseArray(bytes, index: index)
    }

    /// The general parser's reading of decoded disclosure bytes; it alone decides verdicts and errors.
    private static func parseArray(
        _ bytes: [UInt8], index: Int
    ) throws -> (
        salt: String, name: String?, value: JSONValue
    ) {
        let json: JSONValue
        do { json = try JSONValue.parse(bytes, limits: limits) } catch {
            throw SDJWTError.badDisclosure(index: index, reason: "not JSON (\(error))")
        }
        guard case .array(let items) = json, items.count == 2 || items.count == 3, let salt = items[0].stringValue
        else {
            throw SDJWTError.badDisclosure(index: index, reason: "not an array of [salt, name, value] or [salt, value]")
        }
        var name: String?
        if items.count == 3 {
            guard let text = items[1].stringValue else {
                throw SDJWTError.badDisclosure(index: index, reason: "the claim name is not a string")
            }
            name = text
        }
        return (salt, name, items.last!)
    }

    /// Like ``parseContent(_:index:)`` for a verifier: decodes into `scratch` (one buffer reused for every
    /// disclosure) and returns the claim name and value; the salt is checked, and kept only when `keepingSalt`
    /// (nil otherwise).
    /// - Throws: ``SDJWTError/badDisclosure(index:reason:)``.
    static func parseContent(
        _ encoded: String, index: Int, scratch: inout [UInt8], keepingSalt: Bool = false
    ) throws -> (
        name: String?, value: JSONValue, salt: String?
    ) {
        guard Base64.decode(utf8Of: encoded, urlSafe: true, into: &scratch) else {
            throw SDJWTError.badDisclosure(index: index, reason: "not base64url")
        }
        // Fast path: the array's elements go straight into the result. Anything it does not accept goes to the
        // general parser.
        if scratch.count <= limits.maximumBytes {
            var parser = JSONValue.Parser(bytes: scratch, limits: limits)
            if let parsed = try? parser.parseDisclosureArray(keepingSalt: keepingSalt) { return parsed }
        }
        let (salt, name, value) = try parseArray(scratch, index: index)
        return (name, value, keepingSalt ? salt : nil)
    }
}

extension JSONValue.Parser {
    /// Reads a whole document that is `[string, value]` or `[string, string, value]` without building the array
    /// (or the first string, unless `keepingSalt`); nil (or a thrown error) for anything else, including whitespace
    /// before the array or the first string (the general parser then decides).
    mutating func parseDisclosureArray(
        keepingSalt: Bool = false
    ) throws -> (name: String?, value: JSONValue, salt: String?)? {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "[") else { return nil }
        index += 1
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        var salt: String?
        if keepingSalt { salt = try parseString() } else { try skipString() }
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: ",") else { return nil }
        index += 1
        skipWhitespace()
        var value = try parseValue(depth: 1)
        var name: String?
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: ",") {
            guard case .string(let text) = value else { return nil }
            name = text
            index += 1
            skipWhitespace()
            value = try parseValue(depth: 1)
            skipWhitespace()
        }
        guard index < bytes.count, bytes[index] == UInt8(ascii: "]") else { return nil }
        index += 1
        skipWhitespace()
        guard index == bytes.count else { return nil }
        return (name, value, salt)
    }
}

/// A compact SD-JWT: `<issuer-signed JWT>~<disclosure>~…~` (no key binding JWT).
public struct SDJWT: Sendable, Equatable {
    public var jwt: String
    public var disclosures: [String]

    public init(jwt: String, disclosures: [String]) {
        self.jwt = jwt
        self.disclosures = disclosures
    }

    /// The compact serialization.
    public var compact: String { ([jwt] + disclosures).joined(separator: "~") + "~" }

    /// The largest compact SD-JWT accepted.
    public static let maximumSize = 32 << 20

    /// Splits a compact SD-JWT. Surrounding ASCII whitespace (a line break at the end of a file) is ignored; the
    /// form itself is ASCII, so the work is done on UTF-8 bytes.
    /// - Throws: ``SDJWTError`` for a malformed form or a key binding JWT.
    public static func parse(_ text: String) throws -> SDJWT {
        var text = text
        let parts = text.withUTF8 { bytes -> [String]? in
            func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
            var start = 0
            var end = bytes.count
            while start < end, isSpace(bytes[start]) { start += 1 }
            while end > start, isSpace(bytes[end - 1]) { end -= 1 }
            guard end - start <= maximumSize else { return nil }
            var parts: [String] = []
            var partStart = start
            for i in start..<end where bytes[i] == UInt8(ascii: "~") {
                parts.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[partStart..<i]), as: UTF8.self))
                partStart = i + 1
            }
            parts.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[partStart..<end]), as: UTF8.self))
            return parts
        }
        guard let parts else { throw SDJWTError.tooLarge("the SD-JWT") }
        guard parts.count >= 2 else { throw SDJWTError.malformed("no '~' separator (a plain JWT is not an SD-JWT)") }
        guard parts.last!.isEmpty else {
            // A key binding JWT has dots; anything else after the last '~' is just not an SD-JWT.
            guard parts.last!.utf8.contains(UInt8(ascii: ".")) else {
                throw SDJWTError.malformed("unexpected text after the last '~'")
            }
            throw SDJWTError.keyBindingNotSupported
        }
        let disclosures = Array(parts[1..<(parts.count - 1)])
        if disclosures.contains(where: \.isEmpty) { throw SDJWTError.malformed("an empty disclosure ('~~')") }
        return SDJWT(jwt: parts[0], disclosures: disclosures)
    }

    /// A presentation holding only the disclosures for which `keep` is true.
    public func presenting(_ keep: (Disclosure) -> Bool) throws -> SDJWT {
        var kept: [String] = []
        for (i, text) in disclosures.enumerated() where keep(try Disclosure(encoded: text, index: i)) {
            kept.append(text)
        }
        return SDJWT(jwt: jwt, disclosures: kept)
    }
}

/// The parts of a compact JWS (RFC 7515) signed with Ed25519.
public struct SignedJWT: Sendable {
    public var header: JSONValue
    public var payload: JSONValue
    public var signature: [UInt8]
    /// The compact JWS; the signing input is its first `signingInputCount` bytes (kept in place, not copied).
    private var compact: String
    private var signingInputCount: Int

    /// `base64url(header) "." base64url(payload)`, the bytes the signature covers.
    public var signingInput: [UInt8] { Array(compact.utf8.prefix(signingInputCount)) }

    /// Creates and signs a JWT; `header` gets `alg: EdDSA`.
    public static func sign(header: JSONValue, payload: JSONValue, key: Ed25519.SigningKey) throws -> String {
        let h = header.setting("alg", .string("EdDSA"))
        let input =
            Base64URL.encode(Array(h.serialized().utf8)) + "." + Base64URL.encode(Array(payload.serialized().utf8))
        return input + "." + Base64URL.encode(try key.signature(for: Array(input.utf8)))
    }

    /// Parses without verifying.
    public static func parse(_ jwt: String) throws -> SignedJWT {
        // Work on the UTF-8 bytes in place: a JWT is ASCII, and Character-level splitting costs more than the JSON.
        var compact = jwt
        let parts = compact.withUTF8 { bytes -> (header: [UInt8], payload: [UInt8], signature: [UInt8], dot: Int)? in
            guard let first = bytes.firstIndex(of: UInt8(ascii: ".")),
                let second = bytes[(first + 1)...].firstIndex(of: UInt8(ascii: ".")),
                !bytes[(second + 1)...].contains(UInt8(ascii: "."))
            else { return nil }
            func decode(_ range: Range<Int>) -> [UInt8]? {
                Base64.decode(UnsafeBufferPointer(rebasing: bytes[range]), table: Base64.urlTable)
            }
            guard let h = decode(0..<first), let p = decode((first + 1)..<second),
                let s = decode((second + 1)..<bytes.count)
            else { return ([], [], [], -1) }
            return (h, p, s, second)
        }
        guard let parts else { throw SDJWTError.malformed("the JWT does not have three parts") }
        guard parts.dot >= 0 else { throw SDJWTError.malformed("a JWT part is not base64url") }
        let header: JSONValue
        let payload: JSONValue
        do {
            header = try JSONValue.parse(parts.header, limits: .init(maximumBytes: 64 << 10, maximumDepth: 8))
            payload = try JSONValue.parse(parts.payload, limits: .init(maximumBytes: 16 << 20, maximumDepth: 48))
        } catch {
            throw SDJWTError.malformed("the JWT header or payload is not JSON (\(error))")
        }
        guard header.objectValue != nil, payload.objectValue != nil else {
            throw SDJWTError.malformed("the JWT header and payload must be JSON objects")
        }
        guard parts.signature.count == 64 else { throw SDJWTError.badSignature }
        return SignedJWT(
            header: header, payload: payload, signature: parts.signature, compact: compact,
            signingInputCount: parts.dot)
    }

    /// The `alg` must be `EdDSA` or `Ed25519` (RFC 9864).
    public func checkAlgorithm() throws {
        let alg = header["alg"]?.stringValue ?? ""
        guard alg == "EdDSA" || alg == "Ed25519" else { throw SDJWTError.unsupportedAlgorithm(String(alg.prefix(20))) }
    }

    public func verify(with key: Ed25519.VerifyingKey) -> Bool {
        var compact = compact
        return compact.withUTF8 { bytes in
            key.isValidSignature(
                signature, for: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[..<signingInputCount])))
        }
    }
}

/// Replaces digests in a payload by their disclosures (RFC 9901 §7.1 steps 3–5), refusing anything ambiguous.
///
/// Digests are compared as 32-byte values: a payload digest that is not canonical base64url of 32 bytes can match
/// no disclosure (it counts as withheld), and two payload strings are the same digest exactly when their text is.
public struct DisclosureResolver {
    private struct Entry {
        var name: String?
        var value: JSONValue
        /// Whether a payload digest named this disclosure already.
        var claimed = false
    }

    /// One step of a JSON Pointer, turned into text only when a pointer is needed.
    private enum Step {
        case key(String)
        case index(Int)
    }

    private var entries: [Entry] = []
    private var indexByDigest: [SHA256Digest: Int] = [:]
    /// Payload digests without a disclosure (decoys, withheld claims), each allowed once.
    private var seenWithheldDigests = Set<SHA256Digest>()
    /// Payload digest strings that are not base64url SHA-256 digests (each allowed once).
    private var seenOtherDigests = Set<String>()
    private var isSegmentedText: ((String) -> Bool)?

    /// The number of disclosures that were used.
    public private(set) var usedCount = 0
    /// Digests in the payload that had no disclosure (withheld).
    public private(set) var withheldCount = 0
    /// JSON Pointers (in the payload) of arrays that lost at least one withheld element.
    public private(set) var arraysWithWithheldElements = Set<String>()

    /// Parses and hashes every disclosure.
    /// - Throws: ``SDJWTError/badDisclosure(index:reason:)`` for a malformed or repeated disclosure.
    public init(disclosures: [String]) throws {
        var scratch: [UInt8] = []
        try self.init(disclosures: disclosures, sha256: try ReusableSHA256(), scratch: &scratch)
    }

    /// The disclosures as parsed, in order, when the resolver was made `keeping` them (empty otherwise): what a
    /// ``DisclosureMap`` of the same SD-JWT is made from.
    private(set) var parsed: [Disclosure] = []

    /// Parses with a hasher and a decoding buffer that a verifier keeps from one SD-JWT to the next.
    /// - Parameter keeping: also keep every disclosure whole (``parsed``).
    init(disclosures: [String], sha256: ReusableSHA256, scratch: inout [UInt8], keeping: Bool = false) throws {
        entries.reserveCapacity(disclosures.count)
        indexByDigest.reserveCapacity(disclosures.count)
        if keeping { parsed.reserveCapacity(disclosures.count) }
        for (i, text) in disclosures.enumerated() {
            let (name, value, salt) = try Disclosure.parseContent(
                text, index: i, scratch: &scratch, keepingSalt: keeping)
            let digest = try sha256.digest(utf8: text)
            guard indexByDigest.updateValue(i, forKey: digest) == nil else {
                throw SDJWTError.badDisclosure(index: i, reason: "the same disclosure twice")
            }
            entries.append(Entry(name: name, value: value))
            if keeping {
                parsed.append(Disclosure(encoded: text, salt: salt ?? "", name: name, value: value, digest: digest))
            }
        }
        // The buffer held disclosure plaintext; overwrite all of its capacity before it waits for the next version.
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: repeatElement(0, count: scratch.capacity))
        scratch.removeAll(keepingCapacity: true)
    }

    /// Processes the whole payload; throws unless every disclosure was referenced exactly once.
    /// - Parameter isSegmentedText: given the JSON Pointer (RFC 6901, escaped) of a resolved
    ///   `{"segments": [...]}` object, whether to join its presented string segments back into one string
    ///   (other segments are dropped). Objects are resolved from the inside out, so a candidate's segments are
    ///   already resolved (and joined, if they were candidates themselves) when it is asked about.
    public mutating func resolve(
        _ payload: consuming JSONValue, joiningSegmentsWhere isSegmentedText: ((String) -> Bool)? = nil
    ) throws -> JSONValue {
        self.isSegmentedText = isSegmentedText
        defer { self.isSegmentedText = nil }
        var path: [Step] = []
        path.reserveCapacity(16)
        var result = payload
        try process(&result, depth: 0, path: &path)
        let unused = entries.count - usedCount
        if unused > 0 { throw SDJWTError.unreferencedDisclosures(count: unused) }
        return result
    }

    /// The disclosure a payload digest names, nil if none was presented; refuses a digest seen before.
    private mutating func claim(_ item: JSONValue) throws -> Int? {
        guard case .string(let text) = item else { throw SDJWTError.malformed("a digest is not a string") }
        if let digest = Base64.decodeDigest(text) {
            if let index = indexByDigest[digest] {
                guard !entries[index].claimed else { throw SDJWTError.duplicateDigest }
                entries[index].claimed = true
                return index
            }
            guard seenWithheldDigests.insert(digest).inserted else { throw SDJWTError.duplicateDigest }
            return nil
        }
        guard seenOtherDigests.insert(text).inserted else { throw SDJWTError.duplicateDigest }
        return nil
    }

    private static func pointer(_ path: [Step]) -> String {
        var out = ""
        for step in path {
            out += "/"
            switch step {
            case .key(let key): out += RecordSigner.escape(key)
            case .index(let i): out += String(i)
            }
        }
        return out
    }

    /// Moves a claimed disclosure's value out (each disclosure is claimed at most once), so it can change in place.
    private mutating func takeValue(_ index: Int) -> JSONValue {
        var value = JSONValue.null
        swap(&value, &entries[index].value)
        return value
    }

    /// Resolves `value` in place. Each container is detached from `value` before it changes, so the arrays the
    /// parser built are edited where they are (no copy) unless something else still holds them.
    private mutating func process(_ value: inout JSONValue, depth: Int, path: inout [Step]) throws {
        guard depth < 64 else { throw SDJWTError.tooLarge("the payload nesting") }
        // `if case` then clearing `value` leaves the bound array uniquely referenced (a `switch` keeps a copy).
        if case .object(var members) = value {
            value = .null
            var digestsAt: Int?
            for i in members.indices {
                let key = members[i].0
                if key == "_sd" {
                    digestsAt = i
                    continue
                }
                if key == "..." { throw SDJWTError.malformed("'...' outside an array element") }
                path.append(.key(key))
                try process(&members[i].1, depth: depth + 1, path: &path)
                path.removeLast()
            }
            if let digestsAt {
                guard case .array(let items) = members.remove(at: digestsAt).1 else {
                    throw SDJWTError.malformed("_sd is not an array")
                }
                // Member names are unique in parsed JSON; a disclosed name must not repeat one. Small objects are
                // checked by a scan, large ones by a set.
                var names: Set<String>?
                for item in items {
                    guard let index = try claim(item) else {
                        withheldCount += 1
                        continue
                    }
                    guard let name = entries[index].name else {
                        throw SDJWTError.badDisclosure(
                            index: index, reason: "an array-element disclosure referenced from _sd")
                    }
                    guard name != "_sd", name != "...", name != "_sd_alg" else {
                        throw SDJWTError.reservedClaimName(name)
                    }
                    let repeated: Bool
                    if members.count < 16 && names == nil {
                        repeated = members.contains { $0.0 == name }
                    } else {
                        if names == nil { names = Set(members.map(\.0)) }
                        repeated = !names!.insert(name).inserted
                    }
                    guard !repeated else { throw SDJWTError.claimAlreadyPresent(String(name.prefix(40))) }
                    usedCount += 1
                    var disclosed = takeValue(index)
                    path.append(.key(name))
                    try process(&disclosed, depth: depth + 1, path: &path)
                    path.removeLast()
                    members.append((name, disclosed))
                }
            }
            if let isSegmentedText, members.count == 1, members[0].0 == "segments",
                case .array(let segments) = members[0].1, isSegmentedText(Self.pointer(path))
            {
                var text = ""
                for case .string(let segment) in segments { text += segment }
                value = .string(text)
            } else {
                value = .object(members)
            }
        } else if case .array(var items) = value {
            value = .null
            // Elements kept so far are items[..<kept]; withheld ones are dropped by moving later elements down.
            var kept = 0
            for i in items.indices {
                if case .object(let members) = items[i], members.count == 1, members[0].0 == "..." {
                    guard let index = try claim(members[0].1) else {
                        withheldCount += 1
                        arraysWithWithheldElements.insert(Self.pointer(path))
                        continue
                    }
                    guard entries[index].name == nil else {
                        throw SDJWTError.badDisclosure(
                            index: index, reason: "an object-property disclosure referenced from an array")
                    }
                    usedCount += 1
                    var disclosed = takeValue(index)
                    path.append(.index(kept))
                    try process(&disclosed, depth: depth + 1, path: &path)
                    path.removeLast()
                    items[kept] = disclosed
                } else {
                    if kept != i { items.swapAt(kept, i) }
                    path.append(.index(kept))
                    try process(&items[kept], depth: depth + 1, path: &path)
                    path.removeLast()
                }
                kept += 1
            }
            items.removeLast(items.count - kept)
            value = .array(items)
        }
    }
}

/// Salts for the disclosures of one signing, drawn from OpenSSL's DRBG 64 at a time instead of one call each (a
/// call costs more than hashing a short disclosure); the bytes are wiped when the signing ends. Not thread-safe.
final class DisclosureSalts {
    static let size = 16
    private var pool: [UInt8] = []
    private var used = 0

    /// The next unused 16 bytes.
    func next() throws -> ArraySlice<UInt8> {
        if used == pool.count {
            wipe(&pool)
            pool = try SecureRandom.bytes(Self.size * 64)
            used = 0
        }
        defer { used += Self.size }
        return pool[used..<used + Self.size]
    }

    deinit { wipe(&pool) }
}
