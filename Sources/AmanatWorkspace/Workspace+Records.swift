import AmanatCrypto
import AmanatRecords
import AmanatStore
import AmanatSync
import Foundation

extension Workspace {
    public var storeURL: URL { dotFolder.appendingPathComponent("store.sqlite") }
    public var blobsFolder: URL { dotFolder.appendingPathComponent("blobs") }

    /// Opens the workspace's store (created on first use), unlocked with the store key (``storeKey()``: this asks
    /// for the passphrase once per process). A store made before encryption at rest is converted here.
    public func store() throws -> Store {
        let key = try storeKey()
        do {
            let store = try Store(
                path: storeURL.path, key: key, logOwner: try identity().fingerprint, summarizer: Self.recordSummarizer)
            try encryptPlaintextBlobs(store)
            return store
        } catch StoreError.otherWorkspace {
            throw AmanatError(
                .verificationFailed,
                "\(storeURL.path) does not belong to this workspace (it does not open with this workspace's store "
                    + "key). Nothing was read or changed; put back this workspace's own store.")
        } catch let error as StoreError {
            throw AmanatError(
                .ioError, "cannot open the store \(storeURL.path): \(error). Check the disk and the file's permissions."
            )
        }
    }

    /// Encrypts attachment files stored before encryption at rest (once, on the first unlock): each is rewritten
    /// under a fresh key, and the plaintext file is overwritten with zeros before it is replaced (best effort: a
    /// journaling file system or an SSD may still keep old blocks; the upgrade note in `Specs/storage.md` says so).
    func encryptPlaintextBlobs(_ store: Store) throws {
        // An upgrade interrupted after its key was registered: finish moving the encrypted copy into place.
        for folder in (try? FileManager.default.contentsOfDirectory(atPath: blobsFolder.path)) ?? [] {
            let dir = blobsFolder.appendingPathComponent(folder)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            where name.hasPrefix(".") && name.hasSuffix(".upgrade") {
                let sha = String(name.dropFirst().dropLast(".upgrade".count))
                let staged = dir.appendingPathComponent(name)
                if try store.blobKey(sha256: sha) != nil {
                    try replaceZeroingOld(blobURL(sha), with: staged)
                } else {
                    try? FileManager.default.removeItem(at: staged)
                }
            }
        }
        for (sha, size) in try store.blobsWithoutKeys() {
            let url = blobURL(sha)
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            // 1. The encrypted copy is written and flushed beside the file; 2. its key is registered; 3. it replaces
            // the plaintext file, which is overwritten with zeros. A crash at any point loses nothing: before 2 the
            // copy is discarded next time, after 2 the next run finishes 3 (above).
            let staged = url.deletingLastPathComponent().appendingPathComponent(".\(sha).upgrade")
            let input = try InputFile(url.path, what: "attachment")
            let key = SecretBytes(try SecureRandom.bytes(32))
            let out = try EncryptedBlob.Writer(path: staged.path, key: key)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
            defer {
                wipe(buffer)
                buffer.deallocate()
            }
            while true {
                let n = try input.read(buffer)
                if n == 0 { break }
                try out.write(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            }
            try out.finish()
            try store.registerBlob(sha256: sha, size: size, key: key, replacing: true)
            try replaceZeroingOld(url, with: staged)
        }
    }

    /// Renames `staged` over `url`, then overwrites the replaced file's bytes with zeros through a descriptor opened
    /// before the rename (best effort on journaling file systems and SSDs).
    func replaceZeroingOld(_ url: URL, with staged: URL) throws {
        let old = open(url.path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)
        defer { if old >= 0 { close(old) } }
        try FileMove.rename(staged, to: url)
        guard old >= 0 else { return }
        var info = stat()
        guard fstat(old, &info) == 0 else { return }
        let zeros = [UInt8](repeating: 0, count: 1 << 16)
        var left = Int(info.st_size)
        while left > 0 {
            let n = zeros.withUnsafeBytes { Foundation.write(old, $0.baseAddress, min(left, $0.count)) }
            if n <= 0 { break }
            left -= n
        }
        fsync(old)
    }

    /// Where an attachment with this SHA-256 lives.
    public func blobURL(_ sha256: String) -> URL {
        blobsFolder.appendingPathComponent(String(sha256.prefix(2))).appendingPathComponent(sha256)
    }

    /// Trusted Ed25519 keys by fingerprint: the trust list and this workspace.
    public func trustedKeys() throws -> [String: Ed25519.VerifyingKey] {
        var keys: [String: Ed25519.VerifyingKey] = [:]
        for entry in try trustList().partners {
            if let (signing, _) = try? entry.identity.validated() { keys[entry.identity.fingerprint] = signing }
        }
        let own = try identity()
        if let (signing, _) = try? own.validated() { keys[own.fingerprint] = signing }
        return keys
    }

    /// Who may retract and erase records collected by others: the partners the trust list marks `--may-retract`.
    public func authority() throws -> Authority {
        Authority(
            delegates: Set(try trustList().partners.filter { $0.mayRetract == true }.map(\.identity.fingerprint)))
    }

    /// The display name of a signer: "this workspace", a trust-list name, or the fingerprint; safe to print
    /// (``AmanatRecords/UntrustedText/printable(_:)``: a fingerprint nobody trusts may be any text a file holds).
    public func signerName(_ fingerprint: String) -> String {
        partnerName(fingerprint: fingerprint) ?? UntrustedText.printable(fingerprint)
    }
}
