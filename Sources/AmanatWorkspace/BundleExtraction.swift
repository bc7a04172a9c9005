import AmanatBundle
import AmanatCrypto
import Foundation

extension Workspace {
    /// Decrypts and verifies a bundle with this workspace's sealing key (from the passphrase provider) against its
    /// trust list, streaming the entries into `output` (nil: verify only).
    /// - Parameters:
    ///   - path: the bundle file, or `-` for standard input (a pipe: read once, its size unknown, so no progress).
    ///   - progress: bytes read so far, and the bundle's size.
    /// - Throws: ``AmanatError`` naming the file and what to do.
    public func openBundle(
        _ path: String, output: BundleEntryOutput?, progress: ((UInt64, UInt64) -> Void)? = nil
    ) throws -> OpenedBundle {
        let file = try InputFile(path, what: "bundle", allowStandardInput: true)
        let key = try sealingKey()
        let signers = try trustedSigners()
        do {
            return try BundleOpener.open(
                source: { try file.read($0) }, sizeLimit: file.isStandardInput ? .max : file.size, identity: key,
                trustedSigner: signers, ownFingerprint: try identity().fingerprint, output: output,
                progress: file.isStandardInput ? nil : progress.map { report in { report($0, file.size) } })
        } catch let error as BundleError {
            throw error.amanatError(file: file.displayName, workspace: self)
        }
    }
}

/// Extracted files go to a hidden folder beside the destination and are moved in only after verification.
public final class BundleExtraction: BundleEntryOutput {
    public let destination: URL
    let staging: URL
    private var current: OutputFile?
    private var published = false
    private let leftover: Int
    /// Parent folders this extraction created (deepest first), removed again if nothing is published.
    private var createdParents: [URL] = []

    /// Missing parent folders of `path` are created (as `git clone` does) and removed again if the bundle does not
    /// verify.
    public init(destination path: String) throws {
        destination = URL(fileURLWithPath: path).standardizedFileURL
        let parent = destination.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        var missing: [URL] = []
        var ancestor = parent
        while !FileManager.default.fileExists(atPath: ancestor.path, isDirectory: &isDirectory), ancestor.path != "/" {
            missing.append(ancestor)
            ancestor = ancestor.deletingLastPathComponent()
        }
        for folder in missing.reversed() {
            var info = stat()
            guard mkdir(folder.path, 0o700) == 0 || (errno == EEXIST && lstat(folder.path, &info) == 0) else {
                let reason = String(cString: strerror(errno))
                for created in createdParents { rmdir(created.path) }
                throw AmanatError(
                    .cannotCreateOutput,
                    "cannot extract into \(path): cannot create the folder \(folder.path) (\(reason)).")
            }
            createdParents.insert(folder, at: 0)
        }
        guard FileManager.default.fileExists(atPath: parent.path, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            for created in createdParents { rmdir(created.path) }
            throw AmanatError(
                .cannotCreateOutput, "cannot extract into \(path): \(parent.path) is not a folder.")
        }
        if FileManager.default.fileExists(atPath: destination.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw AmanatError(.cannotCreateOutput, "cannot extract into \(path): it is a file, not a folder.")
        }
        staging = parent.appendingPathComponent(
            ".\(destination.lastPathComponent).amanat-partial-\(UUID().uuidString.prefix(8))")
        // Decrypted plaintext goes in here: registered first, so an interrupted or killed `open` leaves nothing.
        leftover = Leftovers.register(staging.path)
        do {
            try FileManager.default.createDirectory(
                at: staging.appendingPathComponent("files"), withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        } catch {
            throw AmanatError(.cannotCreateOutput, "cannot create a staging folder beside \(path).")
        }
    }

    deinit {
        if !published {
            try? FileManager.default.removeItem(at: staging)
            for created in createdParents { rmdir(created.path) }
        }
        Leftovers.unregister(leftover)
    }

    public func begin(path: String, size: UInt64) throws {
        // files/<name>, records/<batch> or blobs/<sha256>: the opener has checked the path is one of these.
        let url = staging.appendingPathComponent(path)
        // One level only: if an interruption has removed the staging folder meanwhile, it is not made again.
        let folder = url.deletingLastPathComponent().path
        guard mkdir(folder, 0o700) == 0 || errno == EEXIST else {
            throw AmanatError(.cannotCreateOutput, "cannot create \(folder): \(systemError()).")
        }
        current = try OutputFile(url.path, mode: 0o600, tracked: false)
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws { try current?.write(bytes) }

    public func end() throws {
        try current?.commit()
        current = nil
    }

    /// Moves the verified files into the destination, with the signed header and manifest beside them (so the stock
    /// `sha256sum -c` check of `Specs/bundle.md` works on the folder); refuses, changing nothing, if any name
    /// already exists there.
    public func publish(_ opened: OpenedBundle) throws {
        try AtomicFile.write(
            Data(opened.manifestJWS.utf8), to: staging.appendingPathComponent("MANIFEST.jws"), mode: 0o600)
        try AtomicFile.write(
            Data(opened.headerJWS.utf8), to: staging.appendingPathComponent(BundleHeader.entryPath), mode: 0o600)
        // The sender's log proof of the manifest (Specs/log.md), kept beside it like the header.
        var signed = ["MANIFEST.jws", BundleHeader.entryPath]
        if let trailer = opened.trailer {
            try AtomicFile.write(Data(trailer), to: staging.appendingPathComponent(BundlePath.trailerPath), mode: 0o600)
            signed.append(BundlePath.trailerPath)
        }
        let fm = FileManager.default
        if !fm.fileExists(atPath: destination.path) {
            try FileMove.rename(staging, to: destination)
            published = true
            return
        }
        // Nothing already inside the destination may redirect the files elsewhere: a `files` (`records`, `blobs`)
        // that is a symbolic link (or any non-folder) is refused, and a name that exists at all, even as a dangling
        // link, clashes.
        let folders = ["files", "records", "blobs", "log"].filter {
            fm.fileExists(atPath: staging.appendingPathComponent($0).path)
        }
        for folder in folders {
            var info = stat()
            if lstat(destination.appendingPathComponent(folder).path, &info) == 0, (info.st_mode & S_IFMT) != S_IFDIR {
                throw AmanatError(
                    .cannotCreateOutput,
                    "\(destination.path)/\(folder) is a symbolic link or not a folder; nothing was extracted. "
                        + "Choose a new folder with -o.")
            }
        }
        func exists(_ relative: String) -> Bool {
            var entry = stat()
            return lstat(destination.appendingPathComponent(relative).path, &entry) == 0
        }
        let names = folders.flatMap { folder in
            ((try? fm.contentsOfDirectory(atPath: staging.appendingPathComponent(folder).path)) ?? []).map {
                folder + "/" + $0
            }
        }
        var clashes = names.filter(exists)
        for name in signed where exists(name) { clashes.append(name) }
        guard clashes.isEmpty else {
            throw AmanatError(
                .cannotCreateOutput,
                "\(destination.path) already holds \(clashes.prefix(3).joined(separator: ", ")); nothing was extracted. "
                    + "Choose a new folder with -o.")
        }
        for folder in folders {
            try? fm.createDirectory(at: destination.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        for name in names + signed {
            try FileMove.rename(staging.appendingPathComponent(name), to: destination.appendingPathComponent(name))
        }
    }
}
