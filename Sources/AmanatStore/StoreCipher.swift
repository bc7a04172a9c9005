import AmanatCrypto
import AmanatRecords
import Dispatch
import Foundation
import GRDB

/// The workspace's store key: 256 random bits, kept on disk only wrapped to the organization's own key
/// (`Specs/storage.md`). Everything in the store that holds testimony content is encrypted under keys it wraps.
public struct StoreKey: Sendable {
    let secret: SecretBytes

    /// - Throws: ``StoreError/locked(_:)`` unless `secret` is 32 bytes.
    public init(_ secret: SecretBytes) throws {
        guard secret.count == ChaChaPoly.keySize else { throw StoreError.locked("the store key is not 32 bytes") }
        self.secret = secret
    }

    /// A fresh random key.
    public static func generate() throws -> StoreKey { try StoreKey(SecretBytes(try SecureRandom.bytes(32))) }

    /// The raw key, for wrapping it (the caller wipes what it copies).
    public var bytes: SecretBytes { secret }
}

/// Encryption of the store's rows (ChaCha20-Poly1305 through AmanatCrypto).
///
/// - Each record has its own random data key, wrapped by the store key in `recordKey` (associated data: the record
///   id), so an erasure destroys one key and leaves the others.
/// - A sealed field is `nonce (12 random bytes) ‖ ciphertext ‖ tag`; its associated data names the field, the record
///   and the version (`amanat-store/v1 <field> <record> <version>`), so a row moved to another place, record or
///   workspace does not open.
/// - Ledger rows name partners by a keyed tag (HMAC-SHA-256 under a key derived from the store key), not by
///   fingerprint.
final class StoreCipher: @unchecked Sendable {
    let storeKey: SecretBytes
    private let partnerKey: SecretBytes
    private let lock = NSLock()
    private var recordKeys: [String: SecretBytes] = [:]
    /// One cipher under the store key, and one under the last record's key (a full scan reads records in order), so
    /// a scan of many rows does not set up a cipher per row. Used under `lock`.
    private let storeKeyCipher: ChaChaPoly.Cipher
    private let lastRecordCipher = RecordCipherWorker()

    init(_ key: StoreKey) throws {
        storeKey = key.secret
        storeKeyCipher = try ChaChaPoly.Cipher(key: key.secret)
        partnerKey = try HKDF.deriveKey(
            inputKeyMaterial: key.secret, info: Array("amanat-store/v1 partner tags".utf8), outputByteCount: 32)
    }

    // MARK: Fields

    static func associatedData(_ field: String, record: String, version: String) -> [UInt8] {
        Array("amanat-store/v1 \(field) \(record) \(version)".utf8)
    }

    static func seal(_ plaintext: [UInt8], key: SecretBytes, aad: [UInt8]) throws -> [UInt8] {
        let nonceBytes = try SecureRandom.bytes(ChaChaPoly.nonceSize)
        let nonce = try ChaChaPoly.Nonce(nonceBytes)
        return nonceBytes + (try ChaChaPoly.seal(key: key, nonce: nonce, plaintext: plaintext, authenticating: aad))
    }

    static func open(_ sealed: [UInt8], key: SecretBytes, aad: [UInt8]) throws -> [UInt8] {
        guard sealed.count >= ChaChaPoly.nonceSize + ChaChaPoly.tagSize else { throw CryptoError.authenticationFailed }
        let nonce = try ChaChaPoly.Nonce(sealed[0..<ChaChaPoly.nonceSize])
        return try ChaChaPoly.open(
            key: key, nonce: nonce, ciphertext: Array(sealed[ChaChaPoly.nonceSize...]), authenticating: aad)
    }

    /// Seals a text field of a version under its record's key.
    func seal(_ text: String, field: String, record: String, version: String, key: SecretBytes) throws -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        return try Self.seal(
            Array(text.utf8), cipher: try recordCipher(record, key: key),
            aad: Self.associatedData(field, record: record, version: version))
    }

    /// Opens `sealed` (nonce ‖ ciphertext ‖ tag) with `cipher`.
    static func open(_ sealed: [UInt8], cipher: ChaChaPoly.Cipher, aad: [UInt8]) throws -> [UInt8] {
        guard sealed.count >= ChaChaPoly.nonceSize + ChaChaPoly.tagSize else { throw CryptoError.authenticationFailed }
        let nonce = try ChaChaPoly.Nonce(sealed[0..<ChaChaPoly.nonceSize])
        var plain = [UInt8](repeating: 0, count: sealed.count - ChaChaPoly.nonceSize - ChaChaPoly.tagSize)
        try sealed.withUnsafeBytes { input in
            try plain.withUnsafeMutableBytes { output in
                try cipher.open(
                    nonce: nonce, input: UnsafeRawBufferPointer(rebasing: input[ChaChaPoly.nonceSize...]),
                    output: output, aad: aad)
            }
        }
        return plain
    }

    /// Seals with the store key (record and attachment keys).
    func sealWithStoreKey(_ plaintext: [UInt8], aad: [UInt8]) throws -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        return try Self.seal(plaintext, cipher: storeKeyCipher, aad: aad)
    }

    /// Opens with the store key (wrapped record and attachment keys).
    func openWithStoreKey(_ sealed: [UInt8], aad: [UInt8]) throws -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        return try Self.open(sealed, cipher: storeKeyCipher, aad: aad)
    }

    /// The cipher keyed for `record` (one cipher, re-keyed when the record changes). Call under `lock`.
    private func recordCipher(_ record: String, key: SecretBytes) throws -> ChaChaPoly.Cipher {
        try lastRecordCipher.cipher(for: record, key: key)
    }

    /// Opens with the record's key, reusing the cipher of the record opened last.
    func open(_ sealed: [UInt8], record: String, key: SecretBytes, aad: [UInt8]) throws -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        return try Self.open(sealed, cipher: try recordCipher(record, key: key), aad: aad)
    }

    /// Seals `plaintext` (nonce ‖ ciphertext ‖ tag) with `cipher` and a random nonce.
    static func seal(_ plaintext: [UInt8], cipher: ChaChaPoly.Cipher, aad: [UInt8]) throws -> [UInt8] {
        let nonceBytes = try SecureRandom.bytes(ChaChaPoly.nonceSize)
        var out = nonceBytes + [UInt8](repeating: 0, count: plaintext.count + ChaChaPoly.tagSize)
        try plaintext.withUnsafeBytes { input in
            try out.withUnsafeMutableBytes { output in
                try cipher.seal(
                    nonce: try ChaChaPoly.Nonce(nonceBytes), input: input,
                    output: UnsafeMutableRawBufferPointer(rebasing: output[ChaChaPoly.nonceSize...]), aad: aad)
            }
        }
        return out
    }

    /// Opens a text field of a version.
    /// - Throws: ``StoreError/damaged(record:what:)`` naming the record when the ciphertext does not open.
    func open(_ sealed: [UInt8], field: String, record: String, version: String, key: SecretBytes) throws -> String {
        do {
            let plain = try open(
                sealed, record: record, key: key, aad: Self.associatedData(field, record: record, version: version))
            guard let text = String(validating: plain, as: UTF8.self) else {
                throw StoreError.damaged(record: record, what: "the \(field) of version \(version) is not UTF-8")
            }
            return text
        } catch is CryptoError {
            throw StoreError.damaged(
                record: record, what: "the \(field) of version \(version) does not decrypt (altered or moved)")
        }
    }

    // MARK: Record keys

    static func wrapAAD(_ record: String) -> [UInt8] { Array("amanat-store/v1 record-key \(record)".utf8) }

    /// The data key of `record`: from the cache, unwrapped from `recordKey`, or (when `create`) made and stored.
    func recordKey(_ db: Database, _ record: String, create: Bool) throws -> SecretBytes? {
        lock.lock()
        if let key = recordKeys[record] {
            lock.unlock()
            return key
        }
        lock.unlock()
        if let wrapped = try Data.fetchOne(
            try db.cachedStatement(sql: "SELECT wrapped FROM recordKey WHERE recordId = ?"), arguments: [record])
        {
            let key: SecretBytes
            do {
                key = SecretBytes(try openWithStoreKey(Array(wrapped), aad: Self.wrapAAD(record)))
            } catch {
                throw StoreError.damaged(record: record, what: "its data key does not unwrap (altered or moved)")
            }
            remember(key, for: record)
            return key
        }
        guard create else { return nil }
        let key = SecretBytes(try SecureRandom.bytes(32))
        try storeRecordKey(db, key, for: record)
        return key
    }

    /// Fresh random data keys for `records`, each with its wrapped form, made on all cores (for a batch of new
    /// records, before the write transaction stores them with ``storeWrappedRecordKeyIfAbsent(_:_:wrapped:for:)``).
    func makeRecordKeys(_ records: [String]) throws -> [(record: String, key: SecretBytes, wrapped: Data)] {
        let storeKey = storeKey
        return try OrderedParallel.map(records, minimumPerCore: 256, makeWorker: { try StoreKeyWorker(storeKey) }) {
            worker, record in
            let key = SecretBytes(try SecureRandom.bytes(32))
            let wrapped = try key.withUnsafeBytes { raw in
                try Self.seal(Array(raw), cipher: worker.cipher, aad: Self.wrapAAD(record))
            }
            return (record, key, Data(wrapped))
        }
    }

    /// Stores `key`, already wrapped as `wrapped` (``makeRecordKeys(_:)``), as the data key of `record` unless the
    /// record has a key already; returns whether it was stored.
    func storeWrappedRecordKeyIfAbsent(
        _ db: Database, _ key: SecretBytes, wrapped: Data, for record: String
    ) throws
        -> Bool
    {
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO recordKey (recordId, wrapped) VALUES (?, ?)").execute(
            arguments: [record, wrapped])
        guard db.changesCount > 0 else { return false }
        remember(key, for: record)
        return true
    }

    /// Wraps and stores `key` as the data key of `record`, replacing any other.
    func storeRecordKey(_ db: Database, _ key: SecretBytes, for record: String) throws {
        let wrapped = try key.withUnsafeBytes { raw in
            try sealWithStoreKey(Array(raw), aad: Self.wrapAAD(record))
        }
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO recordKey (recordId, wrapped) VALUES (?, ?)").execute(
            arguments: [record, Data(wrapped)])
        remember(key, for: record)
    }

    func remember(_ key: SecretBytes, for record: String) {
        lock.lock()
        recordKeys[record] = key
        lastRecordCipher.forget(record)
        lock.unlock()
    }

    /// The record's key as the store holds it now, read and unwrapped without the cache.
    func storedRecordKey(_ db: Database, _ record: String) throws -> SecretBytes? {
        guard
            let wrapped = try Data.fetchOne(
                try db.cachedStatement(sql: "SELECT wrapped FROM recordKey WHERE recordId = ?"), arguments: [record])
        else { return nil }
        do {
            return SecretBytes(try openWithStoreKey(Array(wrapped), aad: Self.wrapAAD(record)))
        } catch {
            throw StoreError.damaged(record: record, what: "its data key does not unwrap (altered or moved)")
        }
    }

    func forget(record: String) {
        lock.lock()
        recordKeys[record] = nil
        lastRecordCipher.forget(record)
        lock.unlock()
    }

    /// Forgets every cached key (after a transaction that rolled back may have cached keys it created).
    func forgetAll() {
        lock.lock()
        recordKeys = [:]
        lastRecordCipher.forget()
        lock.unlock()
    }

    /// A sealed `content` cell read by a scan, to be opened later.
    struct SealedContent: Sendable {
        var index: Int
        var record: String
        var version: String
        var bytes: Data
    }

    /// Opens many sealed contents on all cores, each worker with its own cipher (re-keyed as the record changes);
    /// the record keys must be cached (``recordKey(_:_:create:)`` or ``loadAllRecordKeys(_:)``). Returns
    /// `(index, content)` pairs, each content parsed by the worker that decrypted it.
    /// - Throws: ``StoreError/damaged(record:what:)`` for the first item (in order) that does not open or parse.
    func openContents(_ items: [SealedContent]) throws -> [(Int, JSONValue)] {
        lock.lock()
        let keys = recordKeys
        lock.unlock()
        return try OrderedParallel.map(items, minimumPerCore: 256, makeWorker: { RecordCipherWorker() }) {
            worker, item in
            guard let key = keys[item.record] else { throw StoreError.locked("record \(item.record) has no key") }
            let plain: [UInt8]
            do {
                plain = try Self.open(
                    Array(item.bytes), cipher: try worker.cipher(for: item.record, key: key),
                    aad: Self.associatedData("content", record: item.record, version: item.version))
            } catch is CryptoError {
                throw StoreError.damaged(
                    record: item.record,
                    what: "the content of version \(item.version) does not decrypt (altered or moved)")
            }
            do {
                return (item.index, try JSONValue.parse(plain))
            } catch {
                throw StoreError.damaged(
                    record: item.record, what: "the content of version \(item.version) is not a JSON document")
            }
        }
    }

    /// A version's three content fields to seal before a write transaction.
    struct PlainFields: Sendable {
        var record: String
        var version: String
        var jwt: String
        var disclosures: String
        var content: String?
    }

    /// The sealed forms (nil: the field stays as it is: an empty disclosures list or a null content).
    struct SealedFields: Sendable {
        var jwt: Data
        var disclosures: Data?
        var content: Data?
    }

    /// Seals many versions' fields on all cores with the given record keys (each worker its own cipher).
    func sealFields(_ items: [PlainFields], keys: [String: SecretBytes]) throws -> [SealedFields] {
        try OrderedParallel.map(items, minimumPerCore: 128, makeWorker: { RecordCipherWorker() }) { worker, item in
            guard let key = keys[item.record] else { throw StoreError.locked("record \(item.record) has no key") }
            let cipher = try worker.cipher(for: item.record, key: key)
            func seal(_ text: String, _ field: String) throws -> Data {
                Data(
                    try Self.seal(
                        Array(text.utf8), cipher: cipher,
                        aad: Self.associatedData(field, record: item.record, version: item.version)))
            }
            return SealedFields(
                jwt: try seal(item.jwt, "jwt"),
                disclosures: item.disclosures.isEmpty ? nil : try seal(item.disclosures, "disclosures"),
                content: try item.content.map { try seal($0, "content") })
        }
    }

    /// Unwraps every record key the cache lacks (before a scan of the whole store), on all cores, and caches them.
    /// Keys already cached are kept: this process stored or unwrapped them, and replaces them when it rekeys.
    func loadAllRecordKeys(_ db: Database) throws {
        lock.lock()
        let cached = recordKeys
        lock.unlock()
        var wrapped: [(record: String, wrapped: Data)] = []
        let rows = try Row.fetchCursor(db, sql: "SELECT recordId, wrapped FROM recordKey")
        while let row = try rows.next() {
            let record: String = row[0]
            if cached[record] == nil { wrapped.append((record, row[1])) }
        }
        guard !wrapped.isEmpty else { return }
        let storeKey = storeKey
        let keys = try OrderedParallel.map(wrapped, minimumPerCore: 512, makeWorker: { try StoreKeyWorker(storeKey) }) {
            worker, item in
            do {
                return SecretBytes(
                    try Self.open(Array(item.wrapped), cipher: worker.cipher, aad: Self.wrapAAD(item.record)))
            } catch {
                throw StoreError.damaged(record: item.record, what: "its data key does not unwrap (altered or moved)")
            }
        }
        lock.lock()
        for (item, key) in zip(wrapped, keys) where recordKeys[item.record] == nil { recordKeys[item.record] = key }
        lock.unlock()
    }

    // MARK: Partners and the key check

    /// The keyed tag that stands for a partner's fingerprint in the ledger.
    func partnerTag(_ fingerprint: String) throws -> String {
        try HMACSHA256.authenticationCode(key: partnerKey, message: Array(fingerprint.utf8)).map {
            String(format: "%02x", $0)
        }.joined()
    }

    static let checkAAD = Array("amanat-store/v1 key check".utf8)

    /// A value only this store key opens, kept in `storeMeta`: a store from another workspace is refused at once.
    func keyCheck() throws -> [UInt8] { try Self.seal([], key: storeKey, aad: Self.checkAAD) }

    func verify(keyCheck sealed: [UInt8]) -> Bool { (try? Self.open(sealed, key: storeKey, aad: Self.checkAAD)) != nil }
}

/// One worker's cipher for a run of many records' fields (``OrderedParallel``), re-keyed only when the record changes.
final class RecordCipherWorker {
    private var cipher: ChaChaPoly.Cipher?
    private var keyed: String?

    func cipher(for record: String, key: SecretBytes) throws -> ChaChaPoly.Cipher {
        if let cipher, keyed == record { return cipher }
        let next = try cipher ?? ChaChaPoly.Cipher(key: key)
        try next.setKey(key)
        cipher = next
        keyed = record
        return next
    }

    /// Drops the cipher (and the key schedule in it) when it is keyed for `record`, or in any case when nil.
    func forget(_ record: String? = nil) {
        guard record == nil || keyed == record else { return }
        cipher = nil
        keyed = nil
    }
}

/// One worker's cipher under the store key (unwrapping record keys on all cores).
final class StoreKeyWorker {
    let cipher: ChaChaPoly.Cipher

    init(_ storeKey: SecretBytes) throws { cipher = try ChaChaPoly.Cipher(key: storeKey) }
}
