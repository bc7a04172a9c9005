import AmanatCrypto
import AmanatRecords
import Foundation

/// Supplies the passphrase that unlocks the organization's private keys, when (and only when) a key is needed:
/// a terminal prompt, an environment variable, a file, a GUI dialog. It may throw to refuse.
public typealias PassphraseProvider = @Sendable () throws -> SecretBytes

/// A workspace: a folder holding `.amanat/` with the organization's identity, its trust list and (later) the store.
///
/// Layout:
/// ```
/// .amanat/identity.json        the public identity (PublicIdentity JSON)
/// .amanat/keys/signing.pem     Ed25519 signing key, encrypted PKCS#8 (PBES2 + scrypt), mode 0600
/// .amanat/keys/sealing.pem     X25519 sealing key, encrypted PKCS#8 (PBES2 + scrypt), mode 0600
/// .amanat/trust.json           the trust list (TrustList JSON)
/// ```
public struct Workspace: Sendable {
    public static let folderName = ".amanat"
    public static let environmentVariable = "AMANAT_WORKSPACE"

    /// The folder that contains `.amanat/`.
    public let root: URL
    /// Asked for the passphrase when a private key is unlocked.
    let passphrase: PassphraseProvider
    /// Where the provider's passphrase comes from, as an error about a wrong one names it ("AMANAT_PASSPHRASE",
    /// "the passphrase file F", "the passphrase typed at the prompt").
    let passphraseOrigin: String?
    /// The signing key once unlocked through the provider (or being unlocked on another thread), shared by copies.
    let unlockedSigningKey = UnlockedSigningKey()

    /// A workspace at `root` (not checked; see ``locate(explicit:environment:currentDirectory:passphrase:)``).
    /// - Parameter passphraseOrigin: where `passphrase` gets it, for the message about a wrong passphrase.
    public init(
        root: URL, passphrase: @escaping PassphraseProvider = Workspace.noPassphrase, passphraseOrigin: String? = nil
    ) {
        self.root = root
        self.passphrase = passphrase
        self.passphraseOrigin = passphraseOrigin
    }

    /// A provider for front ends that never unlock keys: refuses.
    public static let noPassphrase: PassphraseProvider = {
        throw AmanatError(.invalidRequest, "this operation needs the passphrase of the organization's keys.")
    }

    public var dotFolder: URL { root.appendingPathComponent(Self.folderName) }
    public var identityURL: URL { dotFolder.appendingPathComponent("identity.json") }
    public var keysFolder: URL { dotFolder.appendingPathComponent("keys") }
    public var signingKeyURL: URL { keysFolder.appendingPathComponent("signing.pem") }
    public var sealingKeyURL: URL { keysFolder.appendingPathComponent("sealing.pem") }
    public var trustURL: URL { dotFolder.appendingPathComponent("trust.json") }

    /// Finds the workspace like git finds `.git`: `explicit` (`--workspace`), then `AMANAT_WORKSPACE` in
    /// `environment`, then `currentDirectory` and its parents.
    public static func locate(
        explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
        currentDirectory: String = FileManager.default.currentDirectoryPath,
        passphrase: @escaping PassphraseProvider = Workspace.noPassphrase
    ) throws -> Workspace {
        if let path = explicit ?? environment[environmentVariable] {
            let root = URL(fileURLWithPath: path).standardizedFileURL
            guard FileManager.default.fileExists(atPath: root.appendingPathComponent(folderName).path) else {
                throw AmanatError(
                    .inputMissing,
                    "\(root.path) is not an Amanat workspace (no \(folderName) folder). Create one with "
                        + "`amanat init --org NAME --workspace \(path)`.")
            }
            return found(root, passphrase: passphrase)
        }
        var folder = URL(fileURLWithPath: currentDirectory).standardizedFileURL
        while true {
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent(folderName).path) {
                return found(folder, passphrase: passphrase)
            }
            let parent = folder.deletingLastPathComponent()
            if parent.path == folder.path { break }
            folder = parent
        }
        throw AmanatError(
            .inputMissing,
            "no Amanat workspace here or in any parent folder. Create one with `amanat init --org NAME`, or point to "
                + "one with --workspace DIR or \(environmentVariable).")
    }

    /// The workspace at `root`, once the staging folders that killed commands left behind are removed
    /// (``Leftovers``); its journal records this command's own staging from now on.
    static func found(_ root: URL, passphrase: @escaping PassphraseProvider) -> Workspace {
        let workspace = Workspace(root: root, passphrase: passphrase)
        Leftovers.useJournal(in: workspace.dotFolder)
        Leftovers.sweep(dotFolder: workspace.dotFolder)
        return workspace
    }

    /// Creates a new workspace with a fresh organization identity; its keys are encrypted with `passphrase`, which
    /// the returned workspace also uses to unlock them.
    /// - Throws: ``AmanatError`` `cannotCreateOutput` if a workspace already exists there (nothing is changed).
    public static func create(
        at root: URL, organization: String, passphrase: SecretBytes, parameters: ScryptParameters
    ) throws -> (Workspace, PublicIdentity) {
        let workspace = Workspace(root: root.standardizedFileURL, passphrase: { passphrase })
        guard !organization.isEmpty, UntrustedText.isClean(organization) else {
            throw AmanatError(
                .invalidRequest,
                "the organization name is empty or holds control, format or bidi characters "
                    + "(\(UntrustedText.printable(organization))); partners would see it garbled. Nothing was created.")
        }
        let fm = FileManager.default
        if fm.fileExists(atPath: workspace.dotFolder.path) {
            throw AmanatError(
                .cannotCreateOutput,
                "\(workspace.dotFolder.path) already exists: this folder is already an Amanat workspace. Nothing was "
                    + "changed. Use another folder, or `amanat identity show` to see the existing identity.")
        }
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw AmanatError(
                .cannotCreateOutput, "cannot create a workspace in \(root.path): the folder does not exist.")
        }
        let signing = try Ed25519.SigningKey.generate()
        let sealing = try X25519.PrivateKey.generate()
        let identity = try PublicIdentity(
            organization: organization, signingKey: signing, sealingKey: sealing.publicKey)
        let signingPEM = try PrivateKeyFile.encode(.ed25519(signing), passphrase: passphrase, parameters: parameters)
        let sealingPEM = try PrivateKeyFile.encode(.x25519(sealing), passphrase: passphrase, parameters: parameters)

        // Build everything in a temporary folder beside it, then rename: a workspace appears whole or not at all.
        do {
            let stagingFolder = try StagingDirectory(beside: workspace.dotFolder)
            let staging = stagingFolder.url
            let keys = staging.appendingPathComponent("keys")
            try fm.createDirectory(at: keys, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            try AtomicFile.write(Data(signingPEM.utf8), to: keys.appendingPathComponent("signing.pem"), mode: 0o600)
            try AtomicFile.write(Data(sealingPEM.utf8), to: keys.appendingPathComponent("sealing.pem"), mode: 0o600)
            try AtomicFile.write(identity.jsonData(), to: staging.appendingPathComponent("identity.json"), mode: 0o644)
            try AtomicFile.write(
                TrustList().jsonData(), to: staging.appendingPathComponent("trust.json"), mode: 0o644)
            try stagingFolder.commit(to: workspace.dotFolder)
        } catch {
            if let error = error as? AmanatError { throw error }
            throw AmanatError(
                .cannotCreateOutput, "cannot create the workspace in \(root.path): \(error.localizedDescription)")
        }
        return (workspace, identity)
    }

    /// The organization's public identity.
    public func identity() throws -> PublicIdentity {
        let data = try Self.readFile(identityURL, what: "the workspace identity")
        guard let identity = try? JSONDecoder().decode(PublicIdentity.self, from: data) else {
            throw AmanatError(
                .malformedInput, "\(identityURL.path) is not a valid public identity; the workspace is damaged.")
        }
        return identity
    }

    /// Unlocks the Ed25519 signing key with the passphrase from the provider, once per workspace value (and its
    /// copies) while the key file stays the same: scrypt takes about 0.4 s, and a command such as `seal` needs the key
    /// in several places.
    public func signingKey() throws -> Ed25519.SigningKey {
        let file = Self.fileIdentity(signingKeyURL)
        return try unlockedSigningKey.key(for: file) { try signingKey(passphrase: try passphrase()) }
    }

    /// Starts unlocking the signing key on another thread, so that its scrypt runs while this thread unlocks the store
    /// key (the other scrypt of a command that writes); ``signingKey()`` then waits for it. The passphrase is asked
    /// for here, on the calling thread. Does nothing when the key is already unlocked or the passphrase cannot be had
    /// (``signingKey()`` then reports why).
    public func unlockSigningKeyAhead() {
        let file = Self.fileIdentity(signingKeyURL)
        guard !unlockedSigningKey.has(file), let secret = try? passphrase() else { return }
        let workspace = self
        Self.backgroundUnlocks.enter()
        unlockedSigningKey.start(
            file,
            Ahead {
                defer { Self.backgroundUnlocks.leave() }
                return try workspace.signingKey(passphrase: secret)
            })
    }

    /// Waits for an unlock of this workspace's signing key started ahead (``unlockSigningKeyAhead()``), if one is
    /// running: a library call that started it and fails before it needs the key waits for it before it returns.
    public func finishSigningKeyAhead() { unlockedSigningKey.finish() }

    /// Unlocks started ahead and still running (``unlockSigningKeyAhead()``).
    private static let backgroundUnlocks = DispatchGroup()

    /// Waits for every unlock started ahead: a front end calls it before the process exits, since a command that
    /// fails before it needs its key leaves the unlock running, and exiting tears OpenSSL down under it.
    public static func finishBackgroundUnlocks() { backgroundUnlocks.wait() }

    /// A key file as the unlocked-key caches know it: path, inode, size and modification time (a replaced or
    /// shredded file is unlocked again); empty when the file cannot be read.
    static func fileIdentity(_ url: URL) -> String {
        var info = stat()
        guard lstat(url.path, &info) == 0 else { return "" }
        return "\(url.path) \(info.st_ino) \(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
    }

    /// Unlocks the X25519 sealing key with the passphrase from the provider.
    public func sealingKey() throws -> X25519.PrivateKey { try sealingKey(passphrase: try passphrase()) }

    /// Unlocks the Ed25519 signing key.
    public func signingKey(passphrase: SecretBytes) throws -> Ed25519.SigningKey {
        guard case .ed25519(let key) = try unlock(signingKeyURL, passphrase: passphrase) else {
            throw AmanatError(
                .malformedInput, "\(signingKeyURL.path) does not hold an Ed25519 key; the workspace is damaged.")
        }
        guard key.publicKey.jwk == (try identity().signingKey) else {
            throw AmanatError(
                .malformedInput,
                "\(signingKeyURL.path) does not match the public identity in \(identityURL.path); the workspace is "
                    + "damaged or was tampered with. Restore it from your backup.")
        }
        return key
    }

    /// Unlocks the X25519 sealing key.
    public func sealingKey(passphrase: SecretBytes) throws -> X25519.PrivateKey {
        guard case .x25519(let key) = try unlock(sealingKeyURL, passphrase: passphrase) else {
            throw AmanatError(
                .malformedInput, "\(sealingKeyURL.path) does not hold an X25519 key; the workspace is damaged.")
        }
        guard AgeKeyEncoding.recipient(key.publicKey) == (try identity().ageRecipient) else {
            throw AmanatError(
                .malformedInput,
                "\(sealingKeyURL.path) does not match the public identity in \(identityURL.path); the workspace is "
                    + "damaged or was tampered with. Restore it from your backup.")
        }
        return key
    }

    private func unlock(_ url: URL, passphrase: SecretBytes) throws -> PrivateKey {
        let data = try Self.readFile(url, what: "the private key file")
        guard let pem = String(data: data, encoding: .utf8) else {
            throw AmanatError(
                .malformedInput, "\(url.path) is not a PEM key file (not text). Restore it from your backup.")
        }
        do {
            return try PrivateKeyFile.decode(pem: pem, passphrase: passphrase)
        } catch CryptoError.wrongPassphrase {
            throw AmanatError(
                .verificationFailed,
                passphraseOrigin.map {
                    "the passphrase from \($0) does not unlock \(url.path). Check \($0) and try again."
                }
                    ?? "the passphrase does not unlock \(url.path). Check AMANAT_PASSPHRASE or --passphrase-file and try again."
            )
        } catch let error as CryptoError {
            throw AmanatError(
                .malformedInput, "\(url.path) is damaged or truncated (\(error)). Restore it from your backup.")
        }
    }

    /// The trust list.
    public func trustList() throws -> TrustList {
        let data = try Self.readFile(trustURL, what: "the trust list")
        do {
            return try JSONDecoder().decode(TrustList.self, from: data)
        } catch {
            throw AmanatError(
                .malformedInput, "\(trustURL.path) is not a valid trust list; restore it from your backup.")
        }
    }

    /// Replaces the trust list atomically.
    public func save(_ list: TrustList) throws {
        try AtomicFile.write(list.jsonData(), to: trustURL, mode: 0o644, overwrite: true)
    }

    public static func readFile(_ url: URL, what: String) throws -> Data {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw AmanatError(.inputMissing, "\(url.path) (\(what)) does not exist.")
        }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw AmanatError(.ioError, "cannot read \(url.path) (\(what)).")
        }
        return data
    }
}

/// The partners an organization trusts: names it chose, each with a verified public identity.
public struct TrustList: Codable, Sendable {
    public struct Entry: Codable, Sendable {
        public var name: String
        public var identity: PublicIdentity
        public var addedAt: String
        /// Whether this partner may retract and erase records it did not collect (`trust add --may-retract`).
        public var mayRetract: Bool?

        public init(name: String, identity: PublicIdentity, addedAt: String, mayRetract: Bool? = nil) {
            self.name = name
            self.identity = identity
            self.addedAt = addedAt
            self.mayRetract = mayRetract
        }
    }

    public var version = 1
    public var partners: [Entry] = []

    public init() {}

    public func jsonData() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return ((try? encoder.encode(self)) ?? Data()) + Data("\n".utf8)
    }

    public func entry(named name: String) -> Entry? { partners.first { $0.name == name } }
    public func entry(fingerprint: String) -> Entry? { partners.first { $0.identity.fingerprint == fingerprint } }
}

/// The signing key of a ``Workspace`` once unlocked, by key file (``Workspace/fileIdentity(_:)``), or the unlock
/// still running on another thread (``Workspace/unlockSigningKeyAhead()``).
final class UnlockedSigningKey: @unchecked Sendable {
    private let lock = NSLock()
    private var file = ""
    private var key: Ed25519.SigningKey?
    private var pending: Ahead<Ed25519.SigningKey>?

    func has(_ file: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return !file.isEmpty && self.file == file && (key != nil || pending != nil)
    }

    /// Waits for the unlock started ahead, if any.
    func finish() {
        lock.lock()
        let running = pending
        lock.unlock()
        running?.wait()
    }

    func start(_ file: String, _ unlock: Ahead<Ed25519.SigningKey>) {
        lock.lock()
        defer { lock.unlock() }
        (self.file, key, pending) = (file, nil, unlock)
    }

    /// The key unlocked for `file`, waiting for an unlock started ahead, or unlocked now with `unlock`. A failed
    /// unlock is not remembered: the next call tries again (and reports again).
    func key(for file: String, unlock: () throws -> Ed25519.SigningKey) throws -> Ed25519.SigningKey {
        lock.lock()
        let known = !file.isEmpty && self.file == file
        let (cached, ahead) = known ? (key, pending) : (nil, nil)
        lock.unlock()
        if let cached { return cached }
        let result: Result<Ed25519.SigningKey, any Error>
        if let ahead { result = Result { try ahead.get() } } else { result = Result { try unlock() } }
        lock.lock()
        defer { lock.unlock() }
        if case .success(let unlocked) = result, !file.isEmpty {
            (self.file, key, pending) = (file, unlocked, nil)
        } else if self.file == file {
            pending = nil
        }
        return try result.get()
    }
}
