import AmanatCrypto
import AmanatRecords
import AmanatStore
import AmanatSync
import Foundation

extension Workspace {
    public var storeURL: URL { dotFolder.appendingPathComponent("store.sqlite") }
    public var blobsFolder: URL { dotFolder.appendingPathComponent("blobs") }

    /// Opens the workspace's store (created on first use).
    public func store() throws -> Store {
        do {
            return try Store(path: storeURL.path)
        } catch let error as StoreError {
            throw AmanatError(
                .ioError, "cannot open the store \(storeURL.path): \(error). Check the disk and the file's permissions."
            )
        }
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

    /// The display name of a signer: "this workspace", a trust-list name, or the fingerprint.
    public func signerName(_ fingerprint: String) -> String {
        partnerName(fingerprint: fingerprint) ?? fingerprint
    }
}

/// A record file read from disk: its records, validated, with canonical member order.
public enum RecordFiles {
    /// Reads JSON (one record or an array) or CSV records from `path`.
    public static func read(_ path: String) throws -> [JSONValue] {
        let file = try InputFile(path, what: "record file")
        guard file.size <= 64 << 20 else {
            throw AmanatError(.malformedInput, "\(path) is larger than 64 MiB; split it into several files.")
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let records = try RecordValidation.parse(Array(data), file: path)
        return records.map { $0.sortedKeys() }
    }
}
