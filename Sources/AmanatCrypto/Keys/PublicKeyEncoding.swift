import Foundation

extension Ed25519.VerifyingKey {
    /// The key as PEM `PUBLIC KEY` (DER SubjectPublicKeyInfo, RFC 8410).
    public func pemRepresentation() throws -> String {
        PEM.encode(label: "PUBLIC KEY", der: try PKCS8Codec.subjectPublicKeyInfo(of: key))
    }

    /// Reads a PEM `PUBLIC KEY` holding an Ed25519 key.
    public init(pemRepresentation pem: String) throws {
        let (label, der) = try PEM.decode(pem)
        guard label == "PUBLIC KEY" else {
            throw CryptoError.malformed(what: "public key", reason: "PEM label '\(label)'")
        }
        let key = try PKCS8Codec.key(fromSubjectPublicKeyInfo: der)
        guard key.kind == .ed25519 else { throw CryptoError.unsupportedKey("expected an Ed25519 public key") }
        try self.init(key: key)
    }

    /// The key as a JWK (RFC 8037): `{"crv":"Ed25519","kty":"OKP","x":…}`.
    public var jwk: JWK { JWK(crv: "Ed25519", kty: "OKP", x: Base64URL.encode(rawRepresentation)) }

    /// Reads an OKP/Ed25519 JWK (private members, if any, are refused: a public identity must not carry them).
    public init(jwk: JWK) throws {
        guard jwk.kty == "OKP", jwk.crv == "Ed25519" else {
            throw CryptoError.malformed(what: "JWK", reason: "expected kty OKP and crv Ed25519")
        }
        guard jwk.d == nil else { throw CryptoError.malformed(what: "JWK", reason: "contains a private key (d)") }
        guard let raw = Base64URL.decode(jwk.x), raw.count == 32 else {
            throw CryptoError.malformed(what: "JWK", reason: "x is not 32 bytes of base64url")
        }
        try self.init(rawRepresentation: raw)
    }
}

extension X25519.PublicKey {
    /// The key as PEM `PUBLIC KEY` (DER SubjectPublicKeyInfo, RFC 8410).
    public func pemRepresentation() throws -> String {
        PEM.encode(label: "PUBLIC KEY", der: try PKCS8Codec.subjectPublicKeyInfo(of: key))
    }
}

/// A JSON Web Key for an OKP key (RFC 8037). Members are sorted when encoded, so the JSON is canonical.
public struct JWK: Codable, Sendable, Equatable {
    public var crv: String
    public var kty: String
    public var x: String
    /// The private key; present only in private JWKs, which Amanat never writes.
    public var d: String?

    public init(crv: String, kty: String, x: String, d: String? = nil) {
        self.crv = crv
        self.kty = kty
        self.x = x
        self.d = d
    }

    /// The RFC 7638 thumbprint input: the required members in lexicographic order, no whitespace.
    public var thumbprintInput: String { "{\"crv\":\"\(crv)\",\"kty\":\"\(kty)\",\"x\":\"\(x)\"}" }
}
