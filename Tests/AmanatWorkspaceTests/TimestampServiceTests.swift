import AmanatCrypto
import AmanatTestSupport
import Foundation
import Testing

@testable import AmanatWorkspace

/// The workspace side of RFC 3161 timestamps against a local TSA served over HTTP on 127.0.0.1.
@Suite("Timestamp service", .requires(.openssl, .python3))
struct TimestampServiceTests {
    /// One local TSA with its HTTP server for the whole suite (stopped when the test process ends).
    static let tsa = Result { () throws -> LocalTSA in
        let tsa = try LocalTSA()
        try tsa.startServer()
        return tsa
    }

    static let passphrase = SecretBytes(Array("timestamp test passphrase".utf8))
    let subject = Array("amanat.example/test-log\n7\nsynthetic checkpoint\n".utf8)

    /// A fresh workspace in a temporary folder, with the local TSA on its list as `local` (unless `addTSA` is false).
    final class Fixture {
        let folder: URL
        let workspace: Workspace
        let tsa: LocalTSA

        init(addTSA: Bool = true, path: String = "/tsa", otherCA: Bool = false) throws {
            tsa = try TimestampServiceTests.tsa.get()
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("amanat-ts-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            workspace = try Workspace.create(
                at: folder, organization: "Timestamp Test Org", passphrase: TimestampServiceTests.passphrase,
                parameters: ScryptParameters(logN: 10, r: 8, p: 1)
            ).0
            if addTSA {
                _ = try workspace.addTSA(
                    name: "local", url: tsa.baseURL + path, caFile: try tsa.writeCA(into: folder, other: otherCA))
            }
        }

        deinit { try? FileManager.default.removeItem(at: folder) }

        /// The stored token files.
        func tokenFiles() -> [String] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: workspace.timestampsFolder.path)) ?? []
            return names.filter { $0.hasSuffix(".tst") }
        }
    }

    @Test("a request over HTTP is verified, stored, found again, and openssl ts -verify accepts the stored token")
    func httpRoundTrip() async throws {
        let fixture = try Fixture()
        let before = Date().addingTimeInterval(-2)
        let stored = try await fixture.workspace.requestTimestamp(
            over: subject, label: "checkpoint 7", from: try #require(fixture.workspace.tsaList().entry(named: "local")))
        #expect(stored.isNew)
        #expect(stored.info.genTime >= before)
        #expect(stored.info.tsaName == "CN=Local Test TSA,O=Amanat Test")
        #expect(stored.subjectDigest == Workspace.hex(try SHA256.hash(subject)))
        #expect(stored.tokenURL.lastPathComponent == "\(stored.subjectDigest).local.tst")
        #expect(fixture.tokenFiles().count == 1)

        let found = try fixture.workspace.tokens(for: subject)
        #expect(found.count == 1)
        #expect(found.first?.info == stored.info)
        #expect(found.first?.label == "checkpoint 7")
        #expect(try fixture.workspace.tokens(for: Array("other".utf8)).isEmpty)

        // Interop: the stock tool accepts the file we keep.
        let token = Array(try Data(contentsOf: stored.tokenURL))
        #expect(try fixture.tsa.opensslVerifies(token: token, data: subject))
        // Verification without a workspace.
        let info = try Workspace.verifyTimestamp(token: token, subject: subject, caPEMs: [fixture.tsa.caPEM])
        #expect(info == stored.info)
        #expect(throws: AmanatError.self) {
            try Workspace.verifyTimestamp(token: token, subject: subject, caPEMs: [fixture.tsa.otherCAPEM])
        }

        // Only digests are kept: the subject's bytes appear in no file under .amanat/timestamps.
        for name in try FileManager.default.contentsOfDirectory(atPath: fixture.workspace.timestampsFolder.path) {
            let data = try Data(contentsOf: fixture.workspace.timestampsFolder.appendingPathComponent(name))
            #expect(data.range(of: Data("synthetic checkpoint".utf8)) == nil, "\(name)")
        }

        // Asking again keeps the earlier token.
        let again = try await fixture.workspace.requestTimestamps(over: subject, label: "checkpoint 7")
        #expect(again.count == 1)
        guard case .success(let second) = again.first?.result else {
            Issue.record("second request failed: \(String(describing: again.first?.result))")
            return
        }
        #expect(!second.isNew)
        #expect(second.info == stored.info)
    }

    @Test(
        "HTTP failures are clear typed errors and store nothing",
        arguments: [
            ("/status500", AmanatError.Kind.ioError, "HTTP 500"),
            ("/html", .malformedInput, "text/html"),
            ("/garbage", .malformedInput, "not a usable RFC 3161 timestamp"),
            ("/huge", .malformedInput, "larger than 65536 bytes"),
        ])
    func httpFailures(path: String, kind: AmanatError.Kind, text: String) async throws {
        let fixture = try Fixture(path: path)
        let outcomes = try await fixture.workspace.requestTimestamps(over: subject, label: "checkpoint")
        guard case .failure(let error) = try #require(outcomes.first).result else {
            Issue.record("\(path): expected a failure")
            return
        }
        #expect(error.kind == kind, "\(path): \(error.message)")
        #expect(error.message.contains(text), "\(path): \(error.message)")
        #expect(error.message.contains("'local'"), "\(path): \(error.message)")
        #expect(fixture.tokenFiles().isEmpty)
    }

    @Test("a refused connection names the TSA and its URL")
    func connectionRefused() async throws {
        let fixture = try Fixture(addTSA: false)
        let url = LocalTSA.closedPortURL()
        _ = try fixture.workspace.addTSA(name: "down", url: url, caFile: try fixture.tsa.writeCA(into: fixture.folder))
        let outcomes = try await fixture.workspace.requestTimestamps(over: subject, label: "checkpoint", timeout: 5)
        guard case .failure(let error) = try #require(outcomes.first).result else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.kind == .ioError)
        #expect(error.message.contains("'down'") && error.message.contains(url), "\(error.message)")
        #expect(fixture.tokenFiles().isEmpty)
    }

    @Test("a TSA whose certificate does not chain to the listed CA is refused; nothing is stored")
    func untrustedTSA() async throws {
        let fixture = try Fixture(otherCA: true)
        let outcomes = try await fixture.workspace.requestTimestamps(over: subject, label: "checkpoint")
        guard case .failure(let error) = try #require(outcomes.first).result else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.kind == .verificationFailed, "\(error.message)")
        #expect(error.message.contains("not trusted"), "\(error.message)")
        #expect(fixture.tokenFiles().isEmpty)
    }

    @Test("the carried-file flow: request out, reply by openssl ts -reply, import")
    func carriedFiles() throws {
        let fixture = try Fixture()
        let requestPath = fixture.folder.appendingPathComponent("carry.tsq").path
        let pending = try fixture.workspace.writeTimestampRequest(
            over: subject, label: "checkpoint 7", tsa: "local", to: requestPath)
        #expect(try fixture.workspace.pendingTimestamps().map(\.nonce) == [pending.nonce])
        #expect(fixture.tokenFiles().isEmpty)
        // Writing over an existing file is refused.
        #expect(throws: AmanatError.self) {
            try fixture.workspace.writeTimestampRequest(over: subject, label: "x", tsa: nil, to: requestPath)
        }

        // A reply to someone else's request is refused and stores nothing.
        let stranger = try fixture.tsa.reply(to: try TimestampRequest(hashing: subject).der)
        let strangerPath = fixture.folder.appendingPathComponent("stranger.tsr").path
        try Data(stranger).write(to: URL(fileURLWithPath: strangerPath))
        let refused = Result { try fixture.workspace.importTimestampReply(from: strangerPath) }
        guard case .failure(let error as AmanatError) = refused, error.kind == .verificationFailed else {
            Issue.record("expected verificationFailed, got \(refused)")
            return
        }
        #expect(fixture.tokenFiles().isEmpty)

        let reply = try fixture.tsa.reply(to: Array(try Data(contentsOf: URL(fileURLWithPath: requestPath))))
        let replyPath = fixture.folder.appendingPathComponent("carry.tsr").path
        try Data(reply).write(to: URL(fileURLWithPath: replyPath))
        let stored = try fixture.workspace.importTimestampReply(from: replyPath)
        #expect(stored.info.nonce == pending.nonce)
        #expect(stored.label == "checkpoint 7")
        #expect(try fixture.workspace.pendingTimestamps().isEmpty)
        #expect(try fixture.workspace.tokens(for: subject).count == 1)
        // Importing it a second time: its request is no longer pending.
        #expect(throws: AmanatError.self) { try fixture.workspace.importTimestampReply(from: replyPath) }
    }

    @Test("an imported reply that is truncated, oversized or missing is refused; nothing is stored")
    func badImports() throws {
        let fixture = try Fixture()
        let requestPath = fixture.folder.appendingPathComponent("carry.tsq").path
        _ = try fixture.workspace.writeTimestampRequest(over: subject, label: "c", tsa: nil, to: requestPath)
        let reply = try fixture.tsa.reply(to: Array(try Data(contentsOf: URL(fileURLWithPath: requestPath))))
        let cases: [(String, [UInt8]?, AmanatError.Kind)] = [
            ("truncated.tsr", Array(reply.prefix(reply.count / 2)), .malformedInput),
            ("huge.tsr", [UInt8](repeating: 0x30, count: 70_000), .malformedInput),
            ("missing.tsr", nil, .inputMissing),
        ]
        for (name, bytes, kind) in cases {
            let path = fixture.folder.appendingPathComponent(name).path
            if let bytes { try Data(bytes).write(to: URL(fileURLWithPath: path)) }
            let result = Result { try fixture.workspace.importTimestampReply(from: path) }
            guard case .failure(let error as AmanatError) = result else {
                Issue.record("\(name): expected an AmanatError, got \(result)")
                continue
            }
            #expect(error.kind == kind, "\(name): \(error.message)")
            #expect(error.message.contains(path), "\(name): \(error.message)")
        }
        #expect(fixture.tokenFiles().isEmpty)
        #expect(try fixture.workspace.pendingTimestamps().count == 1)
    }

    @Test("the TSA list: add, list, remove, and refusals that change nothing")
    func tsaList() throws {
        let fixture = try Fixture(addTSA: false)
        let ws = fixture.workspace
        let ca = try fixture.tsa.writeCA(into: fixture.folder)
        #expect(try ws.tsaList().authorities.isEmpty)
        let entry = try ws.addTSA(name: "alpha", url: "https://tsa.example/tsr", caFile: ca)
        #expect(entry.caSubjects == ["CN=Local Test TSA Root,O=Amanat Test"])
        #expect(FileManager.default.fileExists(atPath: ws.tsaFolder.appendingPathComponent("alpha.pem").path))
        let before = try Data(contentsOf: ws.tsaListURL)
        let garbage = fixture.folder.appendingPathComponent("garbage.pem")
        try Data("not a certificate".utf8).write(to: garbage)
        let refusals: [(() throws -> Void, AmanatError.Kind)] = [
            ({ _ = try ws.addTSA(name: "alpha", url: "https://tsa.example/tsr", caFile: ca) }, .invalidRequest),
            ({ _ = try ws.addTSA(name: "../evil", url: "https://tsa.example/tsr", caFile: ca) }, .invalidRequest),
            ({ _ = try ws.addTSA(name: "beta", url: "ftp://tsa.example/", caFile: ca) }, .invalidRequest),
            ({ _ = try ws.addTSA(name: "beta", url: "https://tsa.example/", caFile: garbage.path) }, .malformedInput),
            (
                { _ = try ws.addTSA(name: "beta", url: "https://tsa.example/", caFile: "/nonexistent.pem") },
                .inputMissing
            ),
            ({ _ = try ws.removeTSA("alpah") }, .invalidRequest),
        ]
        for (index, (body, kind)) in refusals.enumerated() {
            let result = Result { try body() }
            guard case .failure(let error as AmanatError) = result else {
                Issue.record("refusal \(index): expected an AmanatError")
                continue
            }
            #expect(error.kind == kind, "refusal \(index): \(error.message)")
        }
        #expect(try Data(contentsOf: ws.tsaListURL) == before)
        let removed = try ws.removeTSA("alpha")
        #expect(removed.name == "alpha")
        #expect(try ws.tsaList().authorities.isEmpty)
    }
}
