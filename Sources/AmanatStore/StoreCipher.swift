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
    /// Each key goes from OpenSSL's generator straight into wiped-on-release memory and is sealed from there.
    func makeRecordKeys(_ records: [String]) throws -> [(record: String, key: SecretBytes, wrapped: Data)] {
        let storeKey = storeKey
        return try OrderedParallel.map(records, minimumPerCore: 256, makeWorker: { try StoreKeyWorker(storeKey) }) {
            worker, record in
            let key = try SecureRandom.secret(ChaChaPoly.keySize)
            worker.aad.setWrap(record: record)
            let wrapped = try key.withUnsafeBytes { raw in
                try worker.sealer.seal(raw, cipher: worker.cipher, aad: worker.aad)
            }
            return (record, key, wrapped)
        }
    }

    /// The data keys of those `records` the store has (from the cache, or read with one query per 500 records and
    /// unwrapped on all cores, then cached); records without a key are left out.
    func existingRecordKeys(_ db: Database, _ records: [String]) throws -> [String: SecretBytes] {
        var found: [String: SecretBytes] = [:]
        var missing: [String] = []
        lock.lock()
        for record in records {
            if let key = recordKeys[record] { found[record] = key } else { missing.append(record) }
        }
        lock.unlock()
        var wrapped: [(record: String, wrapped: Data)] = []
        var start = 0
        while start < missing.count {
            let chunk = Array(missing[start..<min(start + 500, missing.count)])
            start += chunk.count
            let rows = try Row.fetchCursor(
                db,
                sql: "SELECT recordId, wrapped FROM recordKey WHERE recordId IN ("
                    + repeatElement("?", count: chunk.count).joined(separator: ",") + ")",
                arguments: StatementArguments(chunk))
            while let row = try rows.next() { wrapped.append((row[0], row[1])) }
        }
        guard !wrapped.isEmpty else { return found }
        let storeKey = storeKey
        let keys = try OrderedParallel.map(wrapped, minimumPerCore: 256, makeWorker: { try StoreKeyWorker(storeKey) }) {
            worker, item in
            try item.wrapped.withUnsafeBytes { sealed in
                try SecretBytes(count: ChaChaPoly.keySize) { key in
                    try worker.unwrap(sealed, record: item.record, into: key)
                }
            }
        }
        lock.lock()
        for (item, key) in zip(wrapped, keys) {
            found[item.record] = key
            recordKeys[item.record] = key
            lastRecordCipher.forget(item.record)
        }
        lock.unlock()
        return found
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

    /// The sealed `content` cells a scan read, with their records' wrapped keys, copied into one buffer (no
    /// allocation per row), to be opened later on all cores (``openContents(_:)``).
    struct SealedContents: Sendable {
        struct Item: Sendable {
            var index: Int
            var record: String
            var version: String
            var content: Range<Int>
            /// The record's wrapped key (`recordKey.wrapped`, read in the same transaction as the content).
            var wrapped: Range<Int>
        }

        var bytes: [UInt8] = []
        var items: [Item] = []

        var isEmpty: Bool { items.isEmpty }

        /// Copies `data` into the buffer; returns where it is.
        mutating func append(_ data: Data) -> Range<Int> {
            let start = bytes.count
            data.withUnsafeBytes { bytes.append(contentsOf: $0) }
            return start..<bytes.count
        }
    }

    /// Opens the sealed contents of a scan on all cores: each worker unwraps a record's key (with the store key)
    /// when the record changes, into one wiped buffer of its own, and re-keys its cipher; the contents are decrypted
    /// straight from the scan's buffer. Returns `(index, content)` pairs, each content parsed by the worker that
    /// decrypted it. Nothing is cached: the keys come from the same read transaction as the contents.
    /// - Throws: ``StoreError/damaged(record:what:)`` for the first item (in order) whose key does not unwrap or
    ///   whose content does not open or parse.
    func openContents(_ sealed: SealedContents) throws -> [(Int, JSONValue)] {
        let storeKey = storeKey
        let bytes = sealed.bytes
        return try OrderedParallel.map(sealed.items, minimumPerCore: 256, makeWorker: { try ContentWorker(storeKey) }) {
            worker, item in
            try bytes.withUnsafeBytes { buffer in
                let cipher = try worker.cipher(
                    for: UnsafeRawBufferPointer(rebasing: buffer[item.wrapped]), at: item.wrapped.lowerBound,
                    record: item.record)
                let plain: [UInt8]
                do {
                    worker.aad.setField("content", record: item.record, version: item.version)
                    plain = try FieldSealer.open(
                        UnsafeRawBufferPointer(rebasing: buffer[item.content]), cipher: cipher, aad: worker.aad)
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

    /// Seals many versions' fields on all cores with the given record keys (each worker its own cipher, nonce
    /// supply and associated-data buffer; each field is encrypted from the string's own UTF-8 into its `Data`).
    func sealFields(_ items: [PlainFields], keys: [String: SecretBytes]) throws -> [SealedFields] {
        try OrderedParallel.map(items, minimumPerCore: 128, makeWorker: { SealWorker() }) { worker, item in
            guard let key = keys[item.record] else { throw StoreError.locked("record \(item.record) has no key") }
            let cipher = try worker.records.cipher(for: item.record, key: key)
            func seal(_ text: String, _ field: String) throws -> Data {
                worker.aad.setField(field, record: item.record, version: item.version)
                var text = text
                return try text.withUTF8 { utf8 in
                    try worker.sealer.seal(UnsafeRawBufferPointer(utf8), cipher: cipher, aad: worker.aad)
                }
            }
            return SealedFields(
                jwt: try seal(item.jwt, "jwt"),
                disclosures: item.disclosures.isEmpty ? nil : try seal(item.disclosures, "disclosures"),
                content: try item.content.map { try seal($0, "content") })
        }
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

/// Associated data built in one reused buffer, byte for byte what ``StoreCipher/associatedData(_:record:version:)``
/// and ``StoreCipher/wrapAAD(_:)`` make, without allocating per value.
struct AssociatedDataBuffer {
    private static let prefix = Array("amanat-store/v1 ".utf8)
    private static let recordKey = Array("record-key ".utf8)
    private var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(256) }

    /// `amanat-store/v1 <field> <record> <version>`.
    mutating func setField(_ field: String, record: String, version: String) {
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: Self.prefix)
        bytes.append(contentsOf: field.utf8)
        bytes.append(0x20)
        bytes.append(contentsOf: record.utf8)
        bytes.append(0x20)
        bytes.append(contentsOf: version.utf8)
    }

    /// `amanat-store/v1 record-key <record>`.
    mutating func setWrap(record: String) {
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: Self.prefix)
        bytes.append(contentsOf: Self.recordKey)
        bytes.append(contentsOf: record.utf8)
    }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes(body)
    }

    var array: [UInt8] { bytes }
}

/// Seals values in the store's format (`nonce ‖ ciphertext ‖ tag`) into one allocation each, with random nonces
/// drawn from OpenSSL's generator 64 at a time (one call to the generator instead of 64; each nonce is used once).
struct FieldSealer {
    private static let noncesPerDraw = 64
    private var nonces: [UInt8] = []
    private var next = 0

    /// A fresh random nonce, also written to `out` (12 bytes).
    mutating func nonce(into out: UnsafeMutableRawBufferPointer) throws -> ChaChaPoly.Nonce {
        if next + ChaChaPoly.nonceSize > nonces.count {
            nonces = try SecureRandom.bytes(ChaChaPoly.nonceSize * Self.noncesPerDraw)
            next = 0
        }
        let start = next
        next += ChaChaPoly.nonceSize
        return try nonces.withUnsafeBytes { all in
            let raw = UnsafeRawBufferPointer(rebasing: all[start..<start + ChaChaPoly.nonceSize])
            out.copyMemory(from: raw)
            return try ChaChaPoly.Nonce(raw: raw)
        }
    }

    /// `nonce ‖ ciphertext ‖ tag` of `plaintext` under `cipher`.
    mutating func seal(
        _ plaintext: UnsafeRawBufferPointer, cipher: ChaChaPoly.Cipher, aad: AssociatedDataBuffer
    ) throws -> Data {
        var out = Data(count: ChaChaPoly.nonceSize + plaintext.count + ChaChaPoly.tagSize)
        try out.withUnsafeMutableBytes { output in
            let nonce = try nonce(into: UnsafeMutableRawBufferPointer(rebasing: output[0..<ChaChaPoly.nonceSize]))
            try aad.withUnsafeBytes { aad in
                try cipher.seal(
                    nonce: nonce, input: plaintext,
                    output: UnsafeMutableRawBufferPointer(rebasing: output[ChaChaPoly.nonceSize...]), aad: aad)
            }
        }
        return out
    }

    /// Opens `nonce ‖ ciphertext ‖ tag` into a new array.
    /// - Throws: ``CryptoError/authenticationFailed`` when it does not open.
    static func open(
        _ sealed: UnsafeRawBufferPointer, cipher: ChaChaPoly.Cipher, aad: AssociatedDataBuffer
    ) throws -> [UInt8] {
        guard sealed.count >= ChaChaPoly.nonceSize + ChaChaPoly.tagSize else { throw CryptoError.authenticationFailed }
        let nonce = try ChaChaPoly.Nonce(raw: UnsafeRawBufferPointer(rebasing: sealed[0..<ChaChaPoly.nonceSize]))
        let body = UnsafeRawBufferPointer(rebasing: sealed[ChaChaPoly.nonceSize...])
        let count = body.count - ChaChaPoly.tagSize
        // At least one byte of capacity, so that the output pointer exists even for an empty plaintext.
        return try [UInt8](unsafeUninitializedCapacity: max(count, 1)) { output, initialized in
            try aad.withUnsafeBytes { aad in
                try cipher.open(
                    nonce: nonce, input: body,
                    output: UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: output[0..<count])),
                    aad: aad)
            }
            initialized = count
        }
    }
}

/// One worker's state for sealing many versions' fields (``StoreCipher/sealFields(_:keys:)``).
final class SealWorker {
    let records = RecordCipherWorker()
    var aad = AssociatedDataBuffer()
    var sealer = FieldSealer()
}

/// One worker's cipher under the store key (wrapping and unwrapping record keys on all cores).
final class StoreKeyWorker {
    let cipher: ChaChaPoly.Cipher
    var aad = AssociatedDataBuffer()
    var sealer = FieldSealer()

    init(_ storeKey: SecretBytes) throws { cipher = try ChaChaPoly.Cipher(key: storeKey) }

    /// Unwraps `record`'s wrapped key into `key` (32 bytes of wiped memory).
    /// - Throws: ``StoreError/damaged(record:what:)`` when it does not unwrap.
    func unwrap(_ wrapped: UnsafeRawBufferPointer, record: String, into key: UnsafeMutableRawBufferPointer) throws {
        do {
            guard wrapped.count == ChaChaPoly.nonceSize + ChaChaPoly.keySize + ChaChaPoly.tagSize else {
                throw CryptoError.authenticationFailed
            }
            aad.setWrap(record: record)
            let nonce = try ChaChaPoly.Nonce(raw: UnsafeRawBufferPointer(rebasing: wrapped[0..<ChaChaPoly.nonceSize]))
            try aad.withUnsafeBytes { aad in
                try cipher.open(
                    nonce: nonce, input: UnsafeRawBufferPointer(rebasing: wrapped[ChaChaPoly.nonceSize...]),
                    output: key, aad: aad)
            }
        } catch {
            throw StoreError.damaged(record: record, what: "its data key does not unwrap (altered or moved)")
        }
    }
}

/// One worker's state for opening a scan's contents (``StoreCipher/openContents(_:)``): the record key it unwrapped
/// last, in one wiped buffer, and a cipher keyed with it.
final class ContentWorker {
    private let keys: StoreKeyWorker
    private var key = SecretBytes(zeroes: ChaChaPoly.keySize)
    private let recordCipher: ChaChaPoly.Cipher
    /// Where the wrapped key the cipher holds was in the scan's buffer (one place per record).
    private var keyed: Int?
    var aad = AssociatedDataBuffer()

    init(_ storeKey: SecretBytes) throws {
        keys = try StoreKeyWorker(storeKey)
        recordCipher = try ChaChaPoly.Cipher(key: key)
    }

    /// The cipher keyed with the record key wrapped as `wrapped` (found at `position` in the scan's buffer).
    func cipher(for wrapped: UnsafeRawBufferPointer, at position: Int, record: String) throws -> ChaChaPoly.Cipher {
        if keyed == position { return recordCipher }
        keyed = nil
        try key.withUnsafeMutableBytes { key in try keys.unwrap(wrapped, record: record, into: key) }
        try recordCipher.setKey(key)
        keyed = position
        return recordCipher
    }
}
