import Foundation
import Testing

/// A throw-away RFC 3161 time-stamping authority for tests: a test CA and a TSA certificate (P-256, with
/// `extendedKeyUsage=critical,timeStamping`) made with the `openssl` command in a temporary folder, `openssl ts
/// -reply` to answer requests, and, on demand, a small HTTP server (system python3) on 127.0.0.1 that answers POSTs.
public final class LocalTSA: @unchecked Sendable {
    /// The temporary folder holding the keys, certificates, configuration and serial file.
    public let folder: URL
    /// The CA certificate (PEM) that a verifier must trust.
    public let caPEM: String
    /// A CA that did not issue the TSA certificate (PEM), for "untrusted TSA" tests.
    public let otherCAPEM: String
    private let openssl: URL
    private var server: Process?
    /// `sh` waiting for the end of its standard input to remove ``folder``: the suites keep their TSA in a static,
    /// which is never deinitialized, so the folder goes when the test process ends and closes the pipe.
    private var janitorInput: Pipe?
    private var serverInput: Pipe?
    private let lock = NSLock()

    /// The base URL of the HTTP server once ``startServer()`` ran (`http://127.0.0.1:PORT`).
    public private(set) var baseURL: String = ""

    public init() throws {
        openssl = try ExternalTool.openssl.require()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("amanat-tsa-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let janitor = Process()
        janitor.executableURL = URL(fileURLWithPath: "/bin/sh")
        janitor.arguments = ["-c", "cat > /dev/null; rm -rf \"$0\"", folder.path]
        let janitorInput = Pipe()
        janitor.standardInput = janitorInput
        janitor.standardOutput = FileHandle.nullDevice
        try janitor.run()
        self.janitorInput = janitorInput
        let dir = folder.path
        try Self.write(
            """
            [ tsa ]
            default_tsa = tsa_config
            [ tsa_config ]
            dir = \(dir)
            serial = $dir/serial
            crypto_device = builtin
            signer_cert = $dir/tsa.pem
            signer_key = $dir/tsa.key
            signer_digest = sha256
            default_policy = 1.3.6.1.4.1.55555.1.1
            digests = sha256, sha384, sha512
            accuracy = secs:1
            ordering = no
            tsa_name = yes
            ess_cert_id_chain = no
            ess_cert_id_alg = sha256

            """, to: folder.appendingPathComponent("tsa.cnf"))
        try Self.write(
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                + "extendedKeyUsage=critical,timeStamping\n", to: folder.appendingPathComponent("tsa-ext.cnf"))
        try Self.write("01\n", to: folder.appendingPathComponent("serial"))
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        for (name, subject) in [("ca", "/O=Amanat Test/CN=Local Test TSA Root"), ("other", "/O=Elsewhere/CN=Other CA")]
        {
            try Self.run(
                openssl,
                ["req", "-x509"] + ec + [
                    "-keyout", "\(dir)/\(name).key", "-out", "\(dir)/\(name).pem", "-days", "2", "-subj", subject,
                    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                ], in: folder)
        }
        try Self.run(
            openssl,
            ["req", "-new"] + ec + [
                "-keyout", "\(dir)/tsa.key", "-out", "\(dir)/tsa.csr", "-subj", "/O=Amanat Test/CN=Local Test TSA",
            ], in: folder)
        try Self.run(
            openssl,
            [
                "x509", "-req", "-in", "\(dir)/tsa.csr", "-CA", "\(dir)/ca.pem", "-CAkey", "\(dir)/ca.key",
                "-set_serial",
                "7", "-days", "2", "-out", "\(dir)/tsa.pem", "-extfile", "\(dir)/tsa-ext.cnf",
            ], in: folder)
        caPEM = try String(contentsOf: folder.appendingPathComponent("ca.pem"), encoding: .utf8)
        otherCAPEM = try String(contentsOf: folder.appendingPathComponent("other.pem"), encoding: .utf8)
    }

    deinit {
        stopServer()
        try? FileManager.default.removeItem(at: folder)
        try? janitorInput?.fileHandleForWriting.close()
    }

    /// Writes `caPEM` to a file in `directory` and returns its path.
    public func writeCA(into directory: URL, name: String = "tsa-ca.pem", other: Bool = false) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data((other ? otherCAPEM : caPEM).utf8).write(to: url)
        return url.path
    }

    /// `openssl ts -reply` to a DER request: the DER reply.
    public func reply(to query: [UInt8]) throws -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        let queryURL = folder.appendingPathComponent("query-\(UUID().uuidString).tsq")
        let replyURL = folder.appendingPathComponent("reply-\(UUID().uuidString).tsr")
        defer {
            try? FileManager.default.removeItem(at: queryURL)
            try? FileManager.default.removeItem(at: replyURL)
        }
        try Data(query).write(to: queryURL)
        try run([
            "ts", "-reply", "-queryfile", queryURL.path, "-config", folder.appendingPathComponent("tsa.cnf").path,
            "-out", replyURL.path,
        ])
        return Array(try Data(contentsOf: replyURL))
    }

    /// `openssl ts -query` over `data` with the given digest option (`-sha256`, `-sha512`), with a nonce and -cert.
    public func query(over data: [UInt8], digest: String = "-sha256") throws -> [UInt8] {
        let dataURL = folder.appendingPathComponent("data-\(UUID().uuidString)")
        let queryURL = folder.appendingPathComponent("query-\(UUID().uuidString).tsq")
        defer {
            try? FileManager.default.removeItem(at: dataURL)
            try? FileManager.default.removeItem(at: queryURL)
        }
        try Data(data).write(to: dataURL)
        try run(["ts", "-query", "-data", dataURL.path, digest, "-cert", "-out", queryURL.path])
        return Array(try Data(contentsOf: queryURL))
    }

    /// `openssl ts -verify` of a stored token over `data`, trusting this TSA's CA: true when it prints OK.
    public func opensslVerifies(token: [UInt8], data: [UInt8]) throws -> Bool {
        let tokenURL = folder.appendingPathComponent("token-\(UUID().uuidString).der")
        let dataURL = folder.appendingPathComponent("data-\(UUID().uuidString)")
        defer {
            try? FileManager.default.removeItem(at: tokenURL)
            try? FileManager.default.removeItem(at: dataURL)
        }
        try Data(token).write(to: tokenURL)
        try Data(data).write(to: dataURL)
        let result = try Subprocess.run(
            openssl,
            [
                "ts", "-verify", "-in", tokenURL.path, "-token_in", "-data", dataURL.path, "-CAfile",
                folder.appendingPathComponent("ca.pem").path,
            ])
        return result.status == 0 && result.stdoutText.contains("Verification: OK")
    }

    /// Starts the HTTP server on a free port of 127.0.0.1. Paths: `/tsa` answers with `openssl ts -reply`
    /// (`application/timestamp-reply`), `/status500` with HTTP 500, `/html` with a 200 web page, `/garbage` with
    /// 200 and random bytes typed as a reply, `/huge` with 200 and 100 KiB. The server exits when this object goes
    /// away or the test process ends (it watches its standard input).
    public func startServer() throws {
        let python = try ExternalTool.python3.require()
        let script = folder.appendingPathComponent("server.py")
        try Self.write(Self.serverScript, to: script)
        let process = Process()
        process.executableURL = python
        process.arguments = [
            script.path, openssl.path, folder.appendingPathComponent("tsa.cnf").path, folder.path,
        ]
        let output = Pipe()
        let input = Pipe()
        process.standardOutput = output
        process.standardInput = input
        process.standardError = FileHandle.nullDevice
        try process.run()
        server = process
        serverInput = input
        var line = Data()
        let handle = output.fileHandleForReading
        while !line.contains(0x0A) {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            stopServer()
            throw ServerError(message: "the local TSA server did not report a port")
        }
        baseURL = "http://127.0.0.1:\(port)"
    }

    /// Stops the HTTP server.
    public func stopServer() {
        guard let server else { return }
        try? serverInput?.fileHandleForWriting.close()
        if server.isRunning { server.terminate() }
        server.waitUntilExit()
        self.server = nil
        serverInput = nil
    }

    /// A URL of 127.0.0.1 on which nothing listens (a port bound and released).
    public static func closedPortURL() -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return "http://127.0.0.1:\(UInt16(bigEndian: address.sin_port))/tsa"
    }

    struct ServerError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    private func run(_ arguments: [String]) throws { try Self.run(openssl, arguments, in: folder) }

    private static func run(_ openssl: URL, _ arguments: [String], in folder: URL) throws {
        let result = try Subprocess.run(openssl, arguments, in: folder)
        guard result.status == 0 else {
            throw ServerError(
                message: "openssl \(arguments.prefix(2).joined(separator: " ")) failed: \(result.stderrText)")
        }
    }

    private static func write(_ text: String, to url: URL) throws {
        try Data(text.utf8).write(to: url)
    }

    private static let serverScript = #"""
        import http.server, os, subprocess, sys, tempfile, threading

        openssl, config, folder = sys.argv[1], sys.argv[2], sys.argv[3]
        lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, status, content_type, body):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path == "/status500":
                    return self.answer(500, "text/plain", b"internal error")
                if self.path == "/html":
                    return self.answer(200, "text/html", b"<html>captive portal</html>")
                if self.path == "/garbage":
                    return self.answer(200, "application/timestamp-reply", os.urandom(300))
                if self.path == "/huge":
                    return self.answer(200, "application/timestamp-reply", b"\x30" * (100 * 1024))
                if self.headers.get("Content-Type") != "application/timestamp-query":
                    return self.answer(415, "text/plain", b"wrong content type")
                with lock, tempfile.NamedTemporaryFile(dir=folder, suffix=".tsq") as query:
                    query.write(body)
                    query.flush()
                    result = subprocess.run(
                        [openssl, "ts", "-reply", "-queryfile", query.name, "-config", config],
                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
                if result.returncode != 0:
                    return self.answer(500, "text/plain", b"openssl failed")
                self.answer(200, "application/timestamp-reply", result.stdout)

        def watch_stdin():
            sys.stdin.buffer.read()
            os._exit(0)

        server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=watch_stdin, daemon=True).start()
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """#
}
