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
        salt = Base64URL.encode(try SecureRandom.bytes(16))
        self.name = name
        self.value = value
        var items: [JSONValue] = [.string(salt)]
        if let name { items.append(.string(name)) }
        items.append(value)
        encoded = Base64URL.encode(Array(JSONValue.array(items).serialized().utf8))
        digest = Base64URL.encode(try SHA256.hash(Array(encoded.utf8)))
    }

    /// Parses a disclosure from its compact text.
    /// - Throws: ``SDJWTError/badDisclosure(index:reason:)``.
    public init(encoded: String, index: Int) throws {
        guard let bytes = Base64URL.decode(encoded) else {
            throw SDJWTError.badDisclosure(index: index, reason: "not base64url")
        }
        let json: JSONValue
        do { json = try JSONValue.parse(bytes, limits: .init(maximumBytes: 16 << 20, maximumDepth: 48)) } catch {
            throw SDJWTError.badDisclosure(index: index, reason: "not JSON (\(error))")
        }
        guard case .array(let items) = json, items.count == 2 || items.count == 3, let salt = items[0].stringValue
        else {
            throw SDJWTError.badDisclosure(index: index, reason: "not an array of [salt, name, value] or [salt, value]")
        }
        self.encoded = encoded
        self.salt = salt
        if items.count == 3 {
            guard let name = items[1].stringValue else {
                throw SDJWTError.badDisclosure(index: index, reason: "the claim name is not a string")
            }
            self.name = name
        } else {
            name = nil
        }
        value = items.last!
        digest = Base64URL.encode(try SHA256.hash(Array(encoded.utf8)))
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

    /// Splits a compact SD-JWT.
    /// - Throws: ``SDJWTError`` for a malformed form or a key binding JWT.
    public static func parse(_ text: String) throws -> SDJWT {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.utf8.count <= maximumSize else { throw SDJWTError.tooLarge("the SD-JWT") }
        let parts = trimmed.split(separator: "~", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2 else { throw SDJWTError.malformed("no '~' separator (a plain JWT is not an SD-JWT)") }
        guard parts.last == "" else { throw SDJWTError.keyBindingNotSupported }
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
    public var signingInput: [UInt8]
    public var signature: [UInt8]

    /// Creates and signs a JWT; `header` gets `alg: EdDSA`.
    public static func sign(header: JSONValue, payload: JSONValue, key: Ed25519.SigningKey) throws -> String {
        let h = header.setting("alg", .string("EdDSA"))
        let input =
            Base64URL.encode(Array(h.serialized().utf8)) + "." + Base64URL.encode(Array(payload.serialized().utf8))
        return input + "." + Base64URL.encode(try key.signature(for: Array(input.utf8)))
    }

    /// Parses without verifying.
    public static func parse(_ jwt: String) throws -> SignedJWT {
        // Work on the UTF-8 bytes: a JWT is ASCII, and Character-level splitting costs more than the JSON.
        let bytes = Array(jwt.utf8)
        let dots = bytes.indices.filter { bytes[$0] == UInt8(ascii: ".") }
        guard dots.count == 2 else { throw SDJWTError.malformed("the JWT does not have three parts") }
        func decode(_ range: Range<Int>) -> [UInt8]? {
            bytes[range].withUnsafeBufferPointer { Base64.decode($0, table: Base64.urlTable) }
        }
        guard let h = decode(0..<dots[0]), let p = decode((dots[0] + 1)..<dots[1]),
            let s = decode((dots[1] + 1)..<bytes.count)
        else {
            throw SDJWTError.malformed("a JWT part is not base64url")
        }
        let header: JSONValue
        let payload: JSONValue
        do {
            header = try JSONValue.parse(h, limits: .init(maximumBytes: 64 << 10, maximumDepth: 8))
            payload = try JSONValue.parse(p, limits: .init(maximumBytes: 16 << 20, maximumDepth: 48))
        } catch {
            throw SDJWTError.malformed("the JWT header or payload is not JSON (\(error))")
        }
        guard header.objectValue != nil, payload.objectValue != nil else {
            throw SDJWTError.malformed("the JWT header and payload must be JSON objects")
        }
        guard s.count == 64 else { throw SDJWTError.badSignature }
        return SignedJWT(header: header, payload: payload, signingInput: Array(bytes[..<dots[1]]), signature: s)
    }

    /// The `alg` must be `EdDSA` or `Ed25519` (RFC 9864).
    public func checkAlgorithm() throws {
        let alg = header["alg"]?.stringValue ?? ""
        guard alg == "EdDSA" || alg == "Ed25519" else { throw SDJWTError.unsupportedAlgorithm(String(alg.prefix(20))) }
    }

    public func verify(with key: Ed25519.VerifyingKey) -> Bool { key.isValidSignature(signature, for: signingInput) }
}

/// Replaces digests in a payload by their disclosures (RFC 9901 §7.1 steps 3–5), refusing anything ambiguous.
public struct DisclosureResolver {
    private var byDigest: [String: (index: Int, disclosure: Disclosure)] = [:]
    private var used = Set<String>()
    private var seenDigests = Set<String>()

    /// The number of disclosures that were used.
    public var usedCount: Int { used.count }
    /// Digests in the payload that had no disclosure (withheld).
    public private(set) var withheldCount = 0
    /// JSON Pointers (in the payload) of arrays that lost at least one withheld element.
    public private(set) var arraysWithWithheldElements = Set<String>()

    public init(disclosures: [String]) throws {
        for (i, text) in disclosures.enumerated() {
            let d = try Disclosure(encoded: text, index: i)
            guard byDigest[d.digest] == nil else {
                throw SDJWTError.badDisclosure(index: i, reason: "the same disclosure twice")
            }
            byDigest[d.digest] = (i, d)
        }
    }

    /// Processes the whole payload; throws unless every disclosure was referenced exactly once.
    public mutating func resolve(_ payload: JSONValue) throws -> JSONValue {
        var path: [String] = []
        let result = try process(payload, depth: 0, path: &path)
        let unused = byDigest.count - used.count
        if unused > 0 { throw SDJWTError.unreferencedDisclosures(count: unused) }
        return result
    }

    private mutating func claim(_ digest: JSONValue) throws -> String {
        guard let d = digest.stringValue else { throw SDJWTError.malformed("a digest is not a string") }
        guard seenDigests.insert(d).inserted else { throw SDJWTError.duplicateDigest }
        return d
    }

    /// `path` is the JSON Pointer of `value` as components; it is joined only when a withheld element is recorded.
    private mutating func process(_ value: JSONValue, depth: Int, path: inout [String]) throws -> JSONValue {
        guard depth < 64 else { throw SDJWTError.tooLarge("the payload nesting") }
        switch value {
        case .object(let members):
            var out: [(String, JSONValue)] = []
            var names = Set<String>()
            for (k, v) in members where k != "_sd" {
                if k == "..." { throw SDJWTError.malformed("'...' outside an array element") }
                path.append(k)
                out.append((k, try process(v, depth: depth + 1, path: &path)))
                path.removeLast()
                names.insert(k)
            }
            if let sd = value["_sd"] {
                guard case .array(let digests) = sd else { throw SDJWTError.malformed("_sd is not an array") }
                for item in digests {
                    let d = try claim(item)
                    guard let (index, disclosure) = byDigest[d] else {
                        withheldCount += 1
                        continue
                    }
                    guard let name = disclosure.name else {
                        throw SDJWTError.badDisclosure(
                            index: index, reason: "an array-element disclosure referenced from _sd")
                    }
                    guard name != "_sd", name != "...", name != "_sd_alg" else {
                        throw SDJWTError.reservedClaimName(name)
                    }
                    guard names.insert(name).inserted else {
                        throw SDJWTError.claimAlreadyPresent(String(name.prefix(40)))
                    }
                    used.insert(d)
                    path.append(name)
                    out.append((name, try process(disclosure.value, depth: depth + 1, path: &path)))
                    path.removeLast()
                }
            }
            return .object(out)
        case .array(let items):
            var out: [JSONValue] = []
            for item in items {
                if case .object(let members) = item, members.count == 1, members[0].0 == "..." {
                    let d = try claim(members[0].1)
                    guard let (index, disclosure) = byDigest[d] else {
                        withheldCount += 1
                        arraysWithWithheldElements.insert(path.isEmpty ? "" : "/" + path.joined(separator: "/"))
                        continue
                    }
                    guard disclosure.name == nil else {
                        throw SDJWTError.badDisclosure(
                            index: index, reason: "an object-property disclosure referenced from an array")
                    }
                    used.insert(d)
                    path.append(String(out.count))
                    out.append(try process(disclosure.value, depth: depth + 1, path: &path))
                    path.removeLast()
                } else {
                    path.append(String(out.count))
                    out.append(try process(item, depth: depth + 1, path: &path))
                    path.removeLast()
                }
            }
            return .array(out)
        default:
            return value
        }
    }
}
