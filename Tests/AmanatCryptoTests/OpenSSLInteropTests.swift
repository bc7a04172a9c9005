import AmanatCrypto
import Foundation
import Testing

/// Interoperability with the stock `openssl` command-line tool (OpenSSL 3.0 here and in CI), run as a subprocess
/// in a fresh temporary folder. Every test skips, with a message, only when `openssl` is not on PATH.
@Suite struct OpenSSLInteropTests {
    static let passphrase = "correct horse battery staple"

    /// The stock tool, or nil after printing why the test is skipped.
    func openssl() -> Tool? {
        if let tool = Tool.openssl { return tool }
        print("skipped: openssl is not on PATH; the OpenSSL interop tests did not run")
        return nil
    }

    /// `openssl pkey … -pubout` of `file` (PEM text), asserting success.
    func openSSLPublicKey(
        _ tool: Tool, _ file: String, in folder: TemporaryFolder, extra: [String] = []
    ) throws -> String {
        let result = try tool.run(["pkey", "-in", file, "-pubout"] + extra, in: folder.url)
        #expect(result.status == 0, "openssl pkey failed: \(result.stderr)")
        return result.output
    }

    func publicPEM(_ key: PrivateKey) throws -> String {
        switch key {
        case .ed25519(let k): return try k.publicKey.pemRepresentation()
        case .x25519(let k): return try k.publicKey.pemRepresentation()
        }
    }

    // MARK: (a) our scrypt key files, OpenSSL-compatible parameters

    @Test func opensslReadsOurOpenSSLCompatibleKeyFiles() throws {
        guard let tool = openssl() else { return }
        let folder = try TemporaryFolder()
        let keys: [PrivateKey] = [
            .ed25519(try Ed25519.SigningKey.generate()), .x25519(try X25519.PrivateKey.generate()),
        ]
        for (index, key) in keys.enumerated() {
            let pem = try PrivateKeyFile.encode(
                key, passphrase: secret(Self.passphrase), parameters: .opensslCompatible)
            try folder.write("key\(index).pem", pem)
            let theirs = try openSSLPublicKey(
                tool, "key\(index).pem", in: folder, extra: ["-passin", "pass:\(Self.passphrase)"])
            #expect(theirs == (try publicPEM(key)))
            // And a wrong passphrase is refused by OpenSSL too.
            let wrong = try tool.run(
                ["pkey", "-in", "key\(index).pem", "-passin", "pass:wrong", "-pubout"], in: folder.url)
            #expect(wrong.status != 0)
        }
    }

    // MARK: (b) our default parameters (N = 2^17): standard, but beyond OpenSSL 3.0's PKCS#8 memory cap

    @Test func defaultParameterFilesDecryptWithStockToolsStepByStep() throws {
        guard let tool = openssl() else { return }
        let folder = try TemporaryFolder()
        let signing = try Ed25519.SigningKey.generate()
        let pem = try PrivateKeyFile.encode(
            .ed25519(signing), passphrase: secret(Self.passphrase), parameters: .default)
        try folder.write("default.pem", pem)

        // Pinned OpenSSL 3.0 limitation: its PKCS#8 code caps scrypt at 32 MiB; N = 2^17, r = 8 needs 128 MiB.
        let direct = try tool.run(
            ["pkey", "-in", "default.pem", "-passin", "pass:\(Self.passphrase)", "-pubout"], in: folder.url)
        #expect(direct.status != 0)
        #expect(direct.stderr.contains("memory limit exceeded"), "stderr: \(direct.stderr)")

        // 1. The structure, through `openssl asn1parse`.
        let parsed = try tool.run(["asn1parse", "-in", "default.pem"], in: folder.url)
        #expect(parsed.status == 0)
        let lines = parsed.output.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasSuffix(":PBES2") })
        #expect(lines.contains { $0.hasSuffix(":scrypt") })
        #expect(lines.contains { $0.hasSuffix(":aes-256-cbc") })
        let integers = lines.filter { $0.contains("prim: INTEGER") }.compactMap {
            $0.split(separator: ":").last.map(String.init)
        }
        #expect(integers == ["020000", "08", "01"])  // N = 131072, r = 8, p = 1
        let octets = lines.filter { $0.contains("OCTET STRING") && $0.contains("[HEX DUMP]:") }
            .compactMap { $0.components(separatedBy: "[HEX DUMP]:").last }
        try #require(octets.count == 3, "expected salt, IV and ciphertext in: \(parsed.output)")
        let (salt, iv, ciphertext) = (octets[0], octets[1], hexBytes(octets[2]))
        #expect(hexBytes(salt).count == 16)
        #expect(hexBytes(iv).count == 16)

        // 2. The key-encryption key, through `openssl kdf … SCRYPT`.
        let kdf = try tool.run(
            [
                "kdf", "-keylen", "32", "-kdfopt", "pass:\(Self.passphrase)", "-kdfopt", "hexsalt:\(salt)",
                "-kdfopt", "n:131072", "-kdfopt", "r:8", "-kdfopt", "p:1", "-kdfopt", "maxmem_bytes:268435456",
                "SCRYPT",
            ], in: folder.url)
        #expect(kdf.status == 0, "\(kdf.stderr)")
        let kek = kdf.output.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: ":", with: "")
        #expect(hexBytes(kek).count == 32)

        // 3. The PrivateKeyInfo, through `openssl enc -d -aes-256-cbc`.
        try folder.write("ciphertext.bin", bytes: ciphertext)
        let dec = try tool.run(
            ["enc", "-d", "-aes-256-cbc", "-K", kek, "-iv", iv, "-in", "ciphertext.bin", "-out", "key.der"],
            in: folder.url)
        #expect(dec.status == 0, "\(dec.stderr)")

        // 4. The key itself, through `openssl pkey -inform DER`.
        let theirs = try openSSLPublicKey(tool, "key.der", in: folder, extra: ["-inform", "DER"])
        #expect(theirs == (try signing.publicKey.pemRepresentation()))
    }

    // MARK: (c) key files written by OpenSSL

    @Test func weReadKeysWrittenByOpenSSL() throws {
        guard let tool = openssl() else { return }
        let folder = try TemporaryFolder()
        let pass = Self.passphrase
        let commands: [(file: String, arguments: [String], passphrase: String?, isEd25519: Bool)] = [
            ("ed.pem", ["genpkey", "-algorithm", "ed25519", "-out", "ed.pem"], nil, true),
            ("x.pem", ["genpkey", "-algorithm", "x25519", "-out", "x.pem"], nil, false),
            (
                "ed-pbkdf2.pem",
                ["genpkey", "-algorithm", "ed25519", "-aes256", "-pass", "pass:\(pass)", "-out", "ed-pbkdf2.pem"], pass,
                true
            ),
            (
                "x-pbkdf2.pem",
                ["genpkey", "-algorithm", "x25519", "-aes256", "-pass", "pass:\(pass)", "-out", "x-pbkdf2.pem"], pass,
                false
            ),
            (
                "ed-scrypt.pem",
                ["pkcs8", "-topk8", "-scrypt", "-in", "ed.pem", "-passout", "pass:\(pass)", "-out", "ed-scrypt.pem"],
                pass, true
            ),
            (
                "x-scrypt.pem",
                ["pkcs8", "-topk8", "-scrypt", "-in", "x.pem", "-passout", "pass:\(pass)", "-out", "x-scrypt.pem"],
                pass, false
            ),
        ]
        for command in commands {
            let made = try tool.run(command.arguments, in: folder.url)
            try #require(made.status == 0, "openssl \(command.arguments.joined(separator: " ")): \(made.stderr)")
            let text = try folder.read(command.file)
            let key = try PrivateKeyFile.decode(pem: text, passphrase: command.passphrase.map(secret))
            switch (key, command.isEd25519) {
            case (.ed25519, true), (.x25519, false): break
            default: Issue.record("\(command.file): wrong key type")
            }
            let passin = command.passphrase.map { ["-passin", "pass:\($0)"] } ?? []
            let theirs = try openSSLPublicKey(tool, command.file, in: folder, extra: passin)
            #expect(theirs == (try publicPEM(key)), "\(command.file)")
            if command.passphrase != nil {
                #expect(throws: CryptoError.wrongPassphrase, "\(command.file)") {
                    try PrivateKeyFile.decode(pem: text, passphrase: secret("not the passphrase"))
                }
                #expect(throws: CryptoError.wrongPassphrase, "\(command.file)") {
                    try PrivateKeyFile.decode(pem: text, passphrase: nil)
                }
            }
        }
    }

    // MARK: (d) signatures and public keys

    @Test func opensslVerifiesOurSignaturesAndReadsOurPublicKeys() throws {
        guard let tool = openssl() else { return }
        let folder = try TemporaryFolder()
        let signing = try Ed25519.SigningKey.generate()
        let message = utf8("Testimony record 0007 of the invented Example Documentation Group\n")
        let ourPEM = try signing.publicKey.pemRepresentation()
        try folder.write("ourpub.pem", ourPEM)
        try folder.write("msg", bytes: message)
        try folder.write("sig", bytes: try signing.signature(for: message))
        let verify = [
            "pkeyutl", "-verify", "-pubin", "-inkey", "ourpub.pem", "-rawin", "-in", "msg", "-sigfile", "sig",
        ]
        let good = try tool.run(verify, in: folder.url)
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.output.contains("Signature Verified Successfully"))
        try folder.write("msg", bytes: message + [0x20])
        let bad = try tool.run(verify, in: folder.url)
        #expect(bad.status != 0)

        // openssl re-emits our public PEM files byte for byte.
        let x = try X25519.PrivateKey.generate()
        try folder.write("xpub.pem", try x.publicKey.pemRepresentation())
        for (file, expected) in [("ourpub.pem", ourPEM), ("xpub.pem", try x.publicKey.pemRepresentation())] {
            let read = try tool.run(["pkey", "-pubin", "-in", file], in: folder.url)
            #expect(read.status == 0, "\(read.stderr)")
            #expect(read.output == expected)
        }
    }

    @Test func weVerifyOpenSSLSignatures() throws {
        guard let tool = openssl() else { return }
        let folder = try TemporaryFolder()
        #expect(try tool.run(["genpkey", "-algorithm", "ed25519", "-out", "ed.pem"], in: folder.url).status == 0)
        let message = utf8("signed by the stock tool")
        try folder.write("msg", bytes: message)
        let signed = try tool.run(
            ["pkeyutl", "-sign", "-inkey", "ed.pem", "-rawin", "-in", "msg", "-out", "sig"], in: folder.url)
        #expect(signed.status == 0, "\(signed.stderr)")
        let signature = Array(try Data(contentsOf: folder.file("sig")))
        guard case .ed25519(let key) = try PrivateKeyFile.decode(pem: try folder.read("ed.pem"), passphrase: nil) else {
            Issue.record("not an Ed25519 key")
            return
        }
        #expect(key.publicKey.isValidSignature(signature, for: message))
        // Ed25519 is deterministic: our signature is the same bytes.
        #expect(try key.signature(for: message) == signature)
    }
}
