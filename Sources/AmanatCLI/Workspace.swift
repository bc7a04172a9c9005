import AmanatCrypto
/// Options every workspace command shares.
import ArgumentParser
import Foundation

/// A workspace: a folder holding `.amanat/` with the organization's identity, its trust list and (later) the store.
///
/// Layout:
/// ```
/// .amanat/identity.json        the public identity (PublicIdentity JSON)
/// .amanat/keys/signing.pem     Ed25519 signing key, encrypted PKCS#8 (PBES2 + scrypt), mode 0600
/// .amanat/keys/sealing.pem     X25519 sealing key, encrypted PKCS#8 (PBES2 + scrypt), mode 0600
/// .amanat/trust.json           the trust list (TrustList JSON)
/// ```
struct Workspace {
    static let folderName = ".amanat"
    static let environmentVariable = "AMANAT_WORKSPACE"

    /// The folder that contains `.amanat/`.
    let root: URL

    var dotFolder: URL { root.appendingPathComponent(Self.folderName) }
    var identityURL: URL { dotFolder.appendingPathComponent("identity.json") }
    var keysFolder: URL { dotFolder.appendingPathComponent("keys") }
    var signingKeyURL: URL { keysFolder.appendingPathComponent("signing.pem") }
    var sealingKeyURL: URL { keysFolder.appendingPathComponent("sealing.pem") }
    var trustURL: URL { dotFolder.appendingPathComponent("trust.json") }

    /// Finds the workspace like git finds `.git`: `--workspace`, then `AMANAT_WORKSPACE`, then the current folder
    /// and its parents.
    static func locate(explicit: String?) throws -> Workspace {
        if let path = explicit ?? ProcessInfo.processInfo.environment[environmentVariable] {
            let root = URL(fileURLWithPath: path).standardizedFileURL
            guard FileManager.default.fileExists(atPath: root.appendingPathComponent(folderName).path) else {
                throw CLIError(
                    .inputMissing,
                    "\(root.path) is not an Amanat workspace (no \(folderName) folder). Create one with "
                        + "`amanat init --org NAME --workspace \(path)`.")
            }
            return Workspace(root: root)
        }
        var folder = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).standardizedFileURL
        while true {
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent(folderName).path) {
                return Workspace(root: folder)
            }
            let parent = folder.deletingLastPathComponent()
            if parent.path == folder.path { break }
            folder = parent
        }
        throw CLIError(
            .inputMissing,
            "no Amanat workspace here or in any parent folder. Create one with `amanat init --org NAME`, or point to "
                + "one with --workspace DIR or \(environmentVariable).")
    }

    /// Creates a new workspace with a fresh organization identity.
    /// - Throws: ``CLIError`` with exit 73 if a workspace already exists there (nothing is changed).
    static func create(
        at root: URL, organization: String, passphrase: SecretBytes, parameters: ScryptParameters
    ) throws -> (Workspace, PublicIdentity) {
        let workspace = Workspace(root: root.standardizedFileURL)
        let fm = FileManager.default
        if fm.fileExists(atPath: workspace.dotFolder.path) {
            throw CLIError(
                .cannotCreateOutput,
                "\(workspace.dotFolder.path) already exists: this folder is already an Amanat workspace. Nothing was "
                    + "changed. Use another folder, or `amanat identity show` to see the existing identity.")
        }
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CLIError(.cannotCreateOutput, "cannot create a workspace in \(root.path): the folder does not exist.")
        }
        let signing = try Ed25519.SigningKey.generate()
        let sealing = try X25519.PrivateKey.generate()
        let identity = try PublicIdentity(
            organization: organization, signingKey: signing, sealingKey: sealing.publicKey)
        let signingPEM = try PrivateKeyFile.encode(.ed25519(signing), passphrase: passphrase, parameters: parameters)
        let sealingPEM = try PrivateKeyFile.encode(.x25519(sealing), passphrase: passphrase, parameters: parameters)

        // Build everything in a temporary folder beside it, then rename: a workspace appears whole or not at all.
        let staging = root.appendingPathComponent(".amanat.partial-\(UUID().uuidString.prefix(8))")
        do {
            try fm.createDirectory(
                at: staging, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            let keys = staging.appendingPathComponent("keys")
            try fm.createDirectory(at: keys, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            try AtomicFile.write(Data(signingPEM.utf8), to: keys.appendingPathComponent("signing.pem"), mode: 0o600)
            try AtomicFile.write(Data(sealingPEM.utf8), to: keys.appendingPathComponent("sealing.pem"), mode: 0o600)
            try AtomicFile.write(identity.jsonData(), to: staging.appendingPathComponent("identity.json"), mode: 0o644)
            try AtomicFile.write(
                TrustList().jsonData(), to: staging.appendingPathComponent("trust.json"), mode: 0o644)
            guard rename(staging.path, workspace.dotFolder.path) == 0 else {
                throw CLIError(
                    .cannotCreateOutput,
                    "cannot create \(workspace.dotFolder.path): \(String(cString: strerror(errno))).")
            }
        } catch {
            try? fm.removeItem(at: staging)
            if let error = error as? CLIError { throw error }
            throw CLIError(
                .cannotCreateOutput, "cannot create the workspace in \(root.path): \(error.localizedDescription)")
        }
        return (workspace, identity)
    }

    /// The organization's public identity.
    func identity() throws -> PublicIdentity {
        let data = try Self.readFile(identityURL, what: "the workspace identity")
        guard let identity = try? JSONDecoder().decode(PublicIdentity.self, from: data) else {
            throw CLIError(
                .malformedInput, "\(identityURL.path) is not a valid public identity; the workspace is damaged.")
        }
        return identity
    }

    /// Unlocks the Ed25519 signing key.
    func signingKey(passphrase: SecretBytes) throws -> Ed25519.SigningKey {
        guard case .ed25519(let key) = try unlock(signingKeyURL, passphrase: passphrase) else {
            throw CLIError(
                .malformedInput, "\(signingKeyURL.path) does not hold an Ed25519 key; the workspace is damaged.")
        }
        guard key.publicKey.jwk == (try identity().signingKey) else {
            throw CLIError(
                .malformedInput,
                "\(signingKeyURL.path) does not match the public identity in \(identityURL.path); the workspace is "
                    + "damaged or was tampered with. Restore it from your backup.")
        }
        return key
    }

    /// Unlocks the X25519 sealing key.
    func sealingKey(passphrase: SecretBytes) throws -> X25519.PrivateKey {
        guard case .x25519(let key) = try unlock(sealingKeyURL, passphrase: passphrase) else {
            throw CLIError(
                .malformedInput, "\(sealingKeyURL.path) does not hold an X25519 key; the workspace is damaged.")
        }
        guard AgeKeyEncoding.recipient(key.publicKey) == (try identity().ageRecipient) else {
            throw CLIError(
                .malformedInput,
                "\(sealingKeyURL.path) does not match the public identity in \(identityURL.path); the workspace is "
                    + "damaged or was tampered with. Restore it from your backup.")
        }
        return key
    }

    private func unlock(_ url: URL, passphrase: SecretBytes) throws -> PrivateKey {
        let data = try Self.readFile(url, what: "the private key file")
        guard let pem = String(data: data, encoding: .utf8) else {
            throw CLIError(
                .malformedInput, "\(url.path) is not a PEM key file (not text). Restore it from your backup.")
        }
        do {
            return try PrivateKeyFile.decode(pem: pem, passphrase: passphrase)
        } catch CryptoError.wrongPassphrase {
            throw CLIError(
                .verificationFailed,
                "the passphrase does not unlock \(url.path). Check AMANAT_PASSPHRASE or --passphrase-file and try again."
            )
        } catch let error as CryptoError {
            throw CLIError(
                .malformedInput, "\(url.path) is damaged or truncated (\(error)). Restore it from your backup.")
        }
    }

    /// The trust list.
    func trustList() throws -> TrustList {
        let data = try Self.readFile(trustURL, what: "the trust list")
        do {
            return try JSONDecoder().decode(TrustList.self, from: data)
        } catch {
            throw CLIError(.malformedInput, "\(trustURL.path) is not a valid trust list; restore it from your backup.")
        }
    }

    /// Replaces the trust list atomically.
    func save(_ list: TrustList) throws {
        try AtomicFile.write(list.jsonData(), to: trustURL, mode: 0o644, overwrite: true)
    }

    static func readFile(_ url: URL, what: String) throws -> Data {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw CLIError(.inputMissing, "\(url.path) (\(what)) does not exist.")
        }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw CLIError(.ioError, "cannot read \(url.path) (\(what)).")
        }
        return data
    }
}

/// The partners an organization trusts: names it chose, each with a verified public identity.
struct TrustList: Codable, Sendable {
    struct Entry: Codable, Sendable {
        var name: String
        var identity: PublicIdentity
        var addedAt: String
        /// Whether this partner may retract and erase records it did not collect (`trust add --may-retract`).
        var mayRetract: Bool?
    }

    var version = 1
    var partners: [Entry] = []

    func jsonData() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return ((try? encoder.encode(self)) ?? Data()) + Data("\n".utf8)
    }

    func entry(named name: String) -> Entry? { partners.first { $0.name == name } }
    func entry(fingerprint: String) -> Entry? { partners.first { $0.identity.fingerprint == fingerprint } }
}

struct WorkspaceOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The workspace folder (default: the current folder or a parent holding .amanat/; or $AMANAT_WORKSPACE).",
            valueName: "dir"))
    var workspace: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Read the passphrase from the first line of this file (default: $AMANAT_PASSPHRASE, else a prompt).",
            valueName: "file"))
    var passphraseFile: String?

    func locate() throws -> Workspace { try Workspace.locate(explicit: workspace) }

    func passphrase(confirm: Bool = false) throws -> SecretBytes {
        try PassphraseSource.read(file: passphraseFile, confirm: confirm)
    }
}
