import AmanatCrypto
import AmanatLog
import AmanatTestSupport
import Foundation
import Testing

/// AmanatLog against Go's golang.org/x/mod/sumdb/note and sumdb/tlog, through the small program in
/// `Tests/GoInterop/tlogcheck`, in both directions: notes and checkpoints we sign open with `note.Open`, notes Go
/// signs verify here; our proofs pass `tlog.CheckRecord` / `tlog.CheckTree` and Go's proofs pass ours.
@Suite(.requires(.go)) struct GoInteropTests {
    /// The tlogcheck binary: `.build-go/tlogcheck` if CI built it, else built once into a temporary folder.
    static let tool: Result<URL, Error> = {
        let prebuilt = PackagePaths.url(".build-go/tlogcheck")
        if FileManager.default.isExecutableFile(atPath: prebuilt.path) { return .success(prebuilt) }
        do {
            let go = try #require(ExternalTool.go.url)
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("amanat-tlogcheck-\(getpid())")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let output = folder.appendingPathComponent("tlogcheck")
            var environment = ProcessInfo.processInfo.environment
            environment["GO111MODULE"] = "off"
            environment["GOPATH"] = "/usr/share/gocode"
            environment["GOCACHE"] = folder.appendingPathComponent("cache").path
            let result = try Subprocess.run(
                go, ["build", "-o", output.path, "./Tests/GoInterop/tlogcheck"], in: PackagePaths.root,
                environment: environment)
            // The build cache is large and of no further use; the binary (a few MB) stays for this process.
            try? FileManager.default.removeItem(at: folder.appendingPathComponent("cache"))
            guard result.status == 0 else { throw GoBuildFailed(message: result.stderrText) }
            return .success(output)
        } catch {
            return .failure(error)
        }
    }()

    struct GoBuildFailed: Error, CustomStringConvertible {
        let message: String
        var description: String { "building tlogcheck failed: \(message)" }
    }

    /// Runs tlogcheck; returns stdout, after expecting exit status `status`.
    @discardableResult
    func run(
        _ arguments: [String], status: Int32 = 0, sourceLocation: SourceLocation = #_sourceLocation
    ) throws
        -> String
    {
        let result = try Subprocess.run(Self.tool.get(), arguments)
        #expect(
            result.status == status, "tlogcheck \(arguments.first ?? ""): \(result.stderrText)",
            sourceLocation: sourceLocation)
        return result.stdoutText
    }

    func temporaryFile(_ bytes: [UInt8]) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("amanat-tlog-\(UUID().uuidString)")
        try Data(bytes).write(to: url)
        return url.path
    }

    static func key(_ label: String) throws -> Ed25519.SigningKey {
        try Ed25519.SigningKey(seed: SecretBytes(SHA256.hash(Array(label.utf8))))
    }

    @Test func swiftSignedCheckpointOpensInGo() throws {
        var storage = InMemoryLogHashStorage()
        for index in 0..<5 {
            try LogTree.append(leafHash: MerkleHash.leaf([UInt8(index)]), at: UInt64(index), to: &storage)
        }
        let checkpoint = try Checkpoint(
            origin: "amanat.log/TEST-ORG", size: 5, rootHash: LogTree.rootHash(size: 5, in: storage))
        let signer = try NoteSigner(name: checkpoint.origin, key: Self.key("log"))
        let witnessKey = try Self.key("witness")
        let cosignature = try Cosignature.make(
            for: checkpoint, name: "partner.example/w", key: witnessKey, time: 1_700_000_000)
        let note = try signer.sign(text: checkpoint.body).adding(cosignature)
        let file = try temporaryFile(note.serialized)
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(try run(["verify-note", signer.verifier.verifierKey, file]) == checkpoint.body)
        // Go's own cosignature verifier (type 0x04, written from the spec in the Go program) agrees.
        let timestamp = try run([
            "verify-cosignature", "partner.example/w", NoteText.base64(witnessKey.publicKey.rawRepresentation), file,
        ])
        #expect(timestamp == "1700000000\n")
        // A changed byte in the text makes Go refuse it.
        var tampered = note.serialized
        tampered[tampered.firstIndex(of: UInt8(ascii: "5"))!] = UInt8(ascii: "6")
        let tamperedFile = try temporaryFile(tampered)
        defer { try? FileManager.default.removeItem(atPath: tamperedFile) }
        try run(["verify-note", signer.verifier.verifierKey, tamperedFile], status: 1)
        try run(
            [
                "verify-cosignature", "partner.example/w", NoteText.base64(witnessKey.publicKey.rawRepresentation),
                tamperedFile,
            ], status: 1)
    }

    @Test func goSignedNoteVerifiesInSwift() throws {
        let keys = try run(["keygen", "go.example/log"]).split(separator: "\n").map(String.init)
        #expect(keys.count == 2)
        let verifier = try NoteVerifier(verifierKey: keys[1])
        #expect(verifier.name == "go.example/log")
        #expect(verifier.verifierKey == keys[1])
        let body = try Checkpoint(origin: "go.example/log", size: 3, rootHash: MerkleHash.emptyTree).body
        let textFile = try temporaryFile(Array(body.utf8))
        defer { try? FileManager.default.removeItem(atPath: textFile) }
        let signed = try run(["sign-note", keys[0], textFile])
        let note = try SignedNote(parsing: Array(signed.utf8))
        #expect(note.serialized == Array(signed.utf8))
        #expect(verifier.verify(note))
        #expect(try Checkpoint(parsing: note.text).size == 3)
        let other = try NoteVerifier(
            verifierKey: try run(["keygen", "go.example/log"]).split(separator: "\n")[1].description)
        #expect(!other.verify(note))
    }

    @Test func goProofsVerifyInSwiftAndMatchOurs() throws {
        let size = 40
        var storage = InMemoryLogHashStorage()
        for index in 0..<size {
            try LogTree.append(leafHash: MerkleHash.leaf(Array("leaf \(index)".utf8)), at: UInt64(index), to: &storage)
        }
        var roots: [UInt64: LogHash] = [:]
        var counts = (roots: 0, inclusion: 0, consistency: 0)
        for line in try run(["make-proofs", String(size)]).split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            let a = try #require(UInt64(fields[1]))
            let b = UInt64(fields[2]) ?? 0  // the second number of proof lines (a hash on root lines)
            switch fields[0] {
            case "root":
                let root = Hex.decode(fields[2])
                #expect(try LogTree.rootHash(size: a, in: storage) == root, "root \(a)")
                roots[a] = root
                counts.roots += 1
            case "inclusion":
                let proof = fields.dropFirst(3).map(Hex.decode)
                #expect(try LogTree.inclusionProof(index: b, size: a, in: storage) == proof, "\(line)")
                let leaf = try MerkleHash.leaf(Array("leaf \(b)".utf8))
                #expect(
                    LogTree.verifyInclusion(leafHash: leaf, index: b, size: a, proof: proof, rootHash: roots[a]!))
                counts.inclusion += 1
            case "consistency":
                let proof = fields.dropFirst(3).map(Hex.decode)
                #expect(try LogTree.consistencyProof(from: a, to: b, in: storage) == proof, "\(line)")
                #expect(
                    LogTree.verifyConsistency(
                        oldSize: a, newSize: b, oldRoot: roots[a]!, newRoot: roots[b]!, proof: proof))
                counts.consistency += 1
            default:
                Issue.record("unexpected line \(line)")
            }
        }
        #expect(counts.roots == size)
        #expect(counts.inclusion == size * (size + 1) / 2)
        #expect(counts.consistency == size * (size + 1) / 2)
    }

    @Test func swiftProofsVerifyInGo() throws {
        var random = SplitMix64(seed: 6962)
        var storage = InMemoryLogHashStorage()
        var leaves: [LogHash] = []
        for index in 0..<300 {
            let leaf = try MerkleHash.leaf(random.bytes(1 + index % 50))
            leaves.append(leaf)
            try LogTree.append(leafHash: leaf, at: UInt64(index), to: &storage)
        }
        var lines: [String] = []
        func hex(_ hashes: [LogHash]) -> String { hashes.map { " " + Hex.encode($0) }.joined() }
        for _ in 0..<150 {
            let size = 1 + random.next() % 300
            let index = random.next() % size
            let old = 1 + random.next() % size
            let root = try LogTree.rootHash(size: size, in: storage)
            let oldRoot = try LogTree.rootHash(size: old, in: storage)
            let inclusion = try LogTree.inclusionProof(index: index, size: size, in: storage)
            let leaf = Hex.encode(leaves[Int(index)])
            lines.append("inclusion ok \(size) \(index) \(leaf) \(Hex.encode(root))\(hex(inclusion))")
            if !inclusion.isEmpty {
                var bad = inclusion
                bad[0][0] ^= 0x80
                lines.append("inclusion bad \(size) \(index) \(leaf) \(Hex.encode(root))\(hex(bad))")
            }
            let consistency = try LogTree.consistencyProof(from: old, to: size, in: storage)
            lines.append("consistency ok \(old) \(size) \(Hex.encode(oldRoot)) \(Hex.encode(root))\(hex(consistency))")
            if !consistency.isEmpty {
                var bad = consistency
                bad[bad.count - 1][31] ^= 1
                lines.append("consistency bad \(old) \(size) \(Hex.encode(oldRoot)) \(Hex.encode(root))\(hex(bad))")
            }
        }
        let file = try temporaryFile(Array((lines.joined(separator: "\n") + "\n").utf8))
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(try run(["check-proofs", file]) == "checked \(lines.count)\n")
        #expect(lines.count > 400)
    }
}

/// Padded standard base64, for the Go program's arguments.
enum NoteText {
    static func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }
}
