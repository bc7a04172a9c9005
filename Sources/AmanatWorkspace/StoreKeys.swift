import AmanatAge
import AmanatCrypto
import AmanatStore
import Foundation

/// The store key of a workspace (`Specs/storage.md`): 256 random bits in `.amanat/keys/store.age`, an age file
/// encrypted to the organization's own X25519 key, so only the passphrase (which unlocks that key) recovers it.
extension Workspace {
    public var storeKeyURL: URL { keysFolder.appendingPathComponent("store.age") }

    /// Unlocked store keys by workspace, so a command unlocks once however often it opens the store.
    private static let unlocked = UnlockedKeys()

    final class UnlockedKeys: @unchecked Sendable {
        private let lock = NSLock()
        private var keys: [String: StoreKey] = [:]

        func get(_ path: String) -> StoreKey? {
            lock.lock()
            defer { lock.unlock() }
            return keys[path]
        }

        func set(_ path: String, _ key: StoreKey?) {
            lock.lock()
            keys[path] = key
            lock.unlock()
        }

        func removeAll() {
            lock.lock()
            keys = [:]
            lock.unlock()
        }
    }

    /// The store key, unlocking the organization's sealing key with the passphrase (once per process); on the first
    /// unlock of a workspace made before encryption at rest, the key is made here and the store converted when it is
    /// opened.
    /// - Throws: ``AmanatError`` `verificationFailed` for a wrong passphrase or a key file from another workspace,
    ///   `malformedInput` for a damaged one.
    public func storeKey() throws -> StoreKey {
        // Cached per key file (path, inode, size, modification time): a replaced file is read again.
        let cacheKey = Self.fileIdentity(storeKeyURL)
        if !cacheKey.isEmpty, let key = Self.unlocked.get(cacheKey) { return key }
        let sealing = try sealingKey()
        let key: StoreKey
        if FileManager.default.fileExists(atPath: storeKeyURL.path) {
            let file = try Self.readFile(storeKeyURL, what: "the store key")
            do {
                let plain = try Age.decrypt(Array(file), identities: [X25519AgeIdentity(privateKey: sealing)])
                key = try StoreKey(SecretBytes(plain))
            } catch AgeError.noMatch {
                throw AmanatError(
                    .verificationFailed,
                    "\(storeKeyURL.path) is not this workspace's store key (it does not open with the organization's "
                        + "key); the key files were swapped or damaged. Restore .amanat/keys/ from your backup.")
            } catch {
                throw AmanatError(
                    .malformedInput,
                    "\(storeKeyURL.path) is damaged (\(error)). Restore .amanat/keys/ from your backup.")
            }
        } else {
            if FileManager.default.fileExists(atPath: storeURL.path), (try? Store(path: storeURL.path)) == nil {
                throw AmanatError(
                    .malformedInput,
                    "\(storeKeyURL.path) is missing but the store is encrypted: without it the records cannot be read. "
                        + "Restore .amanat/keys/ from your backup.")
            }
            key = try StoreKey.generate()
            let wrapped = try key.bytes.withUnsafeBytes { raw in
                try Age.encrypt(raw, to: [X25519AgeRecipient(publicKey: sealing.publicKey)])
            }
            try AtomicFile.write(Data(wrapped), to: storeKeyURL, mode: 0o600)
            // The key file's name must be on disk before the store is encrypted under it.
            let folder = open(keysFolder.path, O_RDONLY | O_CLOEXEC)
            if folder >= 0 {
                fsync(folder)
                close(folder)
            }
            return key
        }
        Self.unlocked.set(cacheKey, key)
        return key
    }

    /// Destroys the workspace's keys (`amanat lock --shred`): the store key file and both private key files are
    /// overwritten with random bytes, flushed, and removed, so neither the passphrase nor the disk recovers the
    /// records. Partners' sealed copies are then the only ones left. Returns the files destroyed.
    @discardableResult
    public func shredKeys() throws -> [String] {
        var destroyed: [String] = []
        for url in [storeKeyURL, signingKeyURL, sealingKeyURL] {
            var info = stat()
            guard lstat(url.path, &info) == 0 else { continue }
            let fd = open(url.path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)
            if fd >= 0 {
                let size = max(Int(info.st_size), 4096)
                let noise = try SecureRandom.bytes(size)
                _ = noise.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                fsync(fd)
                close(fd)
            }
            guard unlink(url.path) == 0 else {
                throw AmanatError(.ioError, "cannot remove \(url.path): \(systemError()).")
            }
            destroyed.append(url.path)
        }
        Self.unlocked.removeAll()
        let folder = open(keysFolder.path, O_RDONLY | O_CLOEXEC)
        if folder >= 0 {
            fsync(folder)
            close(folder)
        }
        return destroyed
    }
}

extension AmanatError {
    /// The message and exit status for an error from the store that no command caught itself: a damaged or moved
    /// ciphertext names its record and is a verification failure (exit 1); nothing else was read or changed.
    public init(_ error: StoreError) {
        switch error {
        case .damaged(let record, let what):
            self.init(
                .verificationFailed,
                "record \(record) is damaged or was tampered with: \(what). It was refused; other records are not "
                    + "affected. Restore it from a backup or ask a partner to send it again.")
        case .otherWorkspace, .locked:
            self.init(.verificationFailed, "\(error).")
        case .unknownRecord, .unknownVersion, .ambiguousRecord:
            self.init(.inputMissing, "\(error). See `amanat list`.")
        case .database:
            self.init(.ioError, "\(error). Check the disk, or restore the store from a backup.")
        }
    }
}
