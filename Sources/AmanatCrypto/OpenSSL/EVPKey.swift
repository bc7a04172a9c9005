internal import COpenSSL
import Foundation

/// Owns one `EVP_PKEY *`. Immutable after init, hence safe to share across tasks.
///
/// The pointer is reachable only inside ``withPointer(_:)``, which keeps this object (and so the `EVP_PKEY`) alive
/// for the whole scope: a raw pointer read from a stored property could otherwise outlive the object's last use,
/// and Swift may free the object (and the key) while OpenSSL still works on it.
final class EVPKey: @unchecked Sendable {
    private let pointer: OpaquePointer

    init(takingOwnership pointer: OpaquePointer) { self.pointer = pointer }
    deinit { EVP_PKEY_free(pointer) }

    /// Calls `body` with the `EVP_PKEY *`, keeping the key alive until `body` returns. Do not let it escape.
    func withPointer<R>(_ body: (OpaquePointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) { try body(pointer) }
    }

    enum Kind { case ed25519, x25519 }

    var kind: Kind? {
        let id = withPointer { EVP_PKEY_get_base_id($0) }
        if id == amanat_pkey_ed25519() { return .ed25519 }
        if id == amanat_pkey_x25519() { return .x25519 }
        return nil
    }

    static func nid(_ kind: Kind) -> Int32 { kind == .ed25519 ? amanat_pkey_ed25519() : amanat_pkey_x25519() }

    static func generate(_ kind: Kind) throws -> EVPKey {
        clearOpenSSLErrors()
        let ctx = try checkPointer(EVP_PKEY_CTX_new_id(nid(kind), nil), "EVP_PKEY_CTX_new_id")
        defer { EVP_PKEY_CTX_free(ctx) }
        try check(EVP_PKEY_keygen_init(ctx), "EVP_PKEY_keygen_init")
        var key: OpaquePointer?
        try check(EVP_PKEY_keygen(ctx, &key), "EVP_PKEY_keygen")
        return EVPKey(takingOwnership: try checkPointer(key, "EVP_PKEY_keygen"))
    }

    static func privateKey(_ kind: Kind, raw: UnsafeRawBufferPointer) throws -> EVPKey {
        guard raw.count == 32 else {
            throw CryptoError.invalidLength(what: "private key", expected: 32, actual: raw.count)
        }
        clearOpenSSLErrors()
        let key = EVP_PKEY_new_raw_private_key(
            nid(kind), nil, raw.baseAddress!.assumingMemoryBound(to: UInt8.self), raw.count)
        return EVPKey(takingOwnership: try checkPointer(key, "EVP_PKEY_new_raw_private_key"))
    }

    static func publicKey(_ kind: Kind, raw: UnsafeRawBufferPointer) throws -> EVPKey {
        guard raw.count == 32 else {
            throw CryptoError.invalidLength(what: "public key", expected: 32, actual: raw.count)
        }
        clearOpenSSLErrors()
        let key = EVP_PKEY_new_raw_public_key(
            nid(kind), nil, raw.baseAddress!.assumingMemoryBound(to: UInt8.self), raw.count)
        return EVPKey(takingOwnership: try checkPointer(key, "EVP_PKEY_new_raw_public_key"))
    }

    func rawPublicKey() throws -> [UInt8] {
        var length = 32
        var out = [UInt8](repeating: 0, count: 32)
        let rc = withPointer { key in
            out.withUnsafeMutableBufferPointer { EVP_PKEY_get_raw_public_key(key, $0.baseAddress, &length) }
        }
        try check(rc, "EVP_PKEY_get_raw_public_key")
        guard length == 32 else { throw CryptoError.invalidLength(what: "public key", expected: 32, actual: length) }
        return out
    }

    func rawPrivateKey() throws -> SecretBytes {
        var length = 32
        var secret = SecretBytes(zeroes: 32)
        let rc = withPointer { key in
            secret.withUnsafeMutableBytes {
                EVP_PKEY_get_raw_private_key(key, $0.baseAddress!.assumingMemoryBound(to: UInt8.self), &length)
            }
        }
        try check(rc, "EVP_PKEY_get_raw_private_key")
        guard length == 32 else { throw CryptoError.invalidLength(what: "private key", expected: 32, actual: length) }
        return secret
    }
}
