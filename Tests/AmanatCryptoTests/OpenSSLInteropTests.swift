import AmanatCrypto
import AmanatTestSupport
import Foundation
import Testing

/// Interoperability with the stock `openssl` command-line tool (OpenSSL 3.0 here and in CI), run as a subprocess
/// in a fresh temporary folder. Without `openssl` on PATH the suite is skipped with the install command (and fails
/// when `CI` is set).
@Suite(.requires(.openssl)) struct OpenSSLInteropTests {
    static let passphrase = "correct horse battery staple"

    /// `openssl pkey … -pubout` of `file` (PEM text), asserting success.
    func openSSLPublicKey(
        _ tool: URL, _ file: String, in folder: TemporaryFolder, extra: [String] = []
    ) throws -> String {
        let result = try Subprocess.run(tool, ["pkey", "-in", file, "-pubout"] + extra, in: folder.url)
        #expect(result.status == 0, "openssl pkey failed: \(result.stderrText)")
        return result.stdoutText
    }

    func publicPEM(_ key: PrivateKey) throws -> String {
        switch key {
        case .ed25519(let k): return try k.publicKey.pemRepresentation()
        case .x25519(let k): return try k.publicKey.pemRepresentation()
        }
    }

    // MARK: (a) our scrypt key files, OpenSSL-compatible parameters

    @Test func opensslReadsOurOpenSSLCompatibleKeyFiles() throws {
        let tool = try ExternalTool.openssl.require()
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
            let wrong = try Subprocess.run(
                tool, ["pkey", "-in", "key\(index).pem", "-passin", "pass:wrong", "-pubout"], in: folder.url)
            #expect(wrong.status != 0)
        }
    }

    // MARK: (b) our default parameters (N = 2^17): standard, but beyond OpenSSL 3.0's PKCS#8 memory cap

    @Test func defaultParameterFilesDecryptWithStockToolsStepByStep() throws {
        let tool = try ExternalTool.openssl.require()
        let folder = try TemporaryFolder()
        let signing = try Ed25519.SigningKey.generate()
        let pem = try PrivateKeyFile.encode(
            .ed25519(signing), passphrase: secret(Self.passphrase), parameters: .default)
        try folder.write("default.pem", pem)

        // Pinned OpenSSL 3.0 limitation: its PKCS#8 code caps scrypt at 32 MiB; N = 2^17, r = 8 needs 128 MiB.
        let direct = try Subprocess.run(
            tool, ["pkey", "-in", "default.pem", "-passin", "pass:\(Self.passphrase)", "-pubout"], in: folder.url)
        #expect(direct.status != 0)
        #expect(direct.stderrText.contains("memory limit exceeded"), "stderr: \(direct.stderrText)")

        // 1. The structure, through `openssl asn1parse`.
        let parsed = try Subprocess.run(tool, ["asn1parse", "-in", "default.pem"], in: folder.url)
        #expect(parsed.status == 0)
        let lines = parsed.stdoutText.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasSuffix(":PBES2") })
        #expect(lines.contains { $0.hasSuffix(":scrypt") })
        #expect(lines.contains { $0.hasSuffix(":aes-256-cbc") })
        let integers = lines.filter { $0.contains("prim: INTEGER") }.compactMap {
            $0.split(separator: ":").last.map(String.init)
        }
        #expect(integers == ["020000", "08", "01"])  // N = 131072, r = 8, p = 1
        let octets = lines.filter { $0.contains("OCTET STRING") && $0.contains("[HEX DUMP]:") }
            .compactMap { $0.components(separatedBy: "[HEX DUMP]:").last }
        try #require(octets.count == 3, "expected salt, IV and ciphertext in: \(parsed.stdoutText)")
        let (salt, iv, ciphertext) = (octets[0], octets[1], Hex.decode(octets[2]))
        #expect(Hex.decode(salt).count == 16)
        #expect(Hex.decode(iv).count == 16)

        // 2. The key-encryption key, through `openssl kdf … SCRYPT`.
        let kdf = try Subprocess.run(
            tool,
            [
                "kdf", "-keylen", "32", "-kdfopt", "pass:\(Self.passphrase)", "-kdfopt", "hexsalt:\(salt)",
                "-kdfopt", "n:131072", "-kdfopt", "r:8", "-kdfopt", "p:1", "-kdfopt", "maxmem_bytes:268435456",
                "SCRYPT",
            ], in: folder.url)
        #expect(kdf.status == 0, "\(kdf.stderrText)")
        let kek = kdf.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: ":", with: "")
        #expect(Hex.decode(kek).count == 32)

        // 3. The PrivateKeyInfo, through `openssl enc -d -aes-256-cbc`.
        try folder.write("ciphertext.bin", bytes: ciphertext)
        let dec = try Subprocess.run(
            tool, ["enc", "-d", "-aes-256-cbc", "-K", kek, "-iv", iv, "-in", "ciphertext.bin", "-out", "key.der"],
            in: folder.url)
        #expect(dec.status == 0, "\(dec.stderrText)")

        // 4. The key itself, through `openssl pkey -inform DER`.
        let theirs = try openSSLPublicKey(tool, "key.der", in: folder, extra: ["-inform", "DER"])
        #expect(theirs == (try signing.publicKey.pemRepresentation()))
    }

    // MARK: (c) key files written by OpenSSL

    @Test func weReadKeysWrittenByOpenSSL() throws {
        let tool = try ExternalTool.openssl.require()
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
            let made = try Subprocess.run(tool, command.arguments, in: folder.url)
            try #require(made.status == 0, "openssl \(command.arguments.joined(separator: " ")): \(made.stderrText)")
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
        let tool = try ExternalTool.openssl.require()
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
        let good = try Subprocess.run(tool, verify, in: folder.url)
        #expect(good.status == 0, "\(good.stderrText)")
        #expect(good.stdoutText.contains("Signature Verified Successfully"))
        try folder.write("msg", bytes: message + [0x20])
        let bad = try Subprocess.run(tool, verify, in: folder.url)
        #expect(bad.status != 0)

        // openssl re-emits our public PEM files byte for byte.
        let x = try X25519.PrivateKey.generate()
        try folder.write("xpub.pem", try x.publicKey.pemRepresentation())
        for (file, expected) in [("ourpub.pem", ourPEM), ("xpub.pem", try x.publicKey.pemRepresentation())] {
            let read = try Subprocess.run(tool, ["pkey", "-pubin", "-in", file], in: folder.url)
            #expect(read.status == 0, "\(read.stderrText)")
            #expect(read.stdoutText == expected)
        }
    }

    @Test func weVerifyOpenSSLSignatures() throws {
        let tool = try ExternalTool.openssl.require()
        let folder = try TemporaryFolder()
        #expect(
            try Subprocess.run(tool, ["genpkey", "-algorithm", "ed25519", "-out", "ed.pem"], in: folder.url).status == 0
        )
        let message = utf8("signed by the stock tool")
        try folder.write("msg", bytes: message)
        let signed = try Subprocess.run(
            tool, ["pkeyutl", "-sign", "-inkey", "ed.pem", "-rawin", "-in", "msg", "-out", "sig"], in: folder.url)
        #expect(signed.status == 0, "\(signed.stderrText)")
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
