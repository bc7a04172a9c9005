import AmanatAge
import AmanatBundle
import AmanatCrypto
import AmanatRecords
import Foundation
import FuzzSupport

// Writes the seeds that need the library to make them (signed with the fuzz keys, so that the harnesses verify
// them): bundle tars, their HEADER.jws and MANIFEST.jws, SD-JWT versions of the example records, key files, key
// strings, base64 texts and age-stream programs. Built with the harnesses (libFuzzer provides main), so it runs from
// LLVMFuzzerInitialize: `AMANAT_FUZZ_SEED_DIR=out AMANAT_FUZZ_EXAMPLES=Specs/examples fuzz-seed -runs=0`.

private struct SeedWriter {
    let root: URL

    func write(_ harness: String, _ name: String, _ bytes: [UInt8]) throws {
        let folder = root.appendingPathComponent(harness, isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(bytes).write(to: folder.appendingPathComponent(name))
    }

    func write(_ harness: String, _ name: String, _ text: String) throws {
        try write(harness, name, Array(text.utf8))
    }
}

/// The entries of an uncompressed ustar/pax archive (regular files only), for pulling the JWS entries out.
private func tarEntries(_ tar: [UInt8]) -> [(name: String, bytes: [UInt8])] {
    var out: [(String, [UInt8])] = []
    var offset = 0
    while offset + 512 <= tar.count {
        let header = tar[offset..<offset + 512]
        if header.allSatisfy({ $0 == 0 }) { break }
        let name = String(decoding: header.prefix(100).prefix { $0 != 0 }, as: UTF8.self)
        let sizeText = String(decoding: header.dropFirst(124).prefix(12).prefix { $0 != 0 && $0 != 32 }, as: UTF8.self)
        guard let size = Int(sizeText, radix: 8) else { break }
        let type = header[header.startIndex + 156]
        let start = offset + 512
        guard start + size <= tar.count else { break }
        if type == UInt8(ascii: "0") || type == 0 { out.append((name, Array(tar[start..<start + size]))) }
        offset = start + (size + 511) / 512 * 512
    }
    return out
}

private func sealTar(_ files: [(String, String, [UInt8])]) throws -> [UInt8] {
    var sealed: [UInt8] = []
    let inputs = files.map { folder, name, bytes in
        var input = BundleInput(name: name, size: UInt64(bytes.count), read: Age.memorySource(bytes))
        input.folder = folder
        return input
    }
    _ = try BundleSealer.seal(
        inputs: inputs, sender: BundleSender(signingKey: FuzzKeys.signing, identity: FuzzKeys.identity),
        recipients: [try BundleRecipient(identity: FuzzKeys.identity)],
        createdAt: Date(timeIntervalSince1970: 1_700_000_000)
    ) { sealed.append(contentsOf: $0) }
    return try Age.decrypt(sealed, identities: [X25519AgeIdentity(privateKey: FuzzKeys.sealing)])
}

private func exampleRecords(_ folder: String) throws -> [(String, JSONValue)] {
    let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json") }.sorted()
    return try names.compactMap { name in
        guard name != "expected.json" else { return nil }
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: folder).appendingPathComponent(name)))
        return (String(name.dropLast(5)), try JSONValue.parse(bytes))
    }
}

private func generate(into root: URL, examples: String) throws {
    let out = SeedWriter(root: root)
    let policy = DisclosurePolicy(isConcealable: RecordSensitivity.isConcealable)

    // SD-JWT versions of every example record: a create, an edit of it, and a presentation withholding half.
    var versions: [String] = []
    for (name, record) in try exampleRecords(examples) {
        let create = try RecordSigner.sign(
            content: record, kind: .create, recordId: nil, prev: [], key: FuzzKeys.signing, policy: policy,
            issuedAt: 1_700_000_000)
        let edit = try RecordSigner.sign(
            content: record, kind: .edit, recordId: create.recordId, prev: [create.versionId],
            attachments: [String(repeating: "ab", count: 32)], key: FuzzKeys.signing, policy: policy,
            issuedAt: 1_700_000_100)
        var keep = false
        let presented = try create.sdjwt.presenting { _ in
            keep.toggle()
            return keep
        }
        try out.write("sdjwt", "\(name).create.sd-jwt", create.sdjwt.compact)
        try out.write("sdjwt", "\(name).edit.sd-jwt", edit.sdjwt.compact)
        try out.write("sdjwt", "\(name).presented.sd-jwt", presented.compact)
        try out.write("detectors", "\(name).sd-jwt", create.sdjwt.compact)
        try out.write("base64", "\(name).jwt-payload", String(create.sdjwt.jwt.split(separator: ".")[1]))
        if let disclosure = create.sdjwt.disclosures.first { try out.write("base64", "\(name).disclosure", disclosure) }
        versions.append(create.sdjwt.compact)
    }
    let tombstone = try RecordSigner.sign(
        content: RecordContent.tombstone(.erasure, reason: "synthetic: entered twice"), kind: .retract,
        recordId: "fuzz-record", prev: ["fuzz-parent"], key: FuzzKeys.signing, policy: policy,
        issuedAt: 1_700_000_200, extraClaims: RecordContent.tombstoneClaims(.erasure))
    try out.write("sdjwt", "erase.sd-jwt", tombstone.sdjwt.compact)

    // Bundles: plain files, record batches, an attachment, and an empty bundle. The harness encrypts the tar.
    let blob = Array("synthetic attachment".utf8)
    let bundles: [(String, [(String, String, [UInt8])])] = [
        ("files.tar", [("files/", "note.txt", Array("A synthetic note.\n".utf8)), ("files/", "empty.bin", [])]),
        (
            "records.tar",
            BundleInput.recordBatches(Array(versions.prefix(2))).map { input in
                var bytes = [UInt8](repeating: 0, count: Int(input.size))
                _ = try? bytes.withUnsafeMutableBytes { try input.read($0) }
                return (input.folder, input.name, bytes)
            }
        ),
        ("blob.tar", [("blobs/", try SHA256.hash(blob).map { String(format: "%02x", $0) }.joined(), blob)]),
        ("empty.tar", []),
    ]
    for (name, files) in bundles {
        let tar = try sealTar(files)
        try out.write("tar", name, tar)
        for (entry, bytes) in tarEntries(tar) where entry.hasSuffix(".jws") {
            try out.write("manifest", "\(name.dropLast(4)).\(entry)", bytes)
            for (i, part) in bytes.split(separator: UInt8(ascii: ".")).enumerated() {
                try out.write("base64", "\(name.dropLast(4)).\(entry).\(i)", Array(part))
            }
        }
    }

    // Key files: PKCS#8 (plain and scrypt-encrypted at the test-only cost), public keys, identities, age keys.
    let seed = try FuzzKeys.signing.seed().unprotectedArray
    let x25519 = try FuzzKeys.sealing.rawRepresentation().unprotectedArray
    let ed25519Info: [UInt8] = [0x30, 0x2E, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x04, 0x22]
    let x25519Info: [UInt8] = [0x30, 0x2E, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x6E, 0x04, 0x22]
    try out.write("keys", "ed25519.pem", PEM.encode(label: "PRIVATE KEY", der: ed25519Info + [0x04, 0x20] + seed))
    try out.write("keys", "x25519.pem", PEM.encode(label: "PRIVATE KEY", der: x25519Info + [0x04, 0x20] + x25519))
    let passphrase = SecretBytes(Array("fuzz passphrase".utf8))
    try out.write(
        "keys", "ed25519.scrypt.pem",
        try PrivateKeyFile.encode(.ed25519(FuzzKeys.signing), passphrase: passphrase, parameters: .insecureTestOnly))
    try out.write(
        "keys", "x25519.scrypt.pem",
        try PrivateKeyFile.encode(.x25519(FuzzKeys.sealing), passphrase: passphrase, parameters: .insecureTestOnly))
    try out.write("keys", "ed25519.pub.pem", try FuzzKeys.signing.publicKey.pemRepresentation())
    try out.write("keys", "x25519.pub.pem", try FuzzKeys.sealing.publicKey.pemRepresentation())
    let identityJSON = Array(FuzzKeys.identity.jsonData())
    try out.write("keys", "identity.json", identityJSON)
    try out.write("json", "identity.json", identityJSON)
    try out.write("keys", "jwk.json", Array(try JSONEncoder().encode(FuzzKeys.signing.publicKey.jwk)))
    let recipient = AgeKeyEncoding.recipient(FuzzKeys.sealing.publicKey)
    let secret = String(decoding: try AgeKeyEncoding.secretKey(FuzzKeys.sealing).unprotectedArray, as: UTF8.self)
    try out.write("keys", "age-identity.txt", "# created: synthetic\n# public key: \(recipient)\n\(secret)\n")
    try out.write("keys", "age-recipients.txt", "# synthetic\n\(recipient)\n")
    try out.write("keys", "fingerprint.txt", FuzzKeys.fingerprint)
    try out.write("bech32", "recipient", recipient)
    try out.write("bech32", "secret-key", secret)
    try out.write("bech32", "recipient-upper", recipient.uppercased())
    try out.write("bech32", "short", Bech32.encode(hrp: "a", data: []))
    try out.write("bech32", "long-hrp", Bech32.encode(hrp: "amanat-fuzz-seed", data: Array(0..<40)))
    for n in [0, 1, 2, 3, 16, 32] {
        let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 251) }
        try out.write("base64", "url-\(n)", Base64URL.encode(bytes))
        try out.write("base64", "std-\(n)", Base64.encodeUnpadded(bytes))
    }

    // age-stream programs (see that harness): byte 0 picks the parallelism, then one op per chunk.
    let programs: [(String, [UInt8])] = [
        ("empty-final", [0, 0x06, 0]),
        ("short-final", [0, 0x06, 200]),
        ("full-final", [1, 0x04]),
        ("full-then-short", [0, 0x00, 0x06, 17]),
        ("full-then-empty", [0, 0x00, 0x06, 0]),
        ("two-full-short", [1, 0x00, 0x00, 0x05, 0x12, 0x34]),
        ("no-final", [0, 0x00]),
        ("short-not-final", [0, 0x02, 10, 0x06, 10]),
        ("after-final", [0, 0x06, 5, 0x06, 5]),
        ("skipped-counter", [0, 0x00, 0x0E, 1, 9]),
        ("cut-tag", [0, 0x16, 9, 3]),
        ("raw-trailing", [0, 0x06, 9, 0x03, 4, 1, 2, 3, 4]),
        ("batch-boundary", [1] + [UInt8](repeating: 0x00, count: 32) + [0x06, 1]),
    ]
    for (name, program) in programs { try out.write("age-stream", name, program) }
}

@_cdecl("LLVMFuzzerInitialize")
public func initialize(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
    let environment = ProcessInfo.processInfo.environment
    guard let folder = environment["AMANAT_FUZZ_SEED_DIR"], let examples = environment["AMANAT_FUZZ_EXAMPLES"] else {
        fatalError("set AMANAT_FUZZ_SEED_DIR (output) and AMANAT_FUZZ_EXAMPLES (Specs/examples)")
    }
    do {
        try generate(into: URL(fileURLWithPath: folder, isDirectory: true), examples: examples)
    } catch {
        fatalError("seed generation failed: \(error)")
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt { 0 }
